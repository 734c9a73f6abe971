/**
 * The maps a server serves, and the order of work on each of them.
 *
 * Every map has one FIFO queue. Events (their hooks) and reads (GetUpdateId,
 * GetDiff) of that map take their turn in it, in arrival order, so events are
 * applied one at a time and a read sees every event accepted before it, and
 * nothing a hook is still doing. The changes hooks make are committed to the
 * storage (@syncstate-ts/storage's contract) before any later read runs; events
 * queued back to back share one commit (group commit). Without a storage
 * the maps live only here, as on the Rust server.
 *
 * Inits of one hash are coalesced: one attempt at a time builds the map;
 * concurrent Inits wait for it and answer InitSuccess when it succeeds. When
 * it fails (HashMismatch, InitFailure, undecodable data) each waiter makes its
 * own attempt with its own data instead of being told InitSuccess for a map
 * that does not exist, which is what the Rust server answers.
 */
import { toHex } from '@syncstate-ts/codec';
import { type Diff, type Kind, kinds, type StateMap, timeSlices } from '@syncstate-ts/core';
import { errorMessage, HookError, MalformedRequestError, ServerClosedError, ServerError, ServerTimeoutError } from '../errors.js';
import type { ServerLimits } from '../limits/limits.js';
import type { Logger } from '../logger.js';
import type { EventHook, HookContext, InitHook } from './hooks.js';
import type { Metrics } from '../metrics.js';
import { buildInitMap } from './build-map.js';
import { startHookRun, type HookRun } from './hook-handle.js';
import { historyFloor } from './history-floor.js';
import { SerialQueue } from './queue.js';
import {
  applyEntries,
  commitSince,
  isShared,
  type MapLock,
  type MapStorage,
  type MapUpdates,
  restoreMap,
  StorageError,
  storedMapOf,
} from '@syncstate-ts/storage';

/** A map a server holds in memory, and how it stands against its storage. */
export interface LoadedMap {
  hash: string;
  /** The update id this server's copy is at. */
  updateId: bigint;
  /** The storage's update id for it now (undefined: no storage); other servers sharing the storage may be ahead. */
  storedUpdateId: bigint | undefined;
  /** storedUpdateId - updateId: the commits this copy will apply before its next read or event (0 when current). */
  behind: bigint;
  /** Events accepted and not yet processed. */
  pendingEvents: number;
}

export type InitOutcome = { type: 'InitSuccess' } | { type: 'HashMismatch' } | { type: 'InitFailure'; errorMessage: string };

interface Entry<K, V> {
  readonly context: HookContext;
  /** Replaced when a shared storage says the copy is too far behind to catch up by entries. */
  map: StateMap<K, V>;
  readonly queue: SerialQueue;
  pendingEvents: number;
  /** The update id the storage holds (what the next commit starts from). */
  storedUpdateId: bigint;
  /** Events applied since the last store (group commit). */
  unstoredEvents: number;
  /** History entries starting below this id have been cut (maxHistory); undefined: none. */
  floor: bigint | undefined;
  /** Set when the storage failed: the map is withdrawn from service. */
  failure: Error | undefined;
  /** Events whose changes wait for the next commit (a durable storage answers them after it). */
  awaitingCommit: Array<() => void>;
  /** A shared storage's write lock on the map, held from the first hook of a batch of events to its commit. */
  lock: MapLock<K, V> | undefined;
  /** The update id last told to `onChange`. */
  announced: bigint;
}

export interface RegistryOptions<K, V, E> {
  key: Kind<K>;
  value: Kind<V>;
  hooks: readonly EventHook<K, V, E>[];
  initHooks: readonly InitHook<K, V>[];
  /** Where maps are kept across restarts; undefined: only in this process's memory. */
  storage: MapStorage<K, V> | undefined;
  limits: Pick<ServerLimits, 'hookTimeoutMs' | 'maxPendingEventsPerMap' | 'maxHistory'>;
  logger: Logger;
  metrics: Metrics;
  /** Told the new update id of a map once its changes are applied (and committed, with a storage). */
  onChange?: ((hashHex: string, updateId: bigint) => void) | undefined;
}

const success: InitOutcome = { type: 'InitSuccess' };

/**
 * Heavy work on one map (an Init of a million pairs) yields to the event loop
 * after this many milliseconds, so other maps' requests wait at most about
 * this long behind it, plus garbage collection: building a million pairs
 * costs V8 pauses of 10-35 ms on the reference machine, which slicing cannot
 * split (BENCHMARKS.md, "Heavy maps").
 */
export const SLICE_MS = 5;

/** At most this many events of one map share a store (bounds what a crash can lose before anyone saw it). */
const MAX_UNSTORED_EVENTS = 256;

export class MapRegistry<K, V, E> {
  readonly #options: RegistryOptions<K, V, E>;
  readonly #entries = new Map<string, Entry<K, V>>();
  readonly #loading = new Map<string, Promise<Entry<K, V> | undefined>>();
  readonly #inits = new Map<string, Promise<InitOutcome>>();
  #closed = false;

  constructor(options: RegistryOptions<K, V, E>) {
    this.#options = options;
  }

  /** The map's current update id, after every event accepted before this call; undefined: no such map. */
  async updateId(hash: Uint8Array): Promise<bigint | undefined> {
    const stored = await this.#peek(hash);
    if (stored !== undefined) return stored ?? undefined;
    const entry = await this.#find(hash);
    if (entry === undefined) return undefined;
    return entry.queue.run(async () => {
      await this.#storePending(entry);
      await this.#catchUp(entry);
      return this.#usable(entry).map.getUpdateId();
    });
  }

  /** `getDiff(from, upto)` of the master map, after every event accepted before this call. */
  async diff(hash: Uint8Array, from: bigint, upto: bigint): Promise<Diff<K, V> | undefined> {
    const entry = await this.#find(hash);
    if (entry === undefined) return undefined;
    return entry.queue.run(async () => {
      await this.#storePending(entry);
      await this.#catchUp(entry);
      return this.#usable(entry).map.getDiff(from, upto);
    });
  }

  /** Whether a map with this hash exists (Event checks this before decoding its payload, as Rust does). */
  async has(hash: Uint8Array): Promise<boolean> {
    const entry = await this.#find(hash);
    if (entry !== undefined) this.#usable(entry);
    return entry !== undefined;
  }

  /**
   * Queues an event for the map's hooks. Resolves false when the map has too
   * many unprocessed events (the caller drops the request), undefined when
   * there is no such map, true when the caller may answer EventInProcess.
   *
   * With a durable storage that is once the event's hooks have run and their
   * changes are committed, so an acknowledged event survives a crash (a burst
   * of events still shares one commit); rejects with ServerError
   * 'storage-failed' when that commit fails. Otherwise (no storage, or one in
   * memory) it is at once, as on the Rust server, and hooks start only after
   * the caller has answered.
   */
  async submitEvent(hash: Uint8Array, event: E): Promise<boolean | undefined> {
    const entry = await this.#find(hash);
    if (entry === undefined) return undefined;
    this.#usable(entry);
    if (this.#closed) throw new ServerClosedError();
    const { metrics, storage } = this.#options;
    if (entry.pendingEvents >= this.#options.limits.maxPendingEventsPerMap) return false;
    const durable = storage?.durable === true;
    entry.pendingEvents++;
    metrics.eventsPending++;
    let committed: Promise<void> | undefined;
    let unprocessed: unknown;
    const processed = entry.queue
      .run(async () => {
        // Let the EventInProcess answer reach the socket before any hook runs.
        if (!durable) await new Promise<void>((resolve) => setImmediate(resolve));
        if (entry.failure !== undefined) return;
        try {
          await this.#lockShared(entry);
        } catch (err) {
          unprocessed = err;
          throw err;
        }
        try {
          await this.#runEventHooks(entry, event);
        } finally {
          // Group commit: while more work waits in this map's queue, leave the
          // changes to the next task (an event stores them with its own, a read
          // stores them before reading), so a burst of events costs one write.
          entry.unstoredEvents++;
          if (entry.queue.size <= 1 || entry.unstoredEvents >= MAX_UNSTORED_EVENTS) await this.#store(entry);
          else committed = new Promise<void>((resolve) => entry.awaitingCommit.push(resolve));
        }
      })
      .catch((err: unknown) => {
        metrics.error('internal');
        this.#options.logger.error({ err, hash: entry.context.hashHex }, 'event processing failed');
      })
      .finally(() => {
        entry.pendingEvents--;
        metrics.eventsPending--;
        metrics.eventsProcessed++;
      });
    if (!durable) return true;
    await processed;
    await committed;
    // Its hooks did not run, or their commit failed: the event is not acknowledged.
    if (unprocessed !== undefined) {
      throw new ServerError('storage-failed', `map ${entry.context.hashHex}: taking its write lock failed`, { cause: unprocessed });
    }
    this.#usable(entry);
    return true;
  }

  /** Answers an Init request (docs/protocol.md, "Server behaviour"); rejects with MalformedRequestError for undecodable init data. */
  async init(hash: Uint8Array, initData: Uint8Array): Promise<InitOutcome> {
    const hashHex = toHex(hash);
    for (;;) {
      if (this.#closed) throw new ServerClosedError();
      const existing = this.#entries.get(hashHex);
      if (existing !== undefined) {
        this.#usable(existing);
        return success;
      }
      const pending = this.#inits.get(hashHex);
      if (pending !== undefined) {
        const outcome = await pending.catch(() => undefined);
        if (outcome?.type === 'InitSuccess') return success;
        continue; // that attempt failed; make our own with our own data
      }
      // Claimed synchronously after the checks above, so only one attempt runs per hash.
      const attempt = this.#createMap(hash, hashHex, initData);
      this.#inits.set(hashHex, attempt);
      try {
        return await attempt;
      } finally {
        this.#inits.delete(hashHex);
      }
    }
  }

  /** Every map in memory, with the storage's update id for each (one query per map). */
  async loaded(): Promise<LoadedMap[]> {
    const { storage } = this.#options;
    return Promise.all(
      [...this.#entries.values()].map(async (entry) => {
        const { hash, hashHex } = entry.context;
        const updateId = entry.map.getUpdateId();
        const stored = storage?.peek === undefined ? undefined : (await storage.peek(hash, hashHex).catch(() => undefined))?.updateId;
        const behind = stored !== undefined && stored > updateId ? stored - updateId : 0n;
        return { hash: hashHex, updateId, storedUpdateId: stored, behind, pendingEvents: entry.pendingEvents };
      }),
    );
  }

  /** Resolves once every queued event and read has finished. */
  async idle(): Promise<void> {
    for (;;) {
      const busy = [...this.#entries.values()].filter((e) => e.queue.size > 0);
      const inits = [...this.#inits.values()];
      if (busy.length === 0 && inits.length === 0) return;
      await Promise.allSettled([...busy.map((e) => e.queue.idle()), ...inits]);
    }
  }

  /** Refuses new events and Inits; already accepted work still runs (await `idle()`). */
  close(): void {
    this.#closed = true;
  }

  get size(): number {
    return this.#entries.size;
  }

  #usable(entry: Entry<K, V>): Entry<K, V> {
    if (entry.failure !== undefined) {
      throw new ServerError('storage-failed', `map ${entry.context.hashHex} is out of service: its storage failed`, {
        cause: entry.failure,
      });
    }
    return entry;
  }

  /**
   * For a map not in memory: what the storage says without loading it (its
   * load starts meanwhile, for the requests that follow). A stored update id
   * is current: events reach a map only once it is loaded. null: no such
   * map. undefined: the map is in memory, or the storage cannot peek; the
   * caller takes the usual way.
   */
  async #peek(hash: Uint8Array): Promise<bigint | null | undefined> {
    const { storage, logger } = this.#options;
    const hashHex = toHex(hash);
    if (storage?.peek === undefined || this.#entries.has(hashHex)) return undefined;
    let peeked: { updateId: bigint } | undefined;
    try {
      peeked = await storage.peek(hash, hashHex);
    } catch {
      return undefined; // the load reports it
    }
    if (this.#entries.has(hashHex)) return undefined;
    if (peeked === undefined) return null;
    const loading = this.#find(hash);
    if (loading instanceof Promise) loading.catch((err: unknown) => logger.warn({ err, hash: hashHex }, 'loading a map failed'));
    return peeked.updateId;
  }

  #find(hash: Uint8Array): Promise<Entry<K, V> | undefined> | Entry<K, V> | undefined {
    const hashHex = toHex(hash);
    const cached = this.#entries.get(hashHex);
    if (cached !== undefined) return cached;
    const { storage } = this.#options;
    if (storage === undefined) return undefined;
    let loading = this.#loading.get(hashHex);
    if (loading === undefined) {
      loading = this.#load(storage, hash, hashHex).finally(() => this.#loading.delete(hashHex));
      this.#loading.set(hashHex, loading);
    }
    return loading;
  }

  /** The stored map as a served entry (the one already served, if another request got there first). */
  async #load(storage: MapStorage<K, V>, hash: Uint8Array, hashHex: string): Promise<Entry<K, V> | undefined> {
    const stored = await storage.load(hash, hashHex);
    if (stored === undefined || this.#entries.has(hashHex)) return this.#entries.get(hashHex);
    const { key, value } = this.#options;
    const map = await restoreMap(stored, key, value, timeSlices({ sliceMs: SLICE_MS }));
    return this.#entries.get(hashHex) ?? this.#add(hash, hashHex, map);
  }

  #add(hash: Uint8Array, hashHex: string, map: StateMap<K, V>): Entry<K, V> {
    const entry: Entry<K, V> = {
      context: { hash: hash.slice(), hashHex },
      map,
      queue: new SerialQueue(),
      pendingEvents: 0,
      storedUpdateId: map.getUpdateId(),
      unstoredEvents: 0,
      floor: undefined,
      failure: undefined,
      awaitingCommit: [],
      lock: undefined,
      announced: map.getUpdateId(),
    };
    // A store may keep history below the floor for a while (contract.ts); the served map drops it now.
    this.#trimHistory(entry, this.#risenFloor(entry));
    this.#entries.set(hashHex, entry);
    this.#options.metrics.maps = this.#entries.size;
    return entry;
  }

  async #createMap(hash: Uint8Array, hashHex: string, initData: Uint8Array): Promise<InitOutcome> {
    const { key, value, initHooks, storage, logger, metrics } = this.#options;
    if (storage !== undefined && (await this.#find(hash)) !== undefined) return success;
    // As the Rust server: a master map built from the decoded HashMap, then frozen; in slices (build-map.ts).
    let map: StateMap<K, V>;
    try {
      map = await buildInitMap(initData, key, value, timeSlices({ sliceMs: SLICE_MS }));
    } catch (err) {
      throw new MalformedRequestError('undecodable-init-data', `init data of ${hashHex} does not decode as the map`, { cause: err });
    }
    if (!kinds.bytes.equals(map.hash()!, hash)) {
      logger.info({ hash: hashHex, actual: toHex(map.hash()!) }, 'init data does not hash to the claimed hash');
      return { type: 'HashMismatch' };
    }
    const context: HookContext = { hash: hash.slice(), hashHex };
    for (const [index, hook] of initHooks.entries()) {
      const run = this.#startHookRun(map, hashHex, index, 'init hook');
      try {
        await withTimeout(() => hook(run.map, context), this.#options.limits.hookTimeoutMs, `init hook ${index}`);
      } catch (err) {
        metrics.initFailures++;
        logger.warn({ err, hash: hashHex, hookIndex: index }, 'init hook refused the map');
        return { type: 'InitFailure', errorMessage: errorMessage(err) };
      } finally {
        run.expire();
      }
    }
    try {
      await storage?.create(hash, hashHex, await storedMapOf(map, timeSlices({ sliceMs: SLICE_MS })));
    } catch (err) {
      // Another server sharing the storage created it meanwhile; it is complete once create says so.
      if (isShared(storage) && err instanceof StorageError && err.code === 'duplicate-map' && (await this.#find(hash))) return success;
      throw new ServerError('storage-failed', `storing new map ${hashHex} failed`, { cause: err });
    }
    this.#add(hash, hashHex, map);
    logger.info({ hash: hashHex, pairs: map.size }, 'map created');
    return success;
  }

  async #runEventHooks(entry: Entry<K, V>, event: E): Promise<void> {
    const { hooks, logger, metrics, limits } = this.#options;
    for (const [index, hook] of hooks.entries()) {
      const run = this.#startHookRun(entry.map, entry.context.hashHex, index, 'hook');
      try {
        await withTimeout(() => hook(run.map, event, entry.context), limits.hookTimeoutMs, `hook ${index}`);
      } catch (err) {
        metrics.hookFailures++;
        const failure =
          err instanceof ServerTimeoutError ? err : new HookError(index, `hook ${index} failed: ${errorMessage(err)}`, { cause: err });
        metrics.error(failure.code);
        logger.error(
          { err: failure, hash: entry.context.hashHex, hookIndex: index, event: describeEvent(event) },
          'event hook failed; continuing with the next hook',
        );
      } finally {
        run.expire();
      }
    }
  }

  /** A hook's view of `map`, refused once the run ends (see hook-handle.ts); late uses are logged and counted. */
  #startHookRun(map: StateMap<K, V>, hashHex: string, index: number, kind: 'hook' | 'init hook'): HookRun<K, V> {
    const { logger, metrics } = this.#options;
    return startHookRun(map, `${kind} ${index} of map ${hashHex}`, (err) => {
      metrics.error(err.code);
      logger.warn({ err, hash: hashHex, hookIndex: index }, `${kind} used its map after its run ended; refused`);
    });
  }

  /** Stores changes that events left for a later task, before a read can see them. */
  async #storePending(entry: Entry<K, V>): Promise<void> {
    if (entry.unstoredEvents > 0 && entry.failure === undefined) await this.#store(entry);
  }

  /** Commits the unstored updates to the storage (before any later read runs), then applies the history bound. */
  async #store(entry: Entry<K, V>): Promise<void> {
    entry.unstoredEvents = 0;
    const { storage, metrics, logger } = this.#options;
    const { hash, hashHex } = entry.context;
    const { map } = entry;
    try {
      const floor = this.#risenFloor(entry);
      if (storage !== undefined) {
        // Built before the trim below: the commit carries the entries the floor is about to drop.
        const commit = commitSince(map, entry.storedUpdateId, floor);
        const lock = entry.lock;
        entry.lock = undefined;
        if (lock !== undefined) await (commit === undefined ? lock.release() : lock.commit(commit));
        else if (commit !== undefined) await storage.commit(hash, hashHex, commit);
        entry.storedUpdateId = map.getUpdateId();
      }
      this.#trimHistory(entry, floor);
      this.#announce(entry);
    } catch (err) {
      this.#evict(entry, err);
      metrics.error('storage-failed');
      logger.error({ err, hash: hashHex }, 'storing changes failed; they are dropped, and the map is loaded again from the storage');
    }
    for (const settle of entry.awaitingCommit.splice(0)) settle();
  }

  /**
   * Drops a copy whose changes could not be stored: work queued on it fails
   * (no answer, nothing acknowledged), and the next request loads the map
   * as the storage last committed it. No client saw the dropped changes.
   */
  #evict(entry: Entry<K, V>, err: unknown): void {
    entry.failure = err instanceof Error ? err : new Error(String(err));
    const lock = entry.lock;
    entry.lock = undefined;
    lock?.release().catch(() => undefined);
    if (this.#entries.get(entry.context.hashHex) === entry) this.#entries.delete(entry.context.hashHex);
    this.#options.metrics.maps = this.#entries.size;
  }

  /** With a shared storage: takes the map's write lock (once per batch of events) and applies what other servers committed. */
  async #lockShared(entry: Entry<K, V>): Promise<void> {
    const { storage } = this.#options;
    if (!isShared(storage) || entry.lock !== undefined) return;
    const { hash, hashHex } = entry.context;
    entry.lock = await storage.lock(hash, hashHex, entry.storedUpdateId);
    try {
      await this.#apply(entry, entry.lock.updates);
    } catch (err) {
      this.#evict(entry, err);
      throw err;
    }
  }

  /** With a shared storage, before a read: applies what other servers committed, so the read sees every commit before it. */
  async #catchUp(entry: Entry<K, V>): Promise<void> {
    const { storage } = this.#options;
    if (!isShared(storage) || entry.failure !== undefined) return;
    const { hash, hashHex } = entry.context;
    try {
      const updates = await storage.updatesSince(hash, hashHex, entry.storedUpdateId);
      if (updates === undefined) throw new StorageError('unknown-map', `map ${hashHex} is gone from the storage`);
      await this.#apply(entry, updates);
    } catch (err) {
      this.#evict(entry, err);
      throw err;
    }
  }

  /** Brings a copy without unstored changes up to the storage's update id: by its entries, or by loading it again. */
  async #apply(entry: Entry<K, V>, updates: MapUpdates<K, V>): Promise<void> {
    if (updates.updateId === entry.storedUpdateId) return;
    const { storage, key, value } = this.#options;
    const { hash, hashHex } = entry.context;
    if (updates.entries !== undefined) {
      applyEntries(entry.map, updates.entries);
    } else {
      const stored = await storage!.load(hash, hashHex);
      if (stored === undefined) throw new StorageError('unknown-map', `map ${hashHex} is gone from the storage`);
      entry.map = await restoreMap(stored, key, value, timeSlices({ sliceMs: SLICE_MS }));
      entry.floor = undefined;
    }
    entry.storedUpdateId = entry.map.getUpdateId();
    this.#trimHistory(entry, this.#risenFloor(entry));
    this.#announce(entry);
  }

  /** Tells `onChange` (pushes to subscribers) when the map's update id moved since it was last told. */
  #announce(entry: Entry<K, V>): void {
    const updateId = entry.map.getUpdateId();
    if (updateId === entry.announced) return;
    entry.announced = updateId;
    this.#options.onChange?.(entry.context.hashHex, updateId);
  }

  /** The history floor (maxHistory) `entry`'s map has reached, when it is above the one already applied. */
  #risenFloor(entry: Entry<K, V>): bigint | undefined {
    const floor = historyFloor(entry.map, this.#options.limits.maxHistory);
    return floor !== undefined && (entry.floor === undefined || floor > entry.floor) ? floor : undefined;
  }

  #trimHistory(entry: Entry<K, V>, floor: bigint | undefined): void {
    if (floor === undefined) return;
    entry.floor = floor;
    entry.map.trimHistory(floor);
  }
}

/** Runs `fn`, failing with a ServerTimeoutError after `ms` (the hook itself cannot be stopped; it is only no longer awaited). */
async function withTimeout(fn: () => void | Promise<void>, ms: number, what: string): Promise<void> {
  if (!Number.isFinite(ms)) return fn();
  let timer: NodeJS.Timeout | undefined;
  const timeout = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(new ServerTimeoutError('hook', ms, `${what} still running after ${ms} ms`)), ms);
    timer.unref();
  });
  try {
    await Promise.race([Promise.resolve().then(fn), timeout]);
  } finally {
    clearTimeout(timer);
  }
}

/** The variant name of an enum event, for logs (the payload may be large or hold bigints). */
function describeEvent(event: unknown): string {
  if (typeof event === 'object' && event !== null && typeof (event as { type?: unknown }).type === 'string') {
    return (event as { type: string }).type;
  }
  return typeof event;
}

