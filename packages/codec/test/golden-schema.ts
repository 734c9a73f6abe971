// Interprets the golden files' Type descriptors (notes/GOLDEN_CODEC_FORMAT.md)
// as codec schemas, and their JSON Values as the values those schemas take.
import { toHex } from '@syncstate-ts/codec';
import { t } from '@syncstate-ts/codec';
import type { Schema } from '@syncstate-ts/codec';

export type Shape = 'unit' | { newtype: TypeDesc } | { tuple: TypeDesc[] } | { struct: [string, TypeDesc][] };
export type TypeDesc =
  | string
  | { option: TypeDesc }
  | { seq: TypeDesc }
  | { map: [TypeDesc, TypeDesc] }
  | { tuple: TypeDesc[] }
  | { array: [TypeDesc, number] }
  | { unit_struct: string }
  | { newtype_struct: [string, TypeDesc] }
  | { tuple_struct: [string, TypeDesc[]] }
  | { struct: [string, [string, TypeDesc][]] }
  | { enum: [string, [string, Shape][]] };

type Json = null | boolean | number | string | Json[] | { [k: string]: Json };

const primitives: Record<string, Schema<any>> = {
  bool: t.bool,
  u8: t.u8,
  u16: t.u16,
  u32: t.u32,
  u64: t.u64,
  u128: t.u128,
  usize: t.usize,
  i8: t.i8,
  i16: t.i16,
  i32: t.i32,
  i64: t.i64,
  i128: t.i128,
  f32: t.f32,
  f64: t.f64,
  char: t.char,
  string: t.string,
  bytes: t.bytes,
  unit: t.unit,
};

const BIG = new Set(['u64', 'u128', 'usize', 'i64', 'i128']);

function only(desc: object): [string, any] {
  const keys = Object.keys(desc);
  if (keys.length !== 1) throw new Error(`bad type descriptor ${JSON.stringify(desc)}`);
  const k = keys[0]!;
  return [k, (desc as Record<string, unknown>)[k]];
}

function fieldsSchema(fields: [string, TypeDesc][]) {
  return t.struct(Object.fromEntries(fields.map(([name, ty]) => [name, schemaOf(ty)])));
}

/** The codec schema for a Type descriptor. */
export function schemaOf(ty: TypeDesc): Schema<any> {
  if (typeof ty === 'string') {
    const s = primitives[ty];
    if (s === undefined) throw new Error(`unknown primitive type ${ty}`);
    return s;
  }
  const [k, arg] = only(ty);
  switch (k) {
    case 'option':
      return t.option(schemaOf(arg));
    case 'seq':
      return t.vec(schemaOf(arg));
    case 'map':
      return t.map(schemaOf(arg[0]), schemaOf(arg[1]));
    case 'tuple':
      return t.tuple(...(arg as TypeDesc[]).map(schemaOf));
    case 'array':
      return t.array(schemaOf(arg[0]), arg[1]);
    case 'unit_struct':
      return t.unitStruct;
    case 'newtype_struct':
      return t.newtype(schemaOf(arg[1]));
    case 'tuple_struct':
      return t.tuple(...(arg[1] as TypeDesc[]).map(schemaOf));
    case 'struct':
      return fieldsSchema(arg[1]);
    case 'enum': {
      const variants: Record<string, Schema<any>> = {};
      for (const [name, shape] of arg[1] as [string, Shape][]) {
        if (shape === 'unit') variants[name] = t.unit;
        else if ('newtype' in shape) variants[name] = t.newtype(schemaOf(shape.newtype));
        else if ('tuple' in shape) variants[name] = t.tuple(...shape.tuple.map(schemaOf));
        else variants[name] = fieldsSchema(shape.struct);
      }
      return t.enumOf(variants);
    }
    default:
      throw new Error(`unknown type descriptor ${JSON.stringify(ty)}`);
  }
}

export function fromHex(hex: string): Uint8Array {
  if (!/^([0-9a-f]{2})*$/.test(hex)) throw new Error(`not lowercase hex: ${hex.slice(0, 40)}`);
  return new Uint8Array(Buffer.from(hex, 'hex'));
}

export { toHex };

/**
 * A form of a decoded value that vitest compares quickly and as we mean it:
 * byte arrays as hex, maps as entry lists sorted by key (order-free).
 */
export function canon(v: unknown): unknown {
  if (v instanceof Uint8Array) return `bytes:${toHex(v)}`;
  if (v instanceof Map) {
    const entries = [...v].map(([k, x]) => [canon(k), canon(x)] as const);
    const key = (e: readonly [unknown, unknown]) => JSON.stringify(e[0], (_, x) => (typeof x === 'bigint' ? `${x}n` : x));
    return { map: entries.sort((a, b) => (key(a) < key(b) ? -1 : key(a) > key(b) ? 1 : 0)) };
  }
  if (Array.isArray(v)) return v.map(canon);
  if (v !== null && typeof v === 'object') return Object.fromEntries(Object.entries(v).map(([k, x]) => [k, canon(x)]));
  return v;
}

function floatFromBits(bits: string, width: 32 | 64): number {
  const dv = new DataView(fromHex(bits).buffer);
  if (bits.length !== width / 4) throw new Error(`f${width} bits must be ${width / 4} hex digits: ${bits}`);
  return width === 32 ? dv.getFloat32(0, false) : dv.getFloat64(0, false);
}

function fieldsValue(fields: [string, TypeDesc][], json: Json, into: Record<string, unknown> = {}): Record<string, unknown> {
  const obj = json as Record<string, Json>;
  for (const [name, ty] of fields) {
    if (!(name in obj)) throw new Error(`value lacks field ${name}`);
    into[name] = valueOf(ty, obj[name]!);
  }
  return into;
}

/** The TS value for a golden JSON Value of type `ty`. */
export function valueOf(ty: TypeDesc, json: Json): unknown {
  if (typeof ty === 'string') {
    if (BIG.has(ty)) return BigInt(json as string);
    if (ty === 'f32' || ty === 'f64') return floatFromBits((json as { bits: string }).bits, ty === 'f32' ? 32 : 64);
    if (ty === 'bytes') return fromHex(json as string);
    if (ty === 'unit') return null;
    return json;
  }
  const [k, arg] = only(ty);
  switch (k) {
    case 'option': {
      if (json === null) return null;
      const inner = valueOf(arg, (json as { some: Json }).some);
      return schemaOf(arg).nullable === true ? { some: inner } : inner;
    }
    case 'seq':
      return (json as Json[]).map((x) => valueOf(arg, x));
    case 'map':
      return new Map((json as [Json, Json][]).map(([a, b]) => [valueOf(arg[0], a), valueOf(arg[1], b)]));
    case 'tuple':
      return (json as Json[]).map((x, i) => valueOf(arg[i], x));
    case 'array':
      return (json as Json[]).map((x) => valueOf(arg[0], x));
    case 'unit_struct':
      return null;
    case 'newtype_struct':
      return valueOf(arg[1], json);
    case 'tuple_struct':
      return (json as Json[]).map((x, i) => valueOf(arg[1][i], x));
    case 'struct':
      return fieldsValue(arg[1], json);
    case 'enum': {
      const { variant, value } = json as { variant: string; value?: Json };
      const found = (arg[1] as [string, Shape][]).find(([name]) => name === variant);
      if (found === undefined) throw new Error(`unknown variant ${variant}`);
      const shape = found[1];
      if (shape === 'unit') return { type: variant };
      if ('newtype' in shape) return { type: variant, value: valueOf(shape.newtype, value!) };
      if ('tuple' in shape) return { type: variant, value: (value as Json[]).map((x, i) => valueOf(shape.tuple[i]!, x)) };
      return fieldsValue(shape.struct, value!, { type: variant });
    }
    default:
      throw new Error(`unknown type descriptor ${JSON.stringify(ty)}`);
  }
}
