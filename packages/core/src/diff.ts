// Diff: pairs to write into a map, and the update ids they lead from and to
// (Rust `syncstate::Diff`). Stored as two columns (keys, values) so a merge or
// a full diff of a big map builds no tuple per pair; `entries` makes the
// tuples on first use.
//
// Entry order: Rust merges and compresses through a HashMap (random order).
// Ours keeps one pair per key, ordered by each key's last write, oldest first.

import type { Kind } from './kinds.js';
import { checkUpdateId, U64_MAX } from './_ids.js';

const NO_ENTRIES: readonly never[] = [];

export class Diff<K, V> {
  readonly isFull: boolean;
  readonly fromUpdateId: bigint;
  readonly uptoUpdateId: bigint;
  #keys: readonly K[];
  #values: readonly V[];
  #entries: ReadonlyArray<readonly [K, V]> | undefined;

  constructor(entries: Iterable<readonly [K, V]>, isFull = false, fromUpdateId = 0n, uptoUpdateId = 0n) {
    const keys: K[] = [];
    const values: V[] = [];
    if (entries !== NO_ENTRIES) {
      for (const [k, v] of entries) {
        keys.push(k);
        values.push(v);
      }
    }
    this.#keys = keys;
    this.#values = values;
    this.isFull = isFull;
    this.fromUpdateId = checkUpdateId(fromUpdateId, 'fromUpdateId');
    this.uptoUpdateId = checkUpdateId(uptoUpdateId, 'uptoUpdateId');
  }

  /** A diff over two equally long columns, which it keeps (the caller must not change them). */
  static fromColumns<K, V>(
    keys: readonly K[],
    values: readonly V[],
    isFull: boolean,
    fromUpdateId: bigint,
    uptoUpdateId: bigint,
  ): Diff<K, V> {
    if (keys.length !== values.length) throw new RangeError('keys and values differ in length');
    const d = new Diff<K, V>(NO_ENTRIES, isFull, fromUpdateId, uptoUpdateId);
    d.#keys = keys;
    d.#values = values;
    return d;
  }

  /** No pairs, not full, from 0 upto 0 (Rust `Diff::empty`). */
  static empty<K, V>(): Diff<K, V> {
    return new Diff<K, V>([], false, 0n, 0n);
  }

  /**
   * Rust `Diff::merge`: one pair per key (the latest), not full, from the
   * smallest from, upto the largest upto. Merging nothing gives from
   * 2^64 - 1, upto 0, as in Rust.
   */
  static merge<K, V>(diffs: Iterable<Diff<K, V>>, keyKind: Kind<K>): Diff<K, V> {
    const keys: K[] = [];
    const values: V[] = [];
    let from = U64_MAX;
    let upto = 0n;
    for (const d of diffs) {
      if (d.fromUpdateId < from) from = d.fromUpdateId;
      if (d.uptoUpdateId > upto) upto = d.uptoUpdateId;
      // push(...spread) would overflow the stack on big diffs.
      for (let i = 0; i < d.#keys.length; i++) {
        keys.push(d.#keys[i]!);
        values.push(d.#values[i]!);
      }
    }
    const [k, v] = lastWrites(keys, values, keyKind);
    return Diff.fromColumns(k, v, false, from, upto);
  }

  /** All pairs of a map: full, from 0, upto its update id (Rust `Diff::full_diff`). */
  static fullDiff<K, V>(map: { fullDiff(): Diff<K, V> }): Diff<K, V> {
    return map.fullDiff();
  }

  /** Rust `compress`: one pair per key (the last), same flags and ids. */
  compress(keyKind: Kind<K>): Diff<K, V> {
    const [k, v] = lastWrites(this.#keys, this.#values, keyKind);
    return Diff.fromColumns(k, v, this.isFull, this.fromUpdateId, this.uptoUpdateId);
  }

  /** The pairs, in order (Rust `get_diff`). */
  get entries(): ReadonlyArray<readonly [K, V]> {
    if (this.#entries === undefined) {
      const out = new Array<readonly [K, V]>(this.#keys.length);
      for (let i = 0; i < out.length; i++) out[i] = [this.#keys[i]!, this.#values[i]!];
      this.#entries = out;
    }
    return this.#entries;
  }

  /** Keys of the pairs, in order (no tuples built). */
  get keys(): readonly K[] {
    return this.#keys;
  }

  /** Values of the pairs, in the order of `keys`. */
  get values(): readonly V[] {
    return this.#values;
  }

  get size(): number {
    return this.#keys.length;
  }

  /** No pairs (whatever the ids say): a slave treats it as the EmptyDiff error. */
  isEmpty(): boolean {
    return this.#keys.length === 0;
  }
}

/** One pair per key, the last written, ordered by that last write. */
function lastWrites<K, V>(keys: readonly K[], values: readonly V[], keyKind: Kind<K>): [K[], V[]] {
  const seen = new Set<string | number>();
  const k: K[] = [];
  const v: V[] = [];
  for (let i = keys.length - 1; i >= 0; i--) {
    const id = keyKind.id(keys[i]!);
    if (seen.has(id)) continue;
    seen.add(id);
    k.push(keys[i]!);
    v.push(values[i]!);
  }
  return [k.reverse(), v.reverse()];
}
