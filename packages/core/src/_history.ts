// The history of a map: one entry per update (and one full entry at freeze),
// and Rust's `get_diff` over it without Rust's linear scans.
//
// Storage, per entry: the end offset of its pairs (u32) and, per pair, the
// key's slot number (u32) and the value (a reference): 16 bytes for a single
// set. Entry ids are not stored: they come from runs, maximal stretches of
// entries whose (from, upto) go up by one per entry, which is what set and
// commit append. A history has a handful of runs: the pre-freeze steps, the
// freeze full diff (0, p), the steps after it, plus one per jump a remote
// made on a master map.
//
// Rust's get_diff scans (docs/protocol.md, "Master map semantics") reduce to two lookups:
//   - the first entry, oldest first, whose from is >= F (the scan stops at the
//     first from == F or from > F). It is a prefix maximum of from: `records`
//     keeps those (increasing), so it is a binary search.
//   - the last entry whose upto is <= U (the backward scan stops at upto == U
//     or upto < U). It is a strict suffix minimum of upto: `minima` keeps those
//     (increasing, maintained as a monotonic stack), again a binary search.
// Both lists are stored as spans of consecutive entries with consecutive ids,
// so they stay as small as the runs. Appends are amortised O(1), lookups
// O(log runs), and a merge costs O(pairs in range), stopping early once every
// key has been seen.
//
// Trimming (dropping the oldest entries) keeps entry indexes as they were:
// `base` is the first live entry, the span lists are cut at it and column
// chunks below it are freed. Only when the dropped entries held a larger
// from than the new first entry (a master map that jumped back) do the
// prefix maxima change; the live entries are then appended anew (compact),
// as they are when indexes near 2^32.

import { Diff } from './diff.js';
import { Column, U32Column } from './_columns.js';
import { U64_MAX } from './_ids.js';
import { inSlices, type Pace } from './pace.js';

/** Entries start..start+length-1 carry ids (from + j, upto + j). */
interface Run {
  start: number;
  length: number;
  from: bigint;
  upto: bigint;
  lastFrom: bigint;
  lastUpto: bigint;
}

/** Entries start..start+length-1 whose (from or upto) ids are first..last, one apart. */
interface Span {
  start: number;
  length: number;
  first: bigint;
  last: bigint;
}

const MAX_OFFSET = 0xffff_ffff;

/** One history entry: its ids and its pairs as slots and values. */
export interface HistoryEntry<V> {
  from: bigint;
  upto: bigint;
  slots: Uint32Array;
  values: V[];
}

export class History<K, V> {
  private pairSlots = new U32Column();
  private pairValues = new Column<V>();
  private ends = new U32Column();
  private runs: Run[] = [];
  private records: Span[] = [];
  private minima: Span[] = [];
  private firstUpto = 0n;
  private lastFrom = 0n;
  /** Index of the oldest live entry, and the offset of its first pair. */
  private base = 0;
  private basePair = 0;
  private stamps = new Uint32Array(0);
  private stamp = 0;

  /** `keyList[slot]` is the key of a slot; the map only ever appends to it. */
  constructor(private readonly keyList: readonly K[]) {}

  get count(): number {
    return this.ends.length - this.base;
  }

  /** Appends an entry (from, upto) with the given pairs (slots and values, same length). */
  append(from: bigint, upto: bigint, slots: ArrayLike<number>, values: ArrayLike<V>): void {
    this.reserve(slots.length);
    for (let i = 0; i < slots.length; i++) {
      this.pairSlots.push(slots[i]!);
      this.pairValues.push(values[i]!);
    }
    this.appendIds(from, upto);
  }

  /** Appends an entry holding slots 0..values.length-1 (the freeze full diff). */
  appendAll(from: bigint, upto: bigint, values: readonly V[]): void {
    this.reserve(values.length);
    this.pairSlots.pushSequence(0, values.length);
    this.pairValues.pushRange(values, 0, values.length);
    this.appendIds(from, upto);
  }

  /** appendAll in slices (a million pairs take tens of milliseconds). */
  async appendAllSliced(from: bigint, upto: bigint, values: readonly V[], pace: Pace | undefined): Promise<void> {
    this.reserve(values.length);
    await inSlices(values.length, pace, (a, b) => {
      this.pairSlots.pushSequence(a, b - a);
      this.pairValues.pushRange(values, a, b);
    });
    this.appendIds(from, upto);
  }

  /** Appends a single-pair entry. */
  appendOne(from: bigint, upto: bigint, slot: number, value: V): void {
    if (this.pairSlots.length >= MAX_OFFSET) this.reserve(1);
    this.pairSlots.push(slot);
    this.pairValues.push(value);
    this.appendIds(from, upto);
  }

  /**
   * The newest entries whose upto is above `after` (walking back from the
   * newest, up to the first whose upto is not), oldest first; every live
   * entry when `after` is undefined.
   */
  entries(after?: bigint): HistoryEntry<V>[] {
    const out: HistoryEntry<V>[] = [];
    for (let i = this.ends.length - this.countAfter(after); i < this.ends.length; i++) out.push(this.entryAt(i));
    return out;
  }

  /** `entries` copying in slices (the freeze entry of a big map holds a million pairs). */
  async entriesSliced(after: bigint | undefined, pace: Pace | undefined): Promise<HistoryEntry<V>[]> {
    const out: HistoryEntry<V>[] = [];
    for (let i = this.ends.length - this.countAfter(after); i < this.ends.length; i++) {
      const r = this.runAt(i);
      const d = BigInt(i - r.start);
      const p0 = i === this.base ? this.basePair : this.ends.get(i - 1);
      const n = this.ends.get(i) - p0;
      const slots = new Uint32Array(n);
      const values = new Array<V>(n);
      await inSlices(n, pace, (a, b) => {
        slots.set(this.pairSlots.copyRange(p0 + a, p0 + b), a);
        const vs = this.pairValues.copyRange(p0 + a, p0 + b);
        for (let k = 0; k < vs.length; k++) values[a + k] = vs[k]!;
      });
      out.push({ from: r.from + d, upto: r.upto + d, slots, values });
    }
    return out;
  }

  /** How many of the newest entries `entries(after)` lists. */
  private countAfter(after: bigint | undefined): number {
    let k = 0;
    if (after === undefined) k = this.count;
    else {
      for (let ri = this.runs.length - 1; ri >= 0; ri--) {
        const r = this.runs[ri]!;
        if (r.lastUpto <= after) break;
        if (r.upto > after) {
          k += r.length;
          continue;
        }
        k += Number(r.lastUpto - after);
        break;
      }
    }
    return k;
  }

  /** Drops the oldest entries while their upto is <= `upto`; returns how many were dropped. */
  trim(upto: bigint): number {
    let drop = 0;
    for (const r of this.runs) {
      if (r.upto > upto) break;
      if (r.lastUpto <= upto) {
        drop += r.length;
        continue;
      }
      drop += Number(upto - r.upto) + 1;
      break;
    }
    if (drop > 0) this.dropOldest(drop);
    return drop;
  }

  /**
   * Rust's `get_diff(from, upto)`; `full` makes the map's full diff. Where
   * Rust panics (no history; from > upto inside the history) the answer is
   * an empty diff.
   */
  getDiff(from: bigint, upto: bigint, full: () => Diff<K, V>): Diff<K, V> {
    if (this.count === 0) return Diff.empty();
    // 1. The oldest entry whose from is >= `from`: a match starts the range,
    //    a larger from (or none at all, see 2.) means a full diff.
    const first = this.firstFromAtLeast(from);
    if (first === undefined || first.id !== from) return full();
    // 2. The newest entry starts below `from`.
    if (this.lastFrom < from) return full();
    const start = first.index;
    // 3. The newest entry whose upto is <= `upto`: a match ends the range,
    //    a smaller upto is merged up to at once.
    const last = this.lastUptoAtMost(upto);
    if (last === undefined) return Diff.empty(); // every upto is above: 4. below
    if (last.id < upto) return this.merge(start, last.index);
    // 4. The oldest entry ends above `upto`: it asks for the past.
    if (this.firstUpto > upto) return Diff.empty();
    // 5.
    return this.merge(start, last.index);
  }

  private appendIds(from: bigint, upto: bigint): void {
    const n = this.ends.length;
    this.ends.push(this.pairSlots.length);
    if (n === this.base) this.firstUpto = upto;
    this.lastFrom = from;

    const run = this.runs[this.runs.length - 1];
    if (run !== undefined && run.lastFrom + 1n === from && run.lastUpto + 1n === upto) {
      run.length++;
      run.lastFrom = from;
      run.lastUpto = upto;
    } else {
      this.runs.push({ start: n, length: 1, from, upto, lastFrom: from, lastUpto: upto });
    }

    // Prefix maxima of from: a new record when above every earlier from.
    const rec = this.records[this.records.length - 1];
    if (rec === undefined || from > rec.last) extendOrPush(this.records, n, from);

    // Strict suffix minima of upto: drop those not below the new upto.
    const m = this.minima;
    for (let top = m[m.length - 1]; top !== undefined; top = m[m.length - 1]) {
      if (top.first >= upto) {
        m.pop();
        continue;
      }
      if (top.last >= upto) {
        top.length = Number(upto - top.first);
        top.last = upto - 1n;
      }
      break;
    }
    extendOrPush(m, n, upto);
  }

  /** The first entry whose from is >= `id`, with that from. */
  private firstFromAtLeast(id: bigint): { index: number; id: bigint } | undefined {
    const r = this.records;
    const s = r[partitionPoint(r, (x) => x.last < id)];
    if (s === undefined) return undefined;
    if (s.first >= id) return { index: s.start, id: s.first };
    return { index: s.start + Number(id - s.first), id };
  }

  /** The last entry whose upto is <= `id`, with that upto. */
  private lastUptoAtMost(id: bigint): { index: number; id: bigint } | undefined {
    const m = this.minima;
    const s = m[partitionPoint(m, (x) => x.first <= id) - 1];
    if (s === undefined) return undefined;
    if (s.last <= id) return { index: s.start + s.length - 1, id: s.last };
    return { index: s.start + Number(id - s.first), id };
  }

  /** Rust `Diff::merge(diffs.range(start..=end))`. */
  private merge(start: number, end: number): Diff<K, V> {
    // Rust's range panics when start > end + 1; start == end + 1 is empty.
    if (start > end + 1) return Diff.empty();
    if (start === end + 1) return Diff.fromColumns<K, V>([], [], false, U64_MAX, 0n);
    const [from, upto] = this.idBounds(start, end);

    const p0 = start === this.base ? this.basePair : this.ends.get(start - 1);
    const p1 = this.ends.get(end);
    const slotCount = this.keyList.length;
    if (this.stamps.length < slotCount) this.stamps = new Uint32Array(Math.max(slotCount, this.stamps.length * 2));
    if (++this.stamp === 0xffff_ffff) {
      this.stamps.fill(0);
      this.stamp = 1;
    }
    const stamps = this.stamps;
    const stamp = this.stamp;
    const keys: K[] = [];
    const values: V[] = [];
    // Newest first: the first value seen for a slot is its latest.
    for (let p = p1 - 1; p >= p0 && keys.length < slotCount; p--) {
      const slot = this.pairSlots.get(p);
      if (stamps[slot] === stamp) continue;
      stamps[slot] = stamp;
      keys.push(this.keyList[slot]!);
      values.push(this.pairValues.get(p));
    }
    keys.reverse();
    values.reverse();
    return Diff.fromColumns(keys, values, false, from, upto);
  }

  /** Makes room for `n` more pairs: compacts when indexes near 2^32, else throws. */
  private reserve(n: number): void {
    if (this.pairSlots.length + n <= MAX_OFFSET) return;
    if (this.base > 0) this.compact();
    if (this.pairSlots.length + n > MAX_OFFSET) throw new RangeError('history holds 2^32 - 1 pairs already');
  }

  /** The run holding entry `i` (live). */
  private runAt(i: number): Run {
    const runs = this.runs;
    return runs[partitionPoint(runs, (r) => r.start <= i) - 1]!;
  }

  private entryAt(i: number): HistoryEntry<V> {
    const r = this.runAt(i);
    const d = BigInt(i - r.start);
    const p0 = i === this.base ? this.basePair : this.ends.get(i - 1);
    const p1 = this.ends.get(i);
    return { from: r.from + d, upto: r.upto + d, slots: this.pairSlots.copyRange(p0, p1), values: this.pairValues.copyRange(p0, p1) };
  }

  private dropOldest(d: number): void {
    const base = this.base + d;
    if (base === this.ends.length) {
      this.reset();
      return;
    }
    // The largest from among the dropped entries is their last record.
    const rec = lastBefore(this.records, base);
    const droppedMax = rec === undefined ? undefined : rec.first + BigInt(Math.min(base - 1, rec.start + rec.length - 1) - rec.start);
    cutBefore(this.runs, base, (r, k) => {
      r.from += BigInt(k);
      r.upto += BigInt(k);
    });
    cutBefore(this.records, base, spanCut);
    cutBefore(this.minima, base, spanCut);
    const first = this.runs[0]!;
    this.firstUpto = first.upto;
    this.basePair = this.ends.get(base - 1);
    this.base = base;
    if (this.records[0]?.start !== base) {
      if (droppedMax !== undefined && droppedMax > first.from) {
        // Some live entries become prefix maxima only now: rebuild.
        this.compact();
        return;
      }
      this.records.unshift({ start: base, length: 1, first: first.from, last: first.from });
    }
    this.ends.dropBefore(base);
    this.pairSlots.dropBefore(this.basePair);
    this.pairValues.dropBefore(this.basePair);
  }

  /** Appends the live entries anew, numbered from 0. */
  private compact(): void {
    const live: HistoryEntry<V>[] = [];
    for (let i = this.base; i < this.ends.length; i++) live.push(this.entryAt(i));
    this.reset();
    for (const e of live) this.append(e.from, e.upto, e.slots, e.values);
  }

  private reset(): void {
    this.pairSlots = new U32Column();
    this.pairValues = new Column<V>();
    this.ends = new U32Column();
    this.runs = [];
    this.records = [];
    this.minima = [];
    this.firstUpto = 0n;
    this.lastFrom = 0n;
    this.base = 0;
    this.basePair = 0;
  }

  /** Smallest from and largest upto of entries start..end (non-empty). */
  private idBounds(start: number, end: number): [bigint, bigint] {
    const runs = this.runs;
    let from = U64_MAX;
    let upto = 0n;
    for (let i = partitionPoint(runs, (r) => r.start <= start) - 1; i < runs.length && runs[i]!.start <= end; i++) {
      const r = runs[i]!;
      const a = Math.max(start, r.start);
      const b = Math.min(end, r.start + r.length - 1);
      // BigInt() costs tens of ns: skip it at the run's ends.
      const f = a === r.start ? r.from : r.from + BigInt(a - r.start);
      const u = b === r.start + r.length - 1 ? r.lastUpto : r.upto + BigInt(b - r.start);
      if (f < from) from = f;
      if (u > upto) upto = u;
    }
    return [from, upto];
  }
}

/** Removes from `list` the entries below index `base`, shortening the one that straddles it. */
function cutBefore<T extends { start: number; length: number }>(list: T[], base: number, shift: (item: T, k: number) => void): void {
  let drop = 0;
  while (drop < list.length && list[drop]!.start + list[drop]!.length <= base) drop++;
  if (drop > 0) list.splice(0, drop);
  const head = list[0];
  if (head !== undefined && head.start < base) {
    const k = base - head.start;
    head.start = base;
    head.length -= k;
    shift(head, k);
  }
}

function spanCut(s: Span, k: number): void {
  s.first += BigInt(k);
}

/** The last span starting below index `i`. */
function lastBefore(spans: Span[], i: number): Span | undefined {
  return spans[partitionPoint(spans, (s) => s.start < i) - 1];
}

/**
 * How many leading `items` satisfy `before`, by binary search: `items` must
 * hold every item that satisfies it ahead of every item that does not.
 */
function partitionPoint<T>(items: readonly T[], before: (item: T) => boolean): number {
  let lo = 0;
  let hi = items.length;
  while (lo < hi) {
    const mid = (lo + hi) >>> 1;
    if (before(items[mid]!)) lo = mid + 1;
    else hi = mid;
  }
  return lo;
}

/** Adds entry `index` with id `id` to a span list, extending the top span when consecutive. */
function extendOrPush(spans: Span[], index: number, id: bigint): void {
  const top = spans[spans.length - 1];
  if (top !== undefined && top.start + top.length === index && top.last + 1n === id) {
    top.length++;
    top.last = id;
  } else {
    spans.push({ start: index, length: 1, first: id, last: id });
  }
}
