/**
 * Where a server keeps its master maps. The registry holds the maps it serves
 * in memory and tells the storage about every change before any client can
 * see it; `MemoryStorage` (the default) keeps nothing beyond those objects,
 * like the Rust server. A durable store (@syncstate/storage-sqlite) implements the same
 * interface; the contract below is what it has to honour:
 *
 * - `create` resolves once the new map (its pairs, update id, history) is
 *   stored; only then is InitSuccess answered and the map visible.
 * - `append` receives every change of a map in order, with contiguous update
 *   ids (each change's `fromUpdateId` is the previous `uptoUpdateId`); reads of
 *   that map wait until it resolves, so nothing unstored is ever visible.
 *   If it rejects, the map is withdrawn from service (requests for it are
 *   closed without an answer) rather than showing changes that may be lost.
 * - Update ids are never reused: after a restart `load` returns the map with
 *   the update id and history it had, so clients' ids stay meaningful.
 * - `trim` may forget history entries older than the given update id (bounded
 *   history); requests from before that point are answered with a full diff.
 *
 * - `peek` (optional) tells a stored map's update id without loading it, so
 *   a GetUpdateId is answered at once while a big map loads (after a
 *   restart, a million pairs take a second or two).
 *
 * Hashes are the 32-byte map identities; `hashHex` is the same in lowercase
 * hex, handy as a key.
 */
import type { Diff, StateMap } from '@syncstate/core';

export interface MapStorage<K, V> {
  /** The stored map with this hash, frozen and master, or undefined. Called once per hash not yet in memory. */
  load(hash: Uint8Array, hashHex: string): Promise<StateMap<K, V> | undefined>;
  /** The stored update id of a map, or undefined if none is stored; without loading the map. */
  peek?(hash: Uint8Array, hashHex: string): Promise<{ updateId: bigint } | undefined>;
  /** Stores a new map (frozen, master, init hooks already run). Never called twice for one hash. */
  create(hash: Uint8Array, hashHex: string, map: StateMap<K, V>): Promise<void>;
  /** Stores the changes hooks made to a map, oldest first. */
  append(hash: Uint8Array, hashHex: string, changes: readonly Diff<K, V>[]): Promise<void>;
  /** History entries whose `uptoUpdateId` is at or below `upto` may be forgotten. */
  trim(hash: Uint8Array, hashHex: string, upto: bigint): Promise<void>;
  /** Releases resources; called once by the server's `close()` after all work is done. */
  close(): Promise<void>;
}

/** Keeps maps in memory only; everything is lost when the process ends (as with the Rust server). */
export class MemoryStorage<K, V> implements MapStorage<K, V> {
  readonly #maps = new Map<string, StateMap<K, V>>();

  get size(): number {
    return this.#maps.size;
  }

  load(_hash: Uint8Array, hashHex: string): Promise<StateMap<K, V> | undefined> {
    return Promise.resolve(this.#maps.get(hashHex));
  }

  create(_hash: Uint8Array, hashHex: string, map: StateMap<K, V>): Promise<void> {
    this.#maps.set(hashHex, map);
    return Promise.resolve();
  }

  // The map object itself already holds its changes and history.
  append(_hash: Uint8Array, _hashHex: string, _changes: readonly Diff<K, V>[]): Promise<void> {
    return Promise.resolve();
  }

  trim(_hash: Uint8Array, _hashHex: string, _upto: bigint): Promise<void> {
    return Promise.resolve();
  }

  close(): Promise<void> {
    return Promise.resolve();
  }
}
