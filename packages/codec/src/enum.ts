// `t.enumOf`: a Rust enum as a discriminated union on `type`. bincode writes
// the variant's declaration index (explicit discriminants are ignored) as a
// varint u32, then the variant's fields.
//
// Shapes, chosen by the schema given for each variant:
//   t.unit             unit variant      `A`            → { type: 'A' }
//   t.struct({...})    struct variant    `D { x, y }`   → { type: 'D', x, y }
//   anything else      newtype / tuple   `B(T)`, `C(T, U)` → { type: 'B', value: T }, { type: 'C', value: [T, U] }
// (Use t.tuple for tuple variants; t.newtype(t.struct(...)) keeps a newtype
// variant holding a struct as `{ type, value: {...} }` — same bytes either way.)

import { EncodeError, describe, rethrowWithin } from './errors.js';
import { readFieldsInto } from './combinators.js';
import type { Infer, InferFields, Schema, Simplify, StructSchema, UnitSchema } from './schema.js';

export type VariantValue<K extends string, S> = S extends UnitSchema
  ? { type: K }
  : S extends StructSchema<infer F>
    ? Simplify<{ type: K } & InferFields<F>>
    : { type: K; value: Infer<S> };

export type EnumValue<V extends Record<string, Schema<any>>> = {
  [K in keyof V & string]: VariantValue<K, V[K]>;
}[keyof V & string];

export interface EnumSchema<V extends Record<string, Schema<any>>> extends Schema<EnumValue<V>> {
  readonly kind: 'enum';
  readonly variants: V;
  /** Variant names in declaration (= wire index) order. */
  readonly names: readonly string[];
}

type Variant =
  | { shape: 'unit'; name: string }
  | { shape: 'struct'; name: string; schema: Schema<unknown>; names: string[]; schemas: Schema<unknown>[] }
  | { shape: 'value'; name: string; schema: Schema<unknown> };

/** Variants in declaration order: the object's key order is the wire index. */
export function enumOf<const V extends Record<string, Schema<any>>>(variants: V): EnumSchema<V> {
  const names = Object.keys(variants);
  const list: Variant[] = names.map((name) => {
    const schema = variants[name]!;
    if (schema.kind === 'unit') return { shape: 'unit', name };
    if (schema.kind === 'struct') {
      const fields = (schema as unknown as StructSchema<Record<string, Schema<unknown>>>).fields;
      const fieldNames = Object.keys(fields);
      if (fieldNames.includes('type')) {
        throw new TypeError(`enum variant ${name}: a struct variant cannot have a field named "type" (it holds the variant name)`);
      }
      return { shape: 'struct', name, schema, names: fieldNames, schemas: fieldNames.map((f) => fields[f]!) };
    }
    return { shape: 'value', name, schema };
  });
  const index = new Map<string, number>(names.map((n, i) => [n, i]));
  const count = list.length;

  return {
    kind: 'enum',
    variants,
    names,
    // The variant index takes at least one byte.
    minSize: 1,
    nullable: false,
    write(w, v) {
      if (typeof v !== 'object' || v === null) throw new EncodeError('unencodable-value', `${describe(v)} is not an enum value ({ type: ... })`);
      const type = (v as { type?: unknown }).type;
      const i = typeof type === 'string' ? index.get(type) : undefined;
      if (i === undefined) throw new EncodeError('unencodable-value', `${describe(type)} is not a variant of this enum (${names.join(', ')})`);
      w.writeVarint(i);
      const variant = list[i]!;
      try {
        if (variant.shape === 'struct') variant.schema.write(w, v);
        else if (variant.shape === 'value') variant.schema.write(w, (v as { value?: unknown }).value);
      } catch (e) {
        rethrowWithin(e, variant.name);
      }
    },
    read(r) {
      const at = r.offset;
      const i = r.readVarint32();
      if (i >= count) r.fail('invalid-variant', at, `variant index ${i}, the enum has ${count}`);
      const variant = list[i]!;
      if (variant.shape === 'unit') return { type: variant.name } as EnumValue<V>;
      if (variant.shape === 'value') return { type: variant.name, value: variant.schema.read(r) } as EnumValue<V>;
      const out: Record<string, unknown> = { type: variant.name };
      readFieldsInto(r, out, variant.names, variant.schemas);
      return out as EnumValue<V>;
    },
  };
}
