/**
 * The map as one hook run sees it. A hook cannot be stopped, only no longer
 * awaited (hookTimeoutMs), so the map itself is not handed out: a hook gets a
 * handle that forwards to the map during its run and refuses everything
 * afterwards, with HookExpiredError. Without it, a timed-out hook could change
 * a map in the middle of a later event's turn, or after the changes were
 * stored and a read has seen them.
 */
import type { StateMap } from '@syncstate-ts/core';
import { HookExpiredError } from '../errors.js';

export interface HookRun<K, V> {
  readonly map: StateMap<K, V>;
  /** Ends the run: from now on every use of `map` (and of modifications begun on it) throws. */
  expire(): void;
}

/** `onFirstLateUse` runs once, at the first refused use (for logs and metrics). */
export function startHookRun<K, V>(map: StateMap<K, V>, what: string, onFirstLateUse: (err: HookExpiredError) => void): HookRun<K, V> {
  let active = true;
  let reported = false;
  const check = (): void => {
    if (active) return;
    const err = new HookExpiredError(what);
    if (!reported) {
      reported = true;
      onFirstLateUse(err);
    }
    throw err;
  };
  return {
    map: guarded(map, check),
    expire: () => {
      active = false;
    },
  };
}

/**
 * Forwards property reads and method calls to `target` (with `target` as
 * `this`: its private fields are not on the proxy) after `check()`; objects
 * returned by `beginModification` are guarded the same way.
 */
function guarded<T extends object>(target: T, check: () => void): T {
  const methods = new Map<PropertyKey, (...args: unknown[]) => unknown>();
  const proxy: T = new Proxy(target, {
    get(object, property) {
      check();
      const value: unknown = Reflect.get(object, property, object);
      if (typeof value !== 'function') return value;
      let method = methods.get(property);
      if (method === undefined) {
        const call = (...args: unknown[]): unknown => {
          check();
          const result: unknown = Reflect.apply(value, object, args);
          return result === object ? proxy : result; // chaining (`modification.set(...).set(...)`) stays guarded
        };
        method = property === 'beginModification' ? (...args) => guarded(call(...args) as object, check) : call;
        methods.set(property, method);
      }
      return method;
    },
    set() {
      throw new TypeError('a hook cannot assign properties of its map');
    },
  });
  return proxy;
}
