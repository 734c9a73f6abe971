// Key and value kinds: what a StateMap needs to know about K and V. A kind
// gives the bytes Rust hashes (`as_ref()`), Rust's `Ord` (bytewise: UTF-8
// order for strings, which is code point order, not JavaScript's UTF-16 order),
// an identity for JS Maps, and the bincode schema for the wire.

import { isWellFormed, t, type Schema } from '@syncstate-ts/codec';

export interface Kind<T> {
  /** bincode schema of T (`String`, `Vec<u8>`, `[u8; N]`). */
  readonly schema: Schema<T>;
  /** The bytes Rust's `as_ref()` gives, fed to the hash. */
  toBytes(v: T): Uint8Array;
  /** Rust's `Ord` for the type: negative, 0 or positive. */
  compare(a: T, b: T): number;
  /** Equal values have equal ids and different values different ids (for Map keys). */
  id(v: T): string | number;
  equals(a: T, b: T): boolean;
  /** Short name for messages ('string', 'bytes', '[u8; 32]'). */
  readonly name?: string;
  /** Whether `v` is a value of this kind; StateMap rejects others with InvalidValueError. */
  is?(v: unknown): v is T;
}

interface TextEncoderLike {
  encode(s: string): Uint8Array;
}
declare const TextEncoder: new () => TextEncoderLike;
const encoder = new TextEncoder();

/**
 * Compares strings by code point (= UTF-8 byte order = Rust's `str` Ord).
 * UTF-16 unit order agrees except where a surrogate (U+D800..U+DFFF) meets a
 * unit in U+E000..U+FFFF: the surrogate stands for a code point above U+FFFF.
 */
export function compareCodePoints(a: string, b: string): number {
  if (a === b) return 0;
  const n = a.length < b.length ? a.length : b.length;
  for (let i = 0; i < n; i++) {
    const x = a.charCodeAt(i);
    const y = b.charCodeAt(i);
    if (x !== y) {
      if (x >= 0xd800 && y >= 0xd800) return lift(x) - lift(y);
      return x - y;
    }
  }
  return a.length - b.length;
}

/** Moves surrogates above U+E000..U+FFFF, keeping every other order. */
function lift(unit: number): number {
  return unit >= 0xe000 ? unit - 0x800 : unit + 0x2000;
}

/** Lexicographic byte order, a proper prefix first (Rust `[u8]` Ord). */
export function compareBytes(a: Uint8Array, b: Uint8Array): number {
  const n = a.length < b.length ? a.length : b.length;
  for (let i = 0; i < n; i++) {
    const d = a[i]! - b[i]!;
    if (d !== 0) return d;
  }
  return a.length - b.length;
}

export function bytesEqual(a: Uint8Array, b: Uint8Array): boolean {
  if (a.length !== b.length) return false;
  for (let i = 0; i < a.length; i++) if (a[i] !== b[i]) return false;
  return true;
}

/**
 * One UTF-16 unit per byte: injective, and its UTF-16 order is the byte order.
 * String.fromCharCode.apply in slices keeps the argument count bounded.
 */
export function binaryString(bytes: Uint8Array): string {
  if (bytes.length <= 16) {
    let s = '';
    for (let i = 0; i < bytes.length; i++) s += String.fromCharCode(bytes[i]!);
    return s;
  }
  let s = '';
  for (let i = 0; i < bytes.length; i += 8192) {
    s += String.fromCharCode.apply(null, bytes.subarray(i, i + 8192) as unknown as number[]);
  }
  return s;
}

const stringKind: Kind<string> = {
  name: 'string',
  schema: t.string,
  toBytes: (v) => encoder.encode(v),
  compare: compareCodePoints,
  id: (v) => v,
  equals: (a, b) => a === b,
  // A lone surrogate has no UTF-8 form: Rust's String cannot hold one.
  is: (v): v is string => typeof v === 'string' && isWellFormed(v),
};

const bytesKind: Kind<Uint8Array> = {
  name: 'bytes',
  schema: t.bytes,
  toBytes: (v) => v,
  compare: compareBytes,
  id: binaryString,
  equals: bytesEqual,
  is: (v): v is Uint8Array => v instanceof Uint8Array,
};

const fixedKinds = new Map<number, Kind<Uint8Array>>();

function fixedBytes(n: number): Kind<Uint8Array> {
  if (!Number.isSafeInteger(n) || n < 0) throw new RangeError(`fixedBytes length must be a non-negative integer, got ${n}`);
  let kind = fixedKinds.get(n);
  if (kind === undefined) {
    kind = {
      name: `[u8; ${n}]`,
      // No length prefix on the wire; the hash still prefixes the length (as_ref().len()).
      schema: t.fixedBytes(n),
      toBytes: (v) => v,
      compare: compareBytes,
      id: binaryString,
      equals: bytesEqual,
      is: (v): v is Uint8Array => v instanceof Uint8Array && v.length === n,
    };
    fixedKinds.set(n, kind);
  }
  return kind;
}

/**
 * The kinds the Rust crate is used with: `String`, `Vec<u8>` and `[u8; N]`.
 * Values are stored by reference: do not mutate a Uint8Array after handing
 * it to a map.
 */
export const kinds: {
  // Written out, not inferred: declaration files would print the inferred
  // Kind<Uint8Array> as Kind<Uint8Array<ArrayBufferLike>>, unreadable before TypeScript 5.7.
  readonly string: Kind<string>;
  readonly bytes: Kind<Uint8Array>;
  readonly fixedBytes: (n: number) => Kind<Uint8Array>;
} = {
  string: stringKind,
  bytes: bytesKind,
  fixedBytes,
};
