// Property tests over arbitrary schemas: a generator builds a random schema
// together with an arbitrary of the values it takes. decode(encode(v)) must
// give v back; random and mutated bytes must decode or throw DecodeError.
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { DecodeError, Reader, decode, encode, t } from '@syncstate-ts/codec';
import type { Schema } from '@syncstate-ts/codec';
import { toHex } from './helpers.js';

interface Gen {
  schema: Schema<any>;
  value: fc.Arbitrary<unknown>;
}

const U64 = 2n ** 64n - 1n;
const U128 = 2n ** 128n - 1n;
const scalar = fc
  .integer({ min: 0, max: 0x10ffff - 0x800 })
  .map((n) => String.fromCodePoint(n < 0xd800 ? n : n + 0x800)); // skip the surrogate range

const leaves: Gen[] = [
  { schema: t.bool, value: fc.boolean() },
  { schema: t.u8, value: fc.integer({ min: 0, max: 255 }) },
  { schema: t.i8, value: fc.integer({ min: -128, max: 127 }) },
  { schema: t.u16, value: fc.integer({ min: 0, max: 0xffff }) },
  { schema: t.i16, value: fc.integer({ min: -32768, max: 32767 }) },
  { schema: t.u32, value: fc.nat({ max: 0xffffffff }) },
  { schema: t.i32, value: fc.integer() },
  { schema: t.u64, value: fc.bigInt({ min: 0n, max: U64 }) },
  { schema: t.usize, value: fc.bigInt({ min: 0n, max: U64 }) },
  { schema: t.u128, value: fc.bigInt({ min: 0n, max: U128 }) },
  { schema: t.i64, value: fc.bigInt({ min: -(2n ** 63n), max: 2n ** 63n - 1n }) },
  { schema: t.i128, value: fc.bigInt({ min: -(2n ** 127n), max: 2n ** 127n - 1n }) },
  { schema: t.f32, value: fc.float() },
  { schema: t.f64, value: fc.double() },
  { schema: t.char, value: scalar },
  { schema: t.string, value: fc.string({ unit: 'binary', maxLength: 40 }) },
  { schema: t.string, value: fc.string({ unit: 'binary', minLength: 84, maxLength: 300 }) },
  { schema: t.bytes, value: fc.uint8Array({ maxLength: 40 }) },
  { schema: t.fixedBytes(3), value: fc.uint8Array({ minLength: 3, maxLength: 3 }) },
  { schema: t.unit, value: fc.constant(null) },
  { schema: t.unitStruct, value: fc.constant(null) },
];
const leaf = fc.constantFrom(...leaves);

// Map keys: types whose JS values are Map keys by value or compared by content.
const keyTypes: Schema<any>[] = [t.string, t.u32, t.u64, t.bytes, t.char, t.bool, t.i64];
const keyLeaf = fc.constantFrom(...leaves.filter((g) => keyTypes.includes(g.schema)));

function genAt(depth: number): fc.Arbitrary<Gen> {
  if (depth === 0) return leaf;
  const sub = genAt(depth - 1);
  const compound: fc.Arbitrary<Gen>[] = [
    sub.map((g) => ({ schema: t.vec(g.schema), value: fc.array(g.value, { maxLength: 4 }) })),
    fc.tuple(sub, fc.integer({ min: 0, max: 3 })).map(([g, n]) => ({
      schema: t.array(g.schema, n),
      value: fc.array(g.value, { minLength: n, maxLength: n }),
    })),
    sub.map((g) => ({
      schema: t.option(g.schema),
      value: fc.option(g.schema.nullable === true ? g.value.map((v) => ({ some: v })) : g.value, { nil: null }),
    })),
    fc.array(sub, { maxLength: 3 }).map((gs) => ({ schema: t.tuple(...gs.map((g) => g.schema)), value: fc.tuple(...gs.map((g) => g.value)) })),
    fc.array(sub, { maxLength: 3 }).map((gs) => ({
      schema: t.struct(Object.fromEntries(gs.map((g, i) => [`f${i}`, g.schema]))),
      value: fc.record(Object.fromEntries(gs.map((g, i) => [`f${i}`, g.value]))),
    })),
    fc.tuple(keyLeaf, sub).map(([k, v]) => ({
      schema: t.map(k.schema, v.schema),
      value: fc
        .uniqueArray(fc.tuple(k.value, v.value), { maxLength: 4, selector: ([key]) => toHex(encode(k.schema, key)) })
        .map((entries) => new Map(entries)),
    })),
    sub.map((g) => ({ schema: t.newtype(g.schema), value: g.value })),
    fc
      .array(fc.tuple(fc.constantFrom('unit', 'value', 'struct'), sub, fc.array(sub, { maxLength: 2 })), { minLength: 1, maxLength: 4 })
      .map((variants) => {
        const schemas: Record<string, Schema<any>> = {};
        const values: fc.Arbitrary<unknown>[] = [];
        variants.forEach(([shape, g, fields], i) => {
          const type = `V${i}`;
          if (shape === 'unit') {
            schemas[type] = t.unit;
            values.push(fc.constant({ type }));
          } else if (shape === 'value') {
            schemas[type] = g.schema.kind === 'struct' || g.schema.kind === 'unit' ? t.newtype(g.schema) : g.schema;
            values.push(g.value.map((value) => ({ type, value })));
          } else {
            schemas[type] = t.struct(Object.fromEntries(fields.map((f, j) => [`f${j}`, f.schema])));
            values.push(fc.record(Object.fromEntries(fields.map((f, j) => [`f${j}`, f.value]))).map((r) => ({ type, ...r })));
          }
        });
        return { schema: t.enumOf(schemas), value: fc.oneof(...values) };
      }),
  ];
  return fc.oneof(leaf, ...compound);
}

const schemaAndValue = genAt(3).chain((g) => g.value.map((v) => [g.schema, v] as const));
const schemaOnly = genAt(3).map((g) => g.schema);

function decodesOrThrowsDecodeError(schema: Schema<unknown>, bytes: Uint8Array): void {
  try {
    const r = new Reader(bytes);
    schema.read(r);
    expect(r.offset).toBeLessThanOrEqual(bytes.length);
  } catch (e) {
    if (!(e instanceof DecodeError)) throw e;
    expect(e.offset).toBeGreaterThanOrEqual(0);
    expect(e.offset).toBeLessThanOrEqual(bytes.length);
  }
}

describe('properties', () => {
  it('decode(encode(v)) = v, consuming every byte; re-encoding gives the same bytes', () => {
    fc.assert(
      fc.property(schemaAndValue, ([schema, value]) => {
        const bytes = encode(schema, value);
        const back = decode(schema, bytes, { strict: true });
        expect(back).toEqual(value);
        expect(toHex(encode(schema, back))).toBe(toHex(bytes));
      }),
      { numRuns: 400 },
    );
  });

  it('random bytes decode or throw DecodeError, never anything else', () => {
    fc.assert(
      fc.property(schemaOnly, fc.uint8Array({ maxLength: 64 }), (schema, bytes) => decodesOrThrowsDecodeError(schema, bytes)),
      { numRuns: 400 },
    );
  });

  it('mutated valid encodings decode or throw DecodeError', () => {
    const mutation = fc.oneof(
      fc.record({ kind: fc.constant('set' as const), at: fc.nat(), byte: fc.integer({ min: 0, max: 255 }) }),
      fc.record({ kind: fc.constant('cut' as const), at: fc.nat() }),
      fc.record({ kind: fc.constant('insert' as const), at: fc.nat(), byte: fc.constantFrom(0, 1, 2, 250, 251, 252, 253, 254, 255) }),
      fc.record({ kind: fc.constant('delete' as const), at: fc.nat() }),
    );
    fc.assert(
      fc.property(schemaAndValue, fc.array(mutation, { minLength: 1, maxLength: 3 }), ([schema, value], mutations) => {
        let bytes = Array.from(encode(schema, value));
        for (const m of mutations) {
          const at = bytes.length === 0 ? 0 : m.at % (bytes.length + 1);
          if (m.kind === 'set' && at < bytes.length) bytes[at] = m.byte;
          else if (m.kind === 'cut') bytes = bytes.slice(0, at);
          else if (m.kind === 'insert') bytes.splice(at, 0, m.byte);
          else if (m.kind === 'delete') bytes.splice(at, 1);
        }
        decodesOrThrowsDecodeError(schema, Uint8Array.from(bytes));
      }),
      { numRuns: 400 },
    );
  });

  it('every strict prefix of a valid encoding is rejected', () => {
    fc.assert(
      fc.property(schemaAndValue, ([schema, value]) => {
        const bytes = encode(schema, value);
        // Cutting the value short must fail (as Rust's UnexpectedEnd does), wherever the cut is.
        for (let n = 0; n < bytes.length; n++) {
          expect(() => decode(schema, bytes.subarray(0, n))).toThrow(DecodeError);
        }
      }),
      { numRuns: 150 },
    );
  });
});
