// The map hash of syncstate 0.3.0 (docs/protocol.md, "The hash"): keys ascending by
// Rust's Ord, then SHA-256 over, per pair, the key's byte length as a u64
// big endian, its bytes, the value's byte length (u64 BE), its bytes.
//
// Pairs are staged in a 64 KiB buffer and fed to SHA-256 in large updates;
// strings are written as UTF-8 straight into it. Measured on 100k pairs of
// ("key-i", "value-i") (cpu profile of freeze): the hash was ~50% (noble),
// the comparator sort ~25%, staging ~18%. Now: node:crypto's SHA-256 where
// it exists (_sha256.ts); string keys without a UTF-16 unit >= U+D800
// (where UTF-16 order is code point order) sort with `<` instead of
// compareCodePoints. (Staging short ASCII pairs as one joined string for a
// single native encodeInto was measured slower than the loop: 23 vs 11 ms.)
//
// Each step also has a sliced form (a Pace) for big maps on a server.

import { writeUtf8 } from '@syncstate-ts/codec';
import type { Kind } from './kinds.js';
import { kinds } from './kinds.js';
import { CHUNK, inSlices, type Pace } from './pace.js';
import { createSha256, type Sha256 } from './_sha256.js';

const BUFFER = 64 * 1024;
const TWO_32 = 0x1_0000_0000;
/** Slots sorted per run before the sliced merge. */
const RUN = 16 * 1024;

/** Hash of the pairs `keys[order[i]] -> values[order[i]]` (order already sorted by key). */
export function mapHash<K, V>(
  keys: readonly K[],
  values: readonly V[],
  order: ArrayLike<number>,
  keyKind: Kind<K>,
  valueKind: Kind<V>,
): Uint8Array {
  const feed = new Feeder();
  feedRange(feed, keys, values, order, keyKind, valueKind, 0, order.length);
  return feed.digest();
}

/** mapHash in slices. */
export async function mapHashSliced<K, V>(
  keys: readonly K[],
  values: readonly V[],
  order: ArrayLike<number>,
  keyKind: Kind<K>,
  valueKind: Kind<V>,
  pace: Pace,
): Promise<Uint8Array> {
  const feed = new Feeder();
  await inSlices(order.length, pace, (a, b) => feedRange(feed, keys, values, order, keyKind, valueKind, a, b));
  return feed.digest();
}

function feedRange<K, V>(
  feed: Feeder,
  keys: readonly K[],
  values: readonly V[],
  order: ArrayLike<number>,
  keyKind: Kind<K>,
  valueKind: Kind<V>,
  start: number,
  end: number,
): void {
  const writeKey = writerFor(keyKind, feed);
  const writeValue = writerFor(valueKind, feed);
  for (let i = start; i < end; i++) {
    const slot = order[i]!;
    writeKey(keys[slot]!);
    writeValue(values[slot]!);
  }
}

/** Slots 0..n-1 sorted by Rust's Ord of their keys. */
export function sortedSlots<K>(keys: readonly K[], keyKind: Kind<K>): number[] {
  const order = identity(0, keys.length);
  const plain = isString(keyKind) && !hasHighUnits(keys as readonly unknown[] as readonly string[], 0, keys.length);
  order.sort(comparatorFor(keys, keyKind, plain));
  return order;
}

/**
 * sortedSlots in slices: runs of RUN slots sorted one per slice, then merged
 * pairwise (bottom-up), pausing inside merges too.
 */
export async function sortedSlotsSliced<K>(keys: readonly K[], keyKind: Kind<K>, pace: Pace): Promise<number[]> {
  const n = keys.length;
  const compare = await comparatorSliced(keys, keyKind, pace);
  let runs: number[][] = [];
  for (let start = 0; start < n; start += RUN) {
    const run = identity(start, Math.min(n, start + RUN));
    run.sort(compare);
    runs.push(run);
    if (pace.due()) await pace.pause();
  }
  while (runs.length > 1) {
    const next: number[][] = [];
    for (let i = 0; i < runs.length; i += 2) {
      const b = runs[i + 1];
      next.push(b === undefined ? runs[i]! : await mergeSliced(runs[i]!, b, compare, pace));
    }
    runs = next;
  }
  return runs[0] ?? [];
}

async function mergeSliced(a: number[], b: number[], compare: (x: number, y: number) => number, pace: Pace): Promise<number[]> {
  const out = new Array<number>(a.length + b.length);
  let i = 0;
  let j = 0;
  let k = 0;
  while (i < a.length && j < b.length) {
    const stop = Math.min(out.length, k + CHUNK);
    while (k < stop && i < a.length && j < b.length) out[k++] = compare(a[i]!, b[j]!) <= 0 ? a[i++]! : b[j++]!;
    if (pace.due()) await pace.pause();
  }
  while (i < a.length) out[k++] = a[i++]!;
  while (j < b.length) out[k++] = b[j++]!;
  return out;
}

function identity(start: number, end: number): number[] {
  const order = new Array<number>(end - start);
  for (let i = start; i < end; i++) order[i - start] = i;
  return order;
}

/** The slot comparator: `<` when `plain` (string keys whose UTF-16 order is their code point order), else the kind's compare. */
function comparatorFor<K>(keys: readonly K[], keyKind: Kind<K>, plain: boolean): (a: number, b: number) => number {
  if (plain) return plainOrder(keys as readonly unknown[] as readonly string[]);
  const compare = keyKind.compare;
  return (a, b) => compare(keys[a]!, keys[b]!);
}

function isString<K>(keyKind: Kind<K>): boolean {
  return keyKind === (kinds.string as Kind<unknown>);
}

async function comparatorSliced<K>(keys: readonly K[], keyKind: Kind<K>, pace: Pace): Promise<(a: number, b: number) => number> {
  let plain = isString(keyKind);
  if (plain) {
    const strings = keys as readonly unknown[] as readonly string[];
    await inSlices(strings.length, pace, (a, b) => {
      if (plain && hasHighUnits(strings, a, b)) plain = false;
    });
  }
  return comparatorFor(keys, keyKind, plain);
}

function plainOrder(keys: readonly string[]): (a: number, b: number) => number {
  // Keys are distinct, so two different slots never compare equal.
  return (a, b) => (a === b ? 0 : keys[a]! < keys[b]! ? -1 : 1);
}

// UTF-16 order and code point order differ only where a surrogate meets a
// unit in U+E000..U+FFFF; without units >= U+D800 they agree.
const HIGH_UNIT = /[\ud800-\uffff]/;

function hasHighUnits(keys: readonly string[], start: number, end: number): boolean {
  for (let i = start; i < end; i++) if (HIGH_UNIT.test(keys[i]!)) return true;
  return false;
}

function writerFor<T>(kind: Kind<T>, feed: Feeder): (v: T) => void {
  if (kind === (kinds.string as Kind<unknown>)) return (v) => feed.string(v as string);
  return (v) => feed.bytes(kind.toBytes(v));
}

class Feeder {
  private readonly hash: Sha256 = createSha256();
  private readonly buf = new Uint8Array(BUFFER);
  private pos = 0;

  /** Length-prefixed UTF-8 of a well-formed string. */
  string(s: string): void {
    const worst = 8 + 3 * s.length;
    if (worst > BUFFER) {
      this.bytes(kinds.string.toBytes(s));
      return;
    }
    if (this.pos + worst > BUFFER) this.flush();
    const start = this.pos + 8;
    const end = writeUtf8(this.buf, start, s);
    this.length(this.pos, end - start);
    this.pos = end;
  }

  /** Length-prefixed bytes; large runs go to the hash without a copy. */
  bytes(b: Uint8Array): void {
    if (this.pos + 8 > BUFFER) this.flush();
    this.length(this.pos, b.length);
    this.pos += 8;
    if (this.pos + b.length <= BUFFER) {
      this.buf.set(b, this.pos);
      this.pos += b.length;
    } else {
      this.flush();
      this.hash.update(b);
    }
  }

  digest(): Uint8Array {
    this.flush();
    return this.hash.digest();
  }

  private length(at: number, n: number): void {
    const b = this.buf;
    if (n < TWO_32) {
      b[at] = 0;
      b[at + 1] = 0;
      b[at + 2] = 0;
      b[at + 3] = 0;
    } else {
      const hi = Math.floor(n / TWO_32);
      b[at] = hi >>> 24;
      b[at + 1] = (hi >>> 16) & 0xff;
      b[at + 2] = (hi >>> 8) & 0xff;
      b[at + 3] = hi & 0xff;
    }
    const lo = n >>> 0;
    b[at + 4] = lo >>> 24;
    b[at + 5] = (lo >>> 16) & 0xff;
    b[at + 6] = (lo >>> 8) & 0xff;
    b[at + 7] = lo & 0xff;
  }

  // node:crypto's update hashes the bytes before returning, so the buffer can be reused at once (as with noble).
  private flush(): void {
    if (this.pos > 0) this.hash.update(this.buf.subarray(0, this.pos));
    this.pos = 0;
  }
}
