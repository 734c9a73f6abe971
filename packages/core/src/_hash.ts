// The map hash of syncstate 0.3.0 (PROTOCOL.md section 4): keys ascending by
// Rust's Ord, then SHA-256 over, per pair, the key's byte length as a u64
// big endian, its bytes, the value's byte length (u64 BE), its bytes.
//
// Pairs are staged in a 64 KiB buffer and fed to SHA-256 in large updates;
// strings are written as UTF-8 straight into it. Measured on 1M pairs of
// ("key-i", "value-i"): sort ~350 ms, hash ~450 ms (noble ~80 MB/s here),
// against ~1.3 s for Rust's freeze (HashMap lookups and clones dominate).

import { sha256 } from '@noble/hashes/sha2.js';
import type { Kind } from './kinds.js';
import { kinds } from './kinds.js';
import { writeUtf8 } from '@syncstate/codec';

const BUFFER = 64 * 1024;
const TWO_32 = 0x1_0000_0000;

/** Hash of the pairs `keys[order[i]] -> values[order[i]]` (order already sorted by key). */
export function mapHash<K, V>(
  keys: readonly K[],
  values: readonly V[],
  order: ArrayLike<number>,
  keyKind: Kind<K>,
  valueKind: Kind<V>,
): Uint8Array {
  const feed = new Feeder();
  const writeKey = writerFor(keyKind, feed);
  const writeValue = writerFor(valueKind, feed);
  for (let i = 0; i < order.length; i++) {
    const slot = order[i]!;
    writeKey(keys[slot]!);
    writeValue(values[slot]!);
  }
  return feed.digest();
}

/** Slots 0..n-1 sorted by Rust's Ord of their keys. */
export function sortedSlots<K>(keys: readonly K[], keyKind: Kind<K>): number[] {
  const order = new Array<number>(keys.length);
  for (let i = 0; i < keys.length; i++) order[i] = i;
  const compare = keyKind.compare;
  order.sort((a, b) => compare(keys[a]!, keys[b]!));
  return order;
}

function writerFor<T>(kind: Kind<T>, feed: Feeder): (v: T) => void {
  if (kind === (kinds.string as Kind<unknown>)) return (v) => feed.string(v as string);
  return (v) => feed.bytes(kind.toBytes(v));
}

class Feeder {
  private readonly hash = sha256.create();
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
    const hi = Math.floor(n / TWO_32);
    const lo = n >>> 0;
    const b = this.buf;
    b[at] = hi >>> 24;
    b[at + 1] = (hi >>> 16) & 0xff;
    b[at + 2] = (hi >>> 8) & 0xff;
    b[at + 3] = hi & 0xff;
    b[at + 4] = lo >>> 24;
    b[at + 5] = (lo >>> 16) & 0xff;
    b[at + 6] = (lo >>> 8) & 0xff;
    b[at + 7] = lo & 0xff;
  }

  private flush(): void {
    if (this.pos > 0) this.hash.update(this.buf.subarray(0, this.pos));
    this.pos = 0;
  }
}

