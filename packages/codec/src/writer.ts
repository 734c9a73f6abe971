// Growable output buffer for bincode encoding. One Uint8Array, grown by
// doubling; the DataView over it is rebuilt only on growth. Reusable: reset()
// keeps the buffer. Raw writes only: range checks belong to the schemas.

import { EncodeError } from './errors.js';
import { SINGLE_BYTE_MAX, U128_MARKER, U16_MARKER, U32_MARKER, U64_MARKER, varintSize } from './varint.js';
import { encodeUtf8Into, isWellFormed, writeUtf8Short } from './utf8.js';

const TWO_32 = 0x1_0000_0000;
const MASK_64 = (1n << 64n) - 1n;
/** Up to this many UTF-16 units, 3 bytes each still fit a one-byte length prefix (3 × 83 = 249). */
const SHORT_STRING = 83;

export class Writer {
  private buf: Uint8Array;
  private dv: DataView;
  private pos = 0;

  constructor(initialCapacity = 1024) {
    this.buf = new Uint8Array(Math.max(16, initialCapacity));
    this.dv = new DataView(this.buf.buffer);
  }

  /** Bytes written since the last reset. */
  get length(): number {
    return this.pos;
  }

  /** Size of the current buffer. */
  get capacity(): number {
    return this.buf.length;
  }

  /** Forgets what was written; keeps the buffer for reuse. */
  reset(): void {
    this.pos = 0;
  }

  /** A copy of the bytes written since the last reset. */
  finish(): Uint8Array {
    return this.buf.slice(0, this.pos);
  }

  /** The bytes written, without copying: valid until the next write or reset. */
  view(): Uint8Array {
    return this.buf.subarray(0, this.pos);
  }

  /** Makes room for `n` more bytes. */
  ensure(n: number): void {
    const need = this.pos + n;
    if (need <= this.buf.length) return;
    let cap = this.buf.length * 2;
    while (cap < need) cap *= 2;
    const next = new Uint8Array(cap);
    next.set(this.buf.subarray(0, this.pos));
    this.buf = next;
    this.dv = new DataView(next.buffer);
  }

  writeU8(v: number): void {
    if (this.pos >= this.buf.length) this.ensure(1);
    this.buf[this.pos++] = v;
  }

  writeBytes(src: Uint8Array): void {
    const n = src.length;
    this.ensure(n);
    const buf = this.buf;
    let pos = this.pos;
    // TypedArray.set has a fixed cost that a loop beats for short runs.
    if (n <= 16) {
      for (let i = 0; i < n; i++) buf[pos++] = src[i]!;
    } else {
      buf.set(src, pos);
      pos += n;
    }
    this.pos = pos;
  }

  writeU32BE(v: number): void {
    this.ensure(4);
    this.dv.setUint32(this.pos, v, false);
    this.pos += 4;
  }

  /** Varint of a non-negative integer below 2^53 (shortest form). */
  writeVarint(v: number): void {
    this.ensure(9);
    this.putVarint(v);
  }

  // writeVarint without the capacity check.
  private putVarint(v: number): void {
    const buf = this.buf;
    let pos = this.pos;
    if (v <= SINGLE_BYTE_MAX) {
      buf[pos++] = v;
    } else if (v <= 0xffff) {
      buf[pos++] = U16_MARKER;
      buf[pos++] = v & 0xff;
      buf[pos++] = v >>> 8;
    } else if (v < TWO_32) {
      buf[pos++] = U32_MARKER;
      this.dv.setUint32(pos, v, true);
      pos += 4;
    } else {
      buf[pos++] = U64_MARKER;
      this.dv.setUint32(pos, v >>> 0, true);
      this.dv.setUint32(pos + 4, Math.floor(v / TWO_32), true);
      pos += 8;
    }
    this.pos = pos;
  }

  /** Varint of a non-negative integer below 2^128 (shortest form). */
  writeVarintBig(v: bigint): void {
    if (v <= 0x1f_ffff_ffff_ffffn) {
      this.writeVarint(Number(v));
      return;
    }
    this.ensure(17);
    if (v <= MASK_64) {
      this.buf[this.pos] = U64_MARKER;
      this.dv.setBigUint64(this.pos + 1, v, true);
      this.pos += 9;
    } else {
      this.buf[this.pos] = U128_MARKER;
      this.dv.setBigUint64(this.pos + 1, v & MASK_64, true);
      this.dv.setBigUint64(this.pos + 9, v >> 64n, true);
      this.pos += 17;
    }
  }

  writeF32(v: number): void {
    this.ensure(4);
    this.dv.setFloat32(this.pos, v, true);
    this.pos += 4;
  }

  writeF64(v: number): void {
    this.ensure(8);
    this.dv.setFloat64(this.pos, v, true);
    this.pos += 8;
  }

  /** Varint byte length then UTF-8. Throws EncodeError on a lone surrogate. */
  writeString(s: string): void {
    const n = s.length;
    if (n <= SHORT_STRING) {
      this.ensure(1 + 3 * n);
      const start = this.pos + 1;
      const end = writeUtf8Short(this.buf, start, s);
      if (end < 0) throw new EncodeError('lone-surrogate', 'string holds a lone surrogate (not valid Unicode)');
      this.buf[this.pos] = end - start;
      this.pos = end;
      return;
    }
    if (!isWellFormed(s)) throw new EncodeError('lone-surrogate', 'string holds a lone surrogate (not valid Unicode)');
    // Reserve the widest prefix the byte length can need (n..3n bytes), encode
    // straight into the buffer, then slide the text back if the prefix is shorter.
    const max = 3 * n;
    const reserved = varintSize(max);
    this.ensure(reserved + max);
    const start = this.pos + reserved;
    const written = encodeUtf8Into(s, this.buf.subarray(start, start + max));
    const prefix = varintSize(written);
    if (prefix < reserved) this.buf.copyWithin(this.pos + prefix, start, start + written);
    this.putVarint(written);
    this.pos += written;
  }

  /** UTF-8 of one code point, no length prefix (bincode's `char`). */
  writeCodePoint(cp: number): void {
    this.ensure(4);
    const buf = this.buf;
    let pos = this.pos;
    if (cp < 0x80) {
      buf[pos++] = cp;
    } else if (cp < 0x800) {
      buf[pos++] = 0xc0 | (cp >> 6);
      buf[pos++] = 0x80 | (cp & 0x3f);
    } else if (cp < 0x10000) {
      buf[pos++] = 0xe0 | (cp >> 12);
      buf[pos++] = 0x80 | ((cp >> 6) & 0x3f);
      buf[pos++] = 0x80 | (cp & 0x3f);
    } else {
      buf[pos++] = 0xf0 | (cp >> 18);
      buf[pos++] = 0x80 | ((cp >> 12) & 0x3f);
      buf[pos++] = 0x80 | ((cp >> 6) & 0x3f);
      buf[pos++] = 0x80 | (cp & 0x3f);
    }
    this.pos = pos;
  }
}
