/**
 * A store in memory: the reference implementation of the contract, and a
 * store that outlives a server inside one process (tests, an embedded
 * server restarted in place). Everything is lost when the process ends.
 * A server given no storage at all keeps its maps only in its own memory,
 * as the Rust server does, without this second copy.
 */
import type { MapCommit, MapStorage, StoredMap } from './contract.js';
import { StorageError } from './errors.js';
import { checkCommit } from './check.js';

interface Held<K, V> {
  readonly hash: Uint8Array;
  readonly keys: readonly K[];
  readonly values: V[];
  updateId: bigint;
  history: StoredMap<K, V>['history'][number][];
}

export class MemoryStorage<K, V> implements MapStorage<K, V> {
  readonly #maps = new Map<string, Held<K, V>>();
  #closed = false;

  /** Number of stored maps. */
  get size(): number {
    return this.#maps.size;
  }

  load(_hash: Uint8Array, hashHex: string): Promise<StoredMap<K, V> | undefined> {
    return this.#do(() => {
      const held = this.#maps.get(hashHex);
      if (held === undefined) return undefined;
      const { hash, keys, values, updateId, history } = held;
      return { hash: hash.slice(), keys: keys.slice(), values: values.slice(), updateId, history: history.slice() };
    });
  }

  peek(_hash: Uint8Array, hashHex: string): Promise<{ updateId: bigint } | undefined> {
    return this.#do(() => {
      const held = this.#maps.get(hashHex);
      return held === undefined ? undefined : { updateId: held.updateId };
    });
  }

  create(hash: Uint8Array, hashHex: string, map: StoredMap<K, V>): Promise<void> {
    return this.#do(() => {
      if (this.#maps.has(hashHex)) throw new StorageError('duplicate-map', `map ${hashHex} is stored already`);
      // Copies: commits change `values` in place, and a freeze entry may share the caller's array.
      this.#maps.set(hashHex, {
        hash: hash.slice(),
        keys: map.keys.slice(),
        values: map.values.slice(),
        updateId: map.updateId,
        history: map.history.slice(),
      });
    });
  }

  commit(_hash: Uint8Array, hashHex: string, commit: MapCommit<K, V>): Promise<void> {
    return this.#do(() => {
      const held = this.#maps.get(hashHex);
      if (held === undefined) throw new StorageError('unknown-map', `map ${hashHex} was never created`);
      checkCommit(hashHex, held.updateId, held.keys.length, commit);
      for (const { slot, value } of commit.changed) held.values[slot] = value;
      held.history.push(...commit.entries);
      held.updateId = commit.updateId;
      const { floor } = commit;
      if (floor !== undefined) {
        let drop = 0;
        while (drop < held.history.length && held.history[drop]!.uptoUpdateId <= floor) drop++;
        if (drop > 0) held.history = held.history.slice(drop);
      }
    });
  }

  close(): Promise<void> {
    this.#closed = true;
    this.#maps.clear();
    return Promise.resolve();
  }

  #do<T>(fn: () => T): Promise<T> {
    if (this.#closed) return Promise.reject(new StorageError('closed', 'the memory storage is closed'));
    try {
      return Promise.resolve(fn());
    } catch (err) {
      return Promise.reject(err);
    }
  }
}
