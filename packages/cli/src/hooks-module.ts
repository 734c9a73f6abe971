/**
 * `serve --hooks module.js`: the user's event schema and hooks, loaded in
 * place of the built-in key-value events.
 *
 * The module's default export is either the definition or a function that
 * returns it (sync or async) and receives this package's building blocks, so
 * a module needs no dependency of its own:
 *
 *   // hooks.mjs
 *   export default ({ t }) => ({
 *     event: t.enumOf({ Add: t.tuple(t.string, t.i64) }),
 *     hooks: [(map, event) => {
 *       const [key, n] = event.value;
 *       map.set(key, String(BigInt(map.get(key) ?? '0') + n));
 *     }],
 *     initHooks: [(map) => { if (map.size > 1000) throw new Error('at most 1000 keys'); }],
 *   });
 *
 * Without a default export, the named exports `event`, `hooks` and
 * `initHooks` are read instead. Maps are String → String, as for the
 * built-in schema.
 */
import { isAbsolute, resolve } from 'node:path';
import { pathToFileURL } from 'node:url';
import * as codec from '@syncstate-ts/codec';
import type { Schema } from '@syncstate-ts/codec';
import * as core from '@syncstate-ts/core';
import type { EventHook, InitHook } from '@syncstate-ts/server';
import { usageError } from './exit-codes.js';
import { kvEvent, kvHook } from './kv.js';

/** What a hooks module defines. */
export interface HooksDefinition<E> {
  /** Schema of the events clients send (bincode, e.g. `t.enumOf({...})`). */
  event: Schema<E>;
  /** Run in order for every event of a map, after the client got EventInProcess. */
  hooks?: readonly EventHook<string, string, E>[];
  /** Run in order when a map is created; throwing refuses it (InitFailure with the message). */
  initHooks?: readonly InitHook<string, string>[];
}

/** Handed to a module whose default export is a function. */
export interface HooksApi {
  /** @syncstate-ts/codec's schemas. */
  t: typeof codec.t;
  codec: typeof codec;
  core: typeof core;
  /** The built-in schema and hook, to extend or wrap. */
  kvEvent: typeof kvEvent;
  kvHook: typeof kvHook;
}

export type HooksModuleExport<E> =
  | HooksDefinition<E>
  | ((api: HooksApi) => HooksDefinition<E> | Promise<HooksDefinition<E>>);

/** Identity function that gives a hooks module's definition its types. */
export function defineHooks<E>(definition: HooksModuleExport<E>): HooksModuleExport<E> {
  return definition;
}

export const hooksApi: HooksApi = { t: codec.t, codec, core, kvEvent, kvHook };

export async function loadHooksModule(path: string): Promise<HooksDefinition<unknown>> {
  const url = pathToFileURL(isAbsolute(path) ? path : resolve(path)).href;
  let mod: Record<string, unknown>;
  try {
    mod = (await import(url)) as Record<string, unknown>;
  } catch (err) {
    const e = err as NodeJS.ErrnoException;
    if (e.code === 'ERR_MODULE_NOT_FOUND' && e.message.includes(path.replace(/^\.\//, ''))) {
      throw usageError(`--hooks ${path}: no such file`, { cause: err });
    }
    if (e.code === 'ERR_UNKNOWN_FILE_EXTENSION') {
      throw usageError(`--hooks ${path}: Node cannot load this file type; give a JavaScript module (.mjs or .js)`, { cause: err });
    }
    throw usageError(`--hooks ${path} failed to load: ${e.message}`, { cause: err });
  }
  let definition: unknown = 'default' in mod ? mod.default : mod;
  if (typeof definition === 'function') {
    try {
      definition = await (definition as (api: HooksApi) => unknown)(hooksApi);
    } catch (err) {
      throw usageError(`--hooks ${path}: its default export threw: ${(err as Error).message}`, { cause: err });
    }
  }
  return checkDefinition(definition, path);
}

function checkDefinition(value: unknown, path: string): HooksDefinition<unknown> {
  const fail = (what: string): never => {
    throw usageError(`--hooks ${path}: ${what} (see \`syncstate serve --help\` for the module's shape)`);
  };
  if (value === null || typeof value !== 'object') return fail('exports no definition object');
  const { event, hooks, initHooks } = value as Record<string, unknown>;
  const isSchema = (s: unknown): boolean =>
    s !== null && typeof s === 'object' && typeof (s as Schema<unknown>).read === 'function' && typeof (s as Schema<unknown>).write === 'function';
  if (!isSchema(event)) fail('`event` must be a @syncstate-ts/codec schema, e.g. t.enumOf({...})');
  const checkList = (list: unknown, name: string): void => {
    if (list === undefined) return;
    if (!Array.isArray(list) || !list.every((f) => typeof f === 'function')) fail(`\`${name}\` must be an array of functions`);
  };
  checkList(hooks, 'hooks');
  checkList(initHooks, 'initHooks');
  return value as HooksDefinition<unknown>;
}
