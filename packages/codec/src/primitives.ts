// Schemas of serde's primitive types as bincode 2 (config::standard) writes
// them: u8/i8 raw, wider integers as (zigzag) varints, floats as IEEE-754 bits
// little endian, char as bare UTF-8, strings and byte vectors length-prefixed.
// 8..32-bit integers are JS numbers; 64/128-bit ones (and usize) are bigints.

import { EncodeError, describe } from './errors.js';
import type { EncodeErrorCode } from './errors.js';
import type { Reader } from './reader.js';
import type { Schema, UnitSchema } from './schema.js';
import {
  I128_MAX,
  I128_MIN,
  I64_MAX,
  I64_MIN,
  U128_MAX,
  U64_MAX,
  unzigzag,
  unzigzagBig,
  zigzag,
  zigzagBig,
} from './varint.js';
import type { Writer } from './writer.js';

function mismatch(type: string, v: unknown, code: EncodeErrorCode = 'unencodable-value'): EncodeError {
  return new EncodeError(code, `${describe(v)} is not a valid ${type}`);
}

/** A built-in leaf schema. */
export interface PrimitiveSchema<T> extends Schema<T> {
  readonly kind: string;
  readonly minSize: number;
  readonly nullable: false;
}

function primitive<T>(kind: string, minSize: number, write: (w: Writer, v: T) => void, read: (r: Reader) => T): PrimitiveSchema<T> {
  return { kind, minSize, nullable: false, write, read };
}

export const bool = primitive<boolean>(
  'bool',
  1,
  (w, v) => {
    if (typeof v !== 'boolean') throw mismatch('bool', v);
    w.writeU8(v ? 1 : 0);
  },
  (r) => r.readBool(),
);

export const u8 = primitive<number>(
  'u8',
  1,
  (w, v) => {
    if (typeof v !== 'number' || (v & 0xff) !== v) throw mismatch('u8', v);
    w.writeU8(v);
  },
  (r) => r.readU8(),
);

export const i8 = primitive<number>(
  'i8',
  1,
  (w, v) => {
    if (typeof v !== 'number' || (v << 24) >> 24 !== v) throw mismatch('i8', v);
    w.writeU8(v & 0xff);
  },
  (r) => r.readI8(),
);

export const u16 = primitive<number>(
  'u16',
  1,
  (w, v) => {
    if (typeof v !== 'number' || (v & 0xffff) !== v) throw mismatch('u16', v);
    w.writeVarint(v);
  },
  (r) => r.readVarint16(),
);

export const i16 = primitive<number>(
  'i16',
  1,
  (w, v) => {
    if (typeof v !== 'number' || (v << 16) >> 16 !== v) throw mismatch('i16', v);
    w.writeVarint(zigzag(v));
  },
  (r) => unzigzag(r.readVarint16()),
);

export const u32 = primitive<number>(
  'u32',
  1,
  (w, v) => {
    if (typeof v !== 'number' || v >>> 0 !== v) throw mismatch('u32', v);
    w.writeVarint(v);
  },
  (r) => r.readVarint32(),
);

export const i32 = primitive<number>(
  'i32',
  1,
  (w, v) => {
    if (typeof v !== 'number' || (v | 0) !== v) throw mismatch('i32', v);
    w.writeVarint(zigzag(v));
  },
  (r) => unzigzag(r.readVarint32()),
);

function unsignedBig(kind: string, max: bigint, read: (r: Reader) => bigint): PrimitiveSchema<bigint> {
  return primitive<bigint>(
    kind,
    1,
    (w, v) => {
      if (typeof v !== 'bigint' || v < 0n || v > max) throw mismatch(kind, v);
      w.writeVarintBig(v);
    },
    read,
  );
}

function signedBig(kind: string, min: bigint, max: bigint, read: (r: Reader) => bigint): PrimitiveSchema<bigint> {
  return primitive<bigint>(
    kind,
    1,
    (w, v) => {
      if (typeof v !== 'bigint' || v < min || v > max) throw mismatch(kind, v);
      w.writeVarintBig(zigzagBig(v));
    },
    read,
  );
}

export const u64 = unsignedBig('u64', U64_MAX, (r) => r.readVarint64());
/** usize is serialized by serde as u64. */
export const usize = unsignedBig('usize', U64_MAX, (r) => r.readVarint64());
export const u128 = unsignedBig('u128', U128_MAX, (r) => r.readVarint128());
export const i64 = signedBig('i64', I64_MIN, I64_MAX, (r) => unzigzagBig(r.readVarint64()));
export const i128 = signedBig('i128', I128_MIN, I128_MAX, (r) => unzigzagBig(r.readVarint128()));

/** f32: any JS number, rounded to the nearest f32 (like `as f32`); NaN is written as the canonical quiet NaN. */
export const f32 = primitive<number>(
  'f32',
  4,
  (w, v) => {
    if (typeof v !== 'number') throw mismatch('f32', v);
    w.writeF32(v);
  },
  (r) => r.readF32(),
);

export const f64 = primitive<number>(
  'f64',
  8,
  (w, v) => {
    if (typeof v !== 'number') throw mismatch('f64', v);
    w.writeF64(v);
  },
  (r) => r.readF64(),
);

/** char: a string of exactly one Unicode scalar value (one code point, not a lone surrogate). */
export const char = primitive<string>(
  'char',
  1,
  (w, v) => {
    if (typeof v !== 'string' || v.length === 0 || v.length > 2) throw mismatch('char', v);
    const cp = v.codePointAt(0)!;
    // One unit that is no surrogate, or one high+low pair (codePointAt then exceeds 0xFFFF).
    const ok = v.length === 1 ? cp < 0xd800 || cp > 0xdfff : cp > 0xffff;
    if (!ok) throw mismatch('char (one Unicode scalar value)', v, v.length === 1 ? 'lone-surrogate' : 'unencodable-value');
    w.writeCodePoint(cp);
  },
  (r) => r.readChar(),
);

export const string = primitive<string>(
  'string',
  1,
  (w, v) => {
    if (typeof v !== 'string') throw mismatch('string', v);
    w.writeString(v);
  },
  (r) => r.readString(),
);

// BytesSchema and FixedBytesSchema are named interfaces so that declaration files
// name them as written: an inferred `Schema<Uint8Array>` is printed as
// `Schema<Uint8Array<ArrayBufferLike>>`, which TypeScript before 5.7 cannot read.

/** The schema of `Vec<u8>`: a Uint8Array with a length prefix. */
export interface BytesSchema extends PrimitiveSchema<Uint8Array> {}

/** The schema of `[u8; n]`: a Uint8Array of exactly n bytes, no length prefix. */
export interface FixedBytesSchema extends Schema<Uint8Array> {
  readonly kind: 'fixedBytes';
  readonly minSize: number;
  readonly nullable: false;
}

/** `Vec<u8>` as a Uint8Array (decoded as a copy unless the reader aliases). */
export const bytes: BytesSchema = primitive<Uint8Array>(
  'bytes',
  1,
  (w, v) => {
    if (!(v instanceof Uint8Array)) throw mismatch('bytes (Uint8Array)', v);
    w.writeVarint(v.length);
    w.writeBytes(v);
  },
  (r) => r.readByteBuf(),
);

/** `[u8; n]` as a Uint8Array of exactly n bytes, no length prefix. */
export function fixedBytes(n: number): FixedBytesSchema {
  if (!Number.isSafeInteger(n) || n < 0) throw new RangeError(`fixedBytes length must be a non-negative integer, got ${n}`);
  return {
    kind: 'fixedBytes',
    minSize: n,
    nullable: false,
    write(w, v) {
      if (!(v instanceof Uint8Array) || v.length !== n) throw mismatch(`[u8; ${n}] (Uint8Array of length ${n})`, v);
      w.writeBytes(v);
    },
    read: (r) => r.readFixedBytes(n),
  };
}

function checkNull(kind: string, v: unknown): void {
  if (v !== null) throw mismatch(`${kind} (null)`, v);
}

/** `()`: no bytes; the value is null. Inside `t.enumOf`, marks a unit variant. */
export const unit: UnitSchema & { readonly minSize: 0; readonly nullable: true } = {
  kind: 'unit',
  minSize: 0,
  nullable: true,
  write: (_w, v) => checkNull('unit', v),
  read: () => null,
};

/** A unit struct (`struct Marker;`): no bytes; the value is null. */
export const unitStruct: Schema<null> & { readonly kind: 'unitStruct'; readonly minSize: 0; readonly nullable: true } = {
  kind: 'unitStruct',
  minSize: 0,
  nullable: true,
  write: (_w, v) => checkNull('unit struct', v),
  read: () => null,
};
