/**
 * The storage contract: what a syncstate server persists of each map it
 * serves, and what a store promises about it. The server's registry builds
 * these records; a store keeps them and gives them back. A store never sees
 * a StateMap, hooks or requests: it can be written, and checked
 * (`@syncstate-ts/testkit`'s store-conformance suite), against this file alone.
 *
 * A master map is fully described by:
 * - its hash (the identity clients name it by, taken at freeze);
 * - its pairs in push order (full diffs list them in this order; slot i is
 *   the i-th pushed key). Keys never change after creation, only values;
 * - its update id;
 * - its history: one entry per update id, contiguous, oldest first
 *   (docs/protocol.md, "Master map semantics"). The first entry of a new map
 *   is the full diff of freeze (0 -> 0); a bounded history (maxHistory)
 *   drops the oldest entries, below the history floor.
 *
 * Hashes are 32 bytes; `hashHex` is the same in lowercase hex, handy as a key.
 */
import type { Diff } from '@syncstate-ts/core';

/** A map as stored: everything needed to serve it again after a restart. */
export interface StoredMap<K, V> {
  /** The 32-byte hash taken at freeze (it covers the values at freeze, so it cannot be recomputed). */
  readonly hash: Uint8Array;
  /** Keys in push order. */
  readonly keys: readonly K[];
  /** Current values, `values[i]` belonging to `keys[i]`. */
  readonly values: readonly V[];
  readonly updateId: bigint;
  /**
   * History entries, oldest first, contiguous (each `fromUpdateId` is the
   * previous entry's `uptoUpdateId`), the last ending at `updateId`.
   */
  readonly history: readonly Diff<K, V>[];
}

/** One write to a stored map: the updates since the store's update id, applied all or nothing. */
export interface MapCommit<K, V> {
  /** The update id the store holds before this commit (what `create` or the previous commit left). */
  readonly fromUpdateId: bigint;
  /** The update id after it. */
  readonly updateId: bigint;
  /** One history entry per update, contiguous from `fromUpdateId` to `updateId`, oldest first. */
  readonly entries: readonly Diff<K, V>[];
  /** The last value each changed key got in these entries, with the key's slot (push index). */
  readonly changed: readonly ChangedPair<K, V>[];
  /**
   * History entries whose `uptoUpdateId` is at or below this may be forgotten
   * (the server's maxHistory); undefined: keep all. It only ever rises. A
   * store may forget them later than asked (entries it still has answer as
   * the server's bounded history does), never earlier.
   */
  readonly floor: bigint | undefined;
}

export interface ChangedPair<K, V> {
  readonly slot: number;
  readonly key: K;
  readonly value: V;
}

/**
 * Where a server keeps its maps. The registry serves maps from memory and
 * hands a store every change before any client can see it:
 *
 * - `create` resolves once the new map is stored; only then is InitSuccess
 *   answered and the map visible. It rejects (code 'duplicate-map') for a
 *   hash already stored.
 * - `commit` applies one MapCommit atomically: after a crash the store holds
 *   the map as before the commit or as after it, never in between. It
 *   rejects with code 'out-of-order' when `fromUpdateId` is not the stored
 *   update id, and 'unknown-map' for a hash never created. Reads of the map
 *   wait until it resolves, so nothing unstored is ever visible; if it
 *   rejects, the server withdraws the map from service rather than show
 *   changes that may be lost.
 * - `load` gives back the map as the last resolved `create`/`commit` left
 *   it (its history possibly still holding entries at or below the floor).
 *   Update ids are never reused: after a restart clients' ids stay
 *   meaningful.
 * - `peek` (optional) tells a stored map's update id without loading it, so
 *   a GetUpdateId is answered at once while a big map loads.
 * - After `close` resolves, every call rejects with code 'closed'.
 *
 * Callers never change a record they passed in or got back. A store keeps
 * no reference through which a change to a record it returned would reach
 * what it stores (concurrent loads of one map may share one record).
 */
export interface MapStorage<K, V> {
  /**
   * true: a resolved `create` or `commit` survives the process being killed.
   * The server then answers an Event only once its changes are committed.
   */
  readonly durable?: boolean;
  /** The stored map with this hash, or undefined. */
  load(hash: Uint8Array, hashHex: string): Promise<StoredMap<K, V> | undefined>;
  /** The stored update id of a map, or undefined if none is stored; without loading the map. */
  peek?(hash: Uint8Array, hashHex: string): Promise<{ updateId: bigint } | undefined>;
  /** Stores a new map (`map.hash` is `hash`). */
  create(hash: Uint8Array, hashHex: string, map: StoredMap<K, V>): Promise<void>;
  /** Applies the updates of one map since the stored update id. */
  commit(hash: Uint8Array, hashHex: string, commit: MapCommit<K, V>): Promise<void>;
  /** Stores what is pending and releases resources; called once by the server's `close()` after all work is done. */
  close(): Promise<void>;
}

/** Updates of a map committed after a given update id (by other servers, for a shared store). */
export interface MapUpdates<K, V> {
  /** The stored update id. */
  readonly updateId: bigint;
  /**
   * One history entry per update after the given id, oldest first, up to
   * `updateId`; undefined when some of them are below the history floor
   * (forgotten): the caller loads the whole map again instead.
   */
  readonly entries: readonly Diff<K, V>[] | undefined;
}

/** A map's write lock, held across every server sharing the store until `commit` or `release`. */
export interface MapLock<K, V> {
  /** What other servers committed since the update id the lock was asked with; apply it before writing. */
  readonly updates: MapUpdates<K, V>;
  /** Applies the commit (starting at `updates.updateId`) atomically and releases the lock; rejects as MapStorage.commit. */
  commit(commit: MapCommit<K, V>): Promise<void>;
  /** Releases the lock, writing nothing. */
  release(): Promise<void>;
}

/**
 * A store that several servers use at once (a database server): any of them
 * may serve any map. On top of MapStorage's promises:
 *
 * - `lock` serializes the writers of one map across servers: a server takes
 *   it before running an event's hooks, applies what others committed since
 *   its copy (so hooks see the map's latest state), and commits under it.
 *   Update ids are handed out once, in one order, without gaps. A server
 *   that dies holding it (process killed, connection cut) loses it.
 * - `updatesSince` is how a server's copy catches up before answering a
 *   read, so a read on any server sees every commit resolved before it
 *   started (read-your-writes across servers).
 * - `create` of a hash another server created meanwhile rejects with
 *   'duplicate-map' only once that map is complete and loadable.
 */
export interface SharedMapStorage<K, V> extends MapStorage<K, V> {
  readonly shared: true;
  /** The map's updates after `updateId`; undefined: no such map. */
  updatesSince(hash: Uint8Array, hashHex: string, updateId: bigint): Promise<MapUpdates<K, V> | undefined>;
  /** Waits for the map's write lock; rejects with 'unknown-map' for a map never created. */
  lock(hash: Uint8Array, hashHex: string, updateId: bigint): Promise<MapLock<K, V>>;
}

/** Whether `storage` is shared by several servers. */
export function isShared<K, V>(storage: MapStorage<K, V> | undefined): storage is SharedMapStorage<K, V> {
  return (storage as Partial<SharedMapStorage<K, V>> | undefined)?.shared === true;
}
