// StateMap: a fixed set of keys with values, identified by a hash taken at
// freeze; a master copy records every change in a history and answers
// diffs, slave copies pull diffs through a Remote (Rust `syncstate::StateMap`,
// docs/protocol.md: "Model", "The hash", "Master map semantics", "The clients").
//
// Where Rust is silent or unsafe, ours: rejects a second push of a key
// (DuplicateKeyError), rejects keys and values of the wrong kind
// (InvalidValueError), rejects a received diff naming a key the map lacks
// (KeyNotFoundError, nothing applied; Rust adds the key), answers an empty
// diff where Rust's get_diff panics, and refuses to wrap the update id.

import { Diff } from './diff.js';
import {
  DuplicateKeyError,
  EmptyDiffError,
  FetchUpdateError,
  FrozenError,
  InitError,
  InvalidValueError,
  KeyNotFoundError,
  UnfrozenError,
  UpdateIdOverflowError,
  describeCause,
} from './errors.js';
import type { Kind } from './kinds.js';
import { Modification } from './modification.js';
import type { ModificationTarget } from './modification.js';
import { DummyRemote } from './remote.js';
import type { Remote } from './remote.js';
import { History } from './_history.js';
import { KeyIndex } from './_index.js';
import { mapHash, mapHashSliced, sortedSlots, sortedSlotsSliced } from './_hash.js';
import { checkUpdateId, U64_MAX } from './_ids.js';
import { CHUNK, inSlices, type Pace } from './pace.js';

export interface StateMapOptions<K, V> {
  key: Kind<K>;
  value: Kind<V>;
  /** Where a slave map gets its diffs; default DummyRemote (a master map's remote). */
  remote?: Remote<K, V>;
}

/**
 * What `StateMap.restore` rebuilds a frozen map from: everything a map's
 * answers depend on, as a storage saved it (`hash()`, `entries()`,
 * `getUpdateId()`, `historyEntries()`, `isMaster`).
 */
export interface StateMapSnapshot<K, V> extends StateMapOptions<K, V> {
  /** The hash taken at freeze (32 bytes; it covers the values at freeze, so it cannot be recomputed). */
  hash: Uint8Array;
  /** The current pairs in push order (full diffs list them in this order). */
  entries: Iterable<readonly [K, V]>;
  updateId: bigint;
  /** History entries, oldest first, as `historyEntries()` gave them (possibly trimmed). */
  history: Iterable<Diff<K, V>>;
  isMaster: boolean;
}

/** Options of the long operations on big maps (freeze, restoreAsync). */
export interface SliceOptions {
  /**
   * Work in slices, awaiting `pace.pause()` between them (see `timeSlices`),
   * so that a million pairs do not hold the thread for seconds.
   */
  pace?: Pace | undefined;
}

export class StateMap<K, V> implements Iterable<[K, V]> {
  readonly keyKind: Kind<K>;
  readonly valueKind: Kind<V>;
  readonly remote: Remote<K, V>;

  // Slot i holds keys[i] -> values[i]; index maps a key's id to its slot (_index.ts).
  readonly #keys: K[] = [];
  readonly #values: V[] = [];
  readonly #index = new KeyIndex();
  readonly #history: History<K, V>;
  #updateId = 0n;
  #hash: Uint8Array | undefined;
  #master = false;
  #init: Promise<void> | undefined;
  /** A sliced freeze in progress: keys and values are fixed meanwhile. */
  #freezing: Promise<void> | undefined;
  readonly #full = (): Diff<K, V> => this.fullDiff();
  // setUpdateId calls run one after another, as Rust's &mut self forces.
  #queue: Promise<unknown> = Promise.resolve();

  constructor(options: StateMapOptions<K, V>) {
    this.keyKind = options.key;
    this.valueKind = options.value;
    this.remote = options.remote ?? new DummyRemote<K, V>();
    this.#history = new History<K, V>(this.#keys);
  }

  /**
   * Rebuilds a frozen map from a snapshot (see StateMapSnapshot), without
   * calling `remote.init`: the map already exists where it is hosted. Its
   * answers (getDiff, fullDiff, getUpdateId, hash) are those of the map the
   * snapshot was taken from, pair order included. Throws DuplicateKeyError,
   * InvalidValueError (bad hash, id or kinds) or KeyNotFoundError (a history
   * pair naming a key not in `entries`).
   */
  static restore<K, V>(snapshot: StateMapSnapshot<K, V>): StateMap<K, V> {
    const map = StateMap.#restoring(snapshot);
    for (const [k, v] of snapshot.entries) map.push(k, v);
    map.#updateId = checkUpdateId(snapshot.updateId, 'updateId');
    for (const diff of snapshot.history) {
      if (!(diff instanceof Diff)) throw new InvalidValueError('restore: history entries must be Diff instances');
      map.#history.append(diff.fromUpdateId, diff.uptoUpdateId, map.#slotsOf(diff), diff.values);
    }
    map.#hash = new Uint8Array(snapshot.hash); // a copy, and a plain Uint8Array even from a Buffer
    return map;
  }

  /**
   * `restore` with the work in slices (`options.pace`): for maps of a
   * million pairs, which take seconds to rebuild. A history entry listing
   * every key in push order (the full diff of freeze) is taken without a
   * lookup per key.
   */
  static async restoreAsync<K, V>(snapshot: StateMapSnapshot<K, V>, options: SliceOptions = {}): Promise<StateMap<K, V>> {
    const { pace } = options;
    const map: StateMap<K, V> = StateMap.#restoring(snapshot);
    const pairs = snapshot.entries[Symbol.iterator]();
    for (let done = false; !done; ) {
      for (let i = 0; i < CHUNK; i++) {
        const next = pairs.next();
        if (next.done === true) {
          done = true;
          break;
        }
        map.push(next.value[0], next.value[1]);
      }
      if (pace?.due() === true) await pace.pause();
    }
    map.#updateId = checkUpdateId(snapshot.updateId, 'updateId');
    for (const diff of snapshot.history) {
      if (!(diff instanceof Diff)) throw new InvalidValueError('restore: history entries must be Diff instances');
      if (await map.#listsEveryKey(diff, pace)) {
        const values = diff.values;
        await inSlices(values.length, pace, (a, b) => {
          for (let i = a; i < b; i++) map.#checkValue(values[i]);
        });
        await map.#history.appendAllSliced(diff.fromUpdateId, diff.uptoUpdateId, values, pace);
      } else {
        map.#history.append(diff.fromUpdateId, diff.uptoUpdateId, await map.#slotsOfSliced(diff, pace), diff.values);
      }
    }
    map.#hash = new Uint8Array(snapshot.hash);
    return map;
  }

  /** The checks of a snapshot's fields, and an empty map with its kinds, master flag and remote. */
  static #restoring<K, V>(snapshot: StateMapSnapshot<K, V>): StateMap<K, V> {
    const { hash, isMaster } = snapshot;
    if (!(hash instanceof Uint8Array) || hash.length !== 32) throw new InvalidValueError('restore: hash must be 32 bytes');
    if (typeof isMaster !== 'boolean') throw new InvalidValueError(`restore: isMaster must be a boolean, got ${typeof isMaster}`);
    const map = new StateMap<K, V>({
      key: snapshot.key,
      value: snapshot.value,
      ...(snapshot.remote === undefined ? {} : { remote: snapshot.remote }),
    });
    map.#master = isMaster;
    return map;
  }

  /** Adds a key with its initial value; only before freeze, once per key. */
  push(key: K, value: V): void {
    if (this.#hash !== undefined || this.#freezing !== undefined) throw new FrozenError();
    this.#checkKey(key);
    this.#checkValue(value);
    const id = this.keyKind.id(key);
    if (this.#index.has(id)) throw new DuplicateKeyError();
    this.#index.add(id, this.#keys.length);
    this.#keys.push(key);
    this.#values.push(value);
  }

  /** Marks the map as the master copy (it keeps taking writes after freeze); only before freeze. */
  setMaster(isMaster: boolean): void {
    if (this.#hash !== undefined || this.#freezing !== undefined) throw new FrozenError();
    if (typeof isMaster !== 'boolean') throw new InvalidValueError(`setMaster takes a boolean, got ${typeof isMaster}`);
    this.#master = isMaster;
  }

  get isMaster(): boolean {
    return this.#master;
  }

  /**
   * Freezes the keys: computes the hash (synchronously: the map is frozen
   * when this returns its promise), appends the full diff (from 0, upto the
   * current id) to the history, then awaits `remote.init(this)`. A failing
   * init rejects with InitError and leaves the map frozen, as in Rust.
   * Calling it again returns the first call's promise.
   *
   * With `options.pace` the sort, hash and full diff are computed in slices
   * instead: the map refuses pushes and sets (FrozenError) from the call on,
   * and is frozen (hash() defined) only once they are done.
   */
  freeze(options: SliceOptions = {}): Promise<void> {
    if (this.#hash !== undefined) return this.#init ?? Promise.resolve();
    if (this.#freezing !== undefined) return this.#freezing;
    if (options.pace !== undefined) {
      this.#freezing = this.#freezeSliced(options.pace);
      return this.#freezing;
    }
    this.#hash = mapHash(this.#keys, this.#values, sortedSlots(this.#keys, this.keyKind), this.keyKind, this.valueKind);
    this.#history.appendAll(0n, this.#updateId, this.#values);
    this.#init = this.#runInit();
    return this.#init;
  }

  async #freezeSliced(pace: Pace): Promise<void> {
    let hash: Uint8Array;
    try {
      const order = await sortedSlotsSliced(this.#keys, this.keyKind, pace);
      hash = await mapHashSliced(this.#keys, this.#values, order, this.keyKind, this.valueKind, pace);
    } catch (err) {
      this.#freezing = undefined; // a failing pause: the map stays unfrozen, as it was
      throw err;
    }
    await this.#history.appendAllSliced(0n, this.#updateId, this.#values, pace);
    this.#hash = hash;
    this.#init = this.#runInit();
    this.#freezing = undefined;
    return this.#init;
  }

  async #runInit(): Promise<void> {
    try {
      await this.remote.init(this);
    } catch (cause) {
      throw new InitError({ cause });
    }
  }

  /** The SHA-256 taken at freeze (a copy), or undefined before freeze. */
  hash(): Uint8Array | undefined {
    return this.#hash?.slice();
  }

  isFrozen(): boolean {
    return this.#hash !== undefined;
  }

  get(key: K): V | undefined {
    const slot = this.#slotOf(key);
    return slot === undefined ? undefined : this.#values[slot];
  }

  has(key: K): boolean {
    return this.#slotOf(key) !== undefined;
  }

  get size(): number {
    return this.#keys.length;
  }

  /** The key's position in push order (the order of entries() and of full diffs), or -1 if the map lacks it. */
  indexOf(key: K): number {
    return this.#slotOf(key) ?? -1;
  }

  /** [key, value] pairs in push order. */
  *entries(): IterableIterator<[K, V]> {
    for (let i = 0; i < this.#keys.length; i++) yield [this.#keys[i]!, this.#values[i]!];
  }

  [Symbol.iterator](): IterableIterator<[K, V]> {
    return this.entries();
  }

  /**
   * Sets an existing key (KeyNotFoundError otherwise). Allowed on a master
   * map, or on any map before freeze (FrozenError otherwise). Bumps the
   * update id by 1 and appends (id - 1, id, [(key, value)]) to the history.
   */
  set(key: K, value: V): void {
    this.#checkKey(key);
    this.#checkValue(value);
    const slot = this.#slotOf(key);
    if (slot === undefined) throw new KeyNotFoundError();
    this.#checkWritable();
    const from = this.#bump();
    this.#values[slot] = value;
    this.#history.appendOne(from, this.#updateId, slot, value);
  }

  /** A batch of sets committed as one update (same rules as `set`). */
  beginModification(): Modification<K, V> {
    this.#checkWritable();
    const target: ModificationTarget<K, V> = {
      slotOf: (key) => {
        this.#checkKey(key);
        return this.#slotOf(key);
      },
      checkValue: (value) => this.#checkValue(value),
      valueAt: (slot) => this.#values[slot]!,
      commit: (slots, values) => {
        // Rust checks only at begin; it cannot freeze meanwhile, we can.
        this.#checkWritable();
        const from = this.#bump();
        for (let i = 0; i < slots.length; i++) this.#values[slots[i]!] = values[i]!;
        this.#history.append(from, this.#updateId, slots, values);
      },
    };
    return new Modification(target);
  }

  getUpdateId(): bigint {
    return this.#updateId;
  }

  /** Number of entries in the history (one per update, plus the full diff of freeze). */
  get historySize(): number {
    return this.#history.count;
  }

  /**
   * History entries, oldest first, as diffs (isFull false on each; get_diff
   * never looks at it). With `afterUpdateId`: only the newest entries whose
   * upto is above it, i.e. those added since the map was at that id (on a
   * master map, whose ids go up by one per update). What a storage saves,
   * and what `restore` takes back.
   */
  historyEntries(afterUpdateId?: bigint): Diff<K, V>[] {
    if (afterUpdateId !== undefined) checkUpdateId(afterUpdateId, 'afterUpdateId');
    return this.#history.entries(afterUpdateId).map((e) => Diff.fromColumns(this.#keysAt(e.slots), e.values, false, e.from, e.upto));
  }

  /**
   * `historyEntries` copying in slices (`options.pace`): the freeze entry of
   * a map of a million pairs holds a million pairs. The map must not change
   * until the promise resolves.
   */
  async historyEntriesAsync(afterUpdateId?: bigint, options: SliceOptions = {}): Promise<Diff<K, V>[]> {
    if (afterUpdateId !== undefined) checkUpdateId(afterUpdateId, 'afterUpdateId');
    const out: Diff<K, V>[] = [];
    for (const e of await this.#history.entriesSliced(afterUpdateId, options.pace)) {
      out.push(Diff.fromColumns(await this.#keysAtSliced(e.slots, options.pace), e.values, false, e.from, e.upto));
    }
    return out;
  }

  /**
   * Forgets the oldest history entries while their upto is at or below
   * `uptoUpdateId` (bounded history); returns how many. getDiff then answers
   * as Rust's get_diff over the entries left: a request from before them
   * gets the full diff, one for an upto before them an empty diff.
   */
  trimHistory(uptoUpdateId: bigint): number {
    checkUpdateId(uptoUpdateId, 'uptoUpdateId');
    return this.#history.trim(uptoUpdateId);
  }

  /**
   * Rust's `get_diff(from, upto)`, answer for answer (docs/protocol.md, "Master map semantics"),
   * in O(log n) lookups plus the merge. Where Rust panics (from > upto inside
   * the history, or no history at all) the answer is an empty diff.
   */
  getDiff(fromUpdateId: bigint, uptoUpdateId: bigint): Diff<K, V> {
    checkUpdateId(fromUpdateId, 'fromUpdateId');
    checkUpdateId(uptoUpdateId, 'uptoUpdateId');
    return this.#history.getDiff(fromUpdateId, uptoUpdateId, this.#full);
  }

  /** Every pair (push order), full, from 0 upto the current id (Rust `Diff::full_diff`). */
  fullDiff(): Diff<K, V> {
    return Diff.fromColumns(this.#keys.slice(), this.#values.slice(), true, 0n, this.#updateId);
  }

  /**
   * Pulls updates up to `target` (Rust `set_update_id`): nothing when target
   * <= the current id; UnfrozenError before freeze; else
   * `remote.fetchUpdates(current, target, hash)` and `applyDiff` of its
   * answer. Calls run one at a time, in call order.
   */
  setUpdateId(target: bigint): Promise<void> {
    const run = this.#queue.then(() => this.#pull(target));
    this.#queue = run.catch(() => undefined);
    return run;
  }

  async #pull(target: bigint): Promise<void> {
    checkUpdateId(target, 'target');
    if (target <= this.#updateId) return;
    const hash = this.#hash;
    if (hash === undefined) throw new UnfrozenError();
    let diff: unknown;
    try {
      diff = await this.remote.fetchUpdates(this.#updateId, target, hash.slice());
    } catch (cause) {
      throw new FetchUpdateError(describeCause(cause), { cause });
    }
    if (!(diff instanceof Diff)) throw new FetchUpdateError('the remote answered something other than a Diff');
    this.applyDiff(diff as Diff<K, V>);
  }

  /**
   * Applies a diff received from the master, as set_update_id does with the
   * remote's answer: EmptyDiffError if it has no pairs; FetchUpdateError if
   * it starts above the current id; then the id becomes its upto (even when
   * that is lower) and its pairs are written (no history entry). A pair
   * whose key the map lacks rejects the whole diff with KeyNotFoundError.
   */
  applyDiff(diff: Diff<K, V>): void {
    if (this.#hash === undefined) throw new UnfrozenError();
    if (diff.isEmpty()) throw new EmptyDiffError();
    if (diff.fromUpdateId > this.#updateId) {
      throw new FetchUpdateError(
        `The from update id is not consistent, diff from_update_id: ${diff.fromUpdateId}, self update_id: ${this.#updateId}`,
      );
    }
    const slots = this.#slotsOf(diff);
    const values = diff.values;
    this.#updateId = diff.uptoUpdateId;
    for (let i = 0; i < slots.length; i++) this.#values[slots[i]!] = values[i]!;
  }

  /** The slots of a diff's keys, checking keys and values (nothing is written). */
  #slotsOf(diff: Diff<K, V>): number[] {
    const slots = new Array<number>(diff.keys.length);
    this.#fillSlots(diff, slots, 0, slots.length);
    return slots;
  }

  /** #slotsOf for the diff's pairs a..b. */
  #fillSlots(diff: Diff<K, V>, slots: number[], a: number, b: number): void {
    const keys = diff.keys;
    const values = diff.values;
    for (let i = a; i < b; i++) {
      this.#checkKey(keys[i]!);
      this.#checkValue(values[i]!);
      const slot = this.#slotOf(keys[i]!);
      if (slot === undefined) throw new KeyNotFoundError();
      slots[i] = slot;
    }
  }

  /** The keys of `slots`; a copy of the key list when they are every slot in order (the freeze entry). */
  #keysAt(slots: Uint32Array): K[] {
    const keys = this.#keys;
    let all = slots.length === keys.length;
    for (let i = 0; all && i < slots.length; i++) all = slots[i] === i;
    if (all) return keys.slice();
    const out = new Array<K>(slots.length);
    for (let i = 0; i < slots.length; i++) out[i] = keys[slots[i]!]!;
    return out;
  }

  /** #keysAt in slices. */
  async #keysAtSliced(slots: Uint32Array, pace: Pace | undefined): Promise<K[]> {
    const keys = this.#keys;
    const out = new Array<K>(slots.length);
    await inSlices(slots.length, pace, (a, b) => {
      for (let i = a; i < b; i++) out[i] = keys[slots[i]!]!;
    });
    return out;
  }

  /** #slotsOf in slices. */
  async #slotsOfSliced(diff: Diff<K, V>, pace: Pace | undefined): Promise<number[]> {
    const slots = new Array<number>(diff.keys.length);
    await inSlices(slots.length, pace, (a, b) => this.#fillSlots(diff, slots, a, b));
    return slots;
  }

  /** Whether `diff` has exactly this map's keys, in push order (slots 0..n-1). */
  async #listsEveryKey(diff: Diff<K, V>, pace: Pace | undefined): Promise<boolean> {
    const keys = diff.keys;
    const own = this.#keys;
    if (keys.length !== own.length || keys.length === 0) return false;
    const equals = this.keyKind.equals;
    let same = true;
    await inSlices(keys.length, pace, (a, b) => {
      for (let i = a; same && i < b; i++) if (keys[i] !== own[i] && !equals(keys[i]!, own[i]!)) same = false;
    });
    return same;
  }

  #slotOf(key: K): number | undefined {
    return this.#index.get(this.keyKind.id(key));
  }

  #checkWritable(): void {
    if (this.#freezing !== undefined || (this.#hash !== undefined && !this.#master)) throw new FrozenError();
  }

  /** Increments the update id; returns the previous one. */
  #bump(): bigint {
    const from = this.#updateId;
    if (from === U64_MAX) throw new UpdateIdOverflowError();
    this.#updateId = from + 1n;
    return from;
  }

  #checkKey(key: unknown): asserts key is K {
    if (this.keyKind.is !== undefined && !this.keyKind.is(key)) {
      throw new InvalidValueError(`not a key of kind ${this.keyKind.name ?? 'key'}: ${describeValue(key)}`);
    }
  }

  #checkValue(value: unknown): asserts value is V {
    if (this.valueKind.is !== undefined && !this.valueKind.is(value)) {
      throw new InvalidValueError(`not a value of kind ${this.valueKind.name ?? 'value'}: ${describeValue(value)}`);
    }
  }
}

function describeValue(v: unknown): string {
  // JSON.stringify shows a lone surrogate as \udxxx.
  if (typeof v === 'string') return JSON.stringify(v.length > 40 ? `${v.slice(0, 40)}...` : v);
  if (v instanceof Uint8Array) return `Uint8Array(${v.length})`;
  if (v === null || typeof v !== 'object') return String(v);
  return v.constructor?.name ?? 'object';
}
