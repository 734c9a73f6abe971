// Compound schemas: option nesting, tuples, structs, maps, enums (every
// variant shape), recursion, and the bounds on hostile counts.
import { describe, expect, expectTypeOf, it } from 'vitest';
import { DEFAULT_MAX_ZERO_SIZED_ELEMENTS, EncodeError, Writer, decode, encode, t } from '@syncstate-ts/codec';
import type { Infer, Schema } from '@syncstate-ts/codec';
import { expectDecodeError, hex, toHex } from './helpers.js';

describe('option', () => {
  it('is a tag byte then the value; Some(v) is v when null is not a value of T', () => {
    const s = t.option(t.u8);
    expectTypeOf<Infer<typeof s>>().toEqualTypeOf<number | null>();
    expect(toHex(encode(s, null))).toBe('00');
    expect(toHex(encode(s, 7))).toBe('0107');
    expect(decode(s, hex('0107'))).toBe(7);
    expectDecodeError(() => decode(s, hex('02 07')), 'invalid-option-tag', 0);
  });

  it('wraps Some as { some } when T includes null, so Some(None) survives', () => {
    const s = t.option(t.option(t.u8));
    expectTypeOf<Infer<typeof s>>().toEqualTypeOf<{ some: number | null } | null>();
    const cases: [Infer<typeof s>, string][] = [
      [null, '00'],
      [{ some: null }, '0100'],
      [{ some: 5 }, '010105'],
    ];
    for (const [v, h] of cases) {
      expect(toHex(encode(s, v))).toBe(h);
      expect(decode(s, hex(h))).toEqual(v);
    }
    const u = t.option(t.unit);
    expect(decode(u, hex('01'))).toEqual({ some: null });
    expect(decode(u, hex('00'))).toBe(null);
    expect(decode(t.option(t.newtype(t.unitStruct)), hex('01'))).toEqual({ some: null });
    expect(() => encode(s, 5 as never)).toThrow(EncodeError);
  });
});

describe('tuple, array, struct, newtype', () => {
  it('write fields in order with no prefix', () => {
    const tup = t.tuple(t.u8, t.string, t.bool);
    expectTypeOf<Infer<typeof tup>>().toEqualTypeOf<[number, string, boolean]>();
    expect(toHex(encode(tup, [1, 'a', true]))).toBe('01016101');
    expect(() => encode(tup, [1, 'a'] as never)).toThrow(EncodeError);
    expect(toHex(encode(t.array(t.u16, 2), [1, 300]))).toBe('01fb2c01');
    expect(() => encode(t.array(t.u16, 2), [1])).toThrow(EncodeError);
    const point = t.struct({ x: t.i32, y: t.i32, label: t.option(t.string) });
    expectTypeOf<Infer<typeof point>>().toEqualTypeOf<{ x: number; y: number; label: string | null }>();
    expect(toHex(encode(point, { x: -1, y: 1, label: null }))).toBe('010200');
    expect(decode(point, hex('010200'))).toEqual({ x: -1, y: 1, label: null });
    expect(toHex(encode(t.newtype(t.u32), 300))).toBe('fb2c01');
  });

  it('names where a value does not fit', () => {
    const s = t.struct({ items: t.vec(t.struct({ n: t.u8 })) });
    let err: unknown;
    try {
      encode(s, { items: [{ n: 1 }, { n: 300 }] });
    } catch (e) {
      err = e;
    }
    expect(err).toBeInstanceOf(EncodeError);
    expect((err as EncodeError).code).toBe('unencodable-value');
    expect((err as EncodeError).path).toEqual(['items', 1, 'n']);
    expect((err as EncodeError).message).toContain('.items[1].n');
  });

  it('a struct field named __proto__ stays an own property', () => {
    const s = t.struct({ ['__proto__']: t.u8 } as Record<string, Schema<number>>);
    const v = decode(s, hex('05')) as Record<string, number>;
    expect(Object.getOwnPropertyDescriptor(v, '__proto__')?.value).toBe(5);
    expect(Object.getPrototypeOf(v)).toBe(Object.prototype);
  });
});

describe('map', () => {
  it('encodes in iteration order; decoding keeps the last value of a repeated key', () => {
    const s = t.map(t.string, t.u8);
    expect(toHex(encode(s, new Map([['a', 1], ['b', 2]])))).toBe('02016101016202');
    expect(decode(s, hex('03 016101 016202 016103'))).toEqual(new Map([['a', 3], ['b', 2]]));
    expect(() => encode(s, { a: 1 } as never)).toThrow(EncodeError);
  });

  it('compares byte and tuple keys by content', () => {
    const s = t.map(t.bytes, t.u8);
    const m = decode(s, hex('03 020102 01 0103 02 020102 03'));
    expect(m.size).toBe(2);
    expect([...m].map(([k, v]) => [toHex(k), v])).toEqual([['0102', 3], ['03', 2]]);
    const tk = t.map(t.tuple(t.u8, t.u8), t.u8);
    expect([...decode(tk, hex('02 0102 05 0102 06'))]).toEqual([[[1, 2], 6]]);
  });
});

describe('enumOf', () => {
  const Shape = t.enumOf({
    Empty: t.unit,
    Circle: t.f64,
    Rect: t.tuple(t.u32, t.u32),
    Poly: t.struct({ points: t.vec(t.tuple(t.i32, t.i32)), closed: t.bool }),
    Boxed: t.newtype(t.struct({ w: t.u8 })),
  });
  type Shape = Infer<typeof Shape>;

  it('infers a discriminated union on type', () => {
    expectTypeOf<Shape>().toEqualTypeOf<
      | { type: 'Empty' }
      | { type: 'Circle'; value: number }
      | { type: 'Rect'; value: [number, number] }
      | { type: 'Poly'; points: [number, number][]; closed: boolean }
      | { type: 'Boxed'; value: { w: number } }
    >();
  });

  it('writes the declaration index then the fields', () => {
    const cases: [Shape, string][] = [
      [{ type: 'Empty' }, '00'],
      [{ type: 'Circle', value: 1.5 }, '01000000000000f83f'],
      [{ type: 'Rect', value: [2, 300] }, '0202fb2c01'],
      [{ type: 'Poly', points: [[1, -1]], closed: true }, '0301020101'],
      [{ type: 'Boxed', value: { w: 9 } }, '0409'],
    ];
    for (const [v, h] of cases) {
      expect(toHex(encode(Shape, v))).toBe(h);
      expect(decode(Shape, hex(h))).toEqual(v);
    }
  });

  it('rejects unknown variants both ways', () => {
    expectDecodeError(() => decode(Shape, hex('05')), 'invalid-variant', 0);
    expectDecodeError(() => decode(Shape, hex('fcffffffff')), 'invalid-variant', 0);
    expectDecodeError(() => decode(Shape, hex('fd0000000000000000')), 'invalid-varint-marker', 0);
    expect(() => encode(Shape, { type: 'Hexagon' } as never)).toThrow(EncodeError);
    expect(() => encode(Shape, null as never)).toThrow(EncodeError);
  });

  it('refuses a struct variant field named type', () => {
    expect(() => t.enumOf({ A: t.struct({ type: t.u8 }) })).toThrow(TypeError);
  });
});

describe('hostile counts', () => {
  it('a sequence count above the remaining input fails before allocating', () => {
    expectDecodeError(() => decode(t.vec(t.u64), hex('fd ffffffffffffff0f')), 'length-exceeds-input', 0);
    expectDecodeError(() => decode(t.vec(t.u8), hex('03 0102')), 'length-exceeds-input', 0);
    // Elements of at least 8 bytes: 2 of them cannot come from 15 bytes.
    expectDecodeError(() => decode(t.vec(t.f64), hex('02' + '00'.repeat(15))), 'length-exceeds-input', 0);
    expectDecodeError(() => decode(t.map(t.u8, t.fixedBytes(4)), hex('02' + '00'.repeat(9))), 'length-exceeds-input', 0);
  });

  it('zero-sized elements are bounded by a budget instead of hanging', () => {
    expect(decode(t.vec(t.unit), hex('05'))).toEqual([null, null, null, null, null]);
    expect(decode(t.vec(t.tuple()), hex('02'))).toEqual([[], []]);
    expect(decode(t.vec(t.unit), hex('fb0000')).length).toBe(0);
    const max = DEFAULT_MAX_ZERO_SIZED_ELEMENTS;
    expect(decode(t.vec(t.unit), encode(t.u64, BigInt(max))).length).toBe(max);
    expectDecodeError(() => decode(t.vec(t.unit), encode(t.u64, BigInt(max + 1))), 'length-exceeds-limit', 0);
    expectDecodeError(() => decode(t.vec(t.unit), hex('fd000000000000f00f')), 'length-exceeds-limit', 0);
    // The budget is shared by the whole value, so nesting cannot multiply it.
    const nested = t.vec(t.vec(t.unit));
    const bytes = encode(nested, Array.from({ length: 3 }, () => new Array(40_000).fill(null)));
    expectDecodeError(() => decode(nested, bytes), 'length-exceeds-limit');
    expect(decode(nested, bytes, { maxZeroSizedElements: 120_000 }).length).toBe(3);
    expectDecodeError(() => decode(t.map(t.unit, t.unitStruct), hex('fc00000001')), 'length-exceeds-limit', 0);
  });
});

describe('lazy (recursive types)', () => {
  type Tree = { value: number; children: Tree[] };
  const tree: Schema<Tree> = t.lazy(() => t.struct({ value: t.u8, children: t.vec(tree) }));
  type List = { head: number; tail: List | null };
  const list: Schema<List> = t.lazy(() => t.struct({ head: t.u8, tail: t.option(list) }));

  it('round-trips recursive values', () => {
    const v: Tree = { value: 1, children: [{ value: 2, children: [] }, { value: 3, children: [{ value: 4, children: [] }] }] };
    expect(toHex(encode(tree, v))).toBe('0102020003010400');
    expect(decode(tree, encode(tree, v))).toEqual(v);
    expect(decode(list, hex('01 01 02 00'))).toEqual({ head: 1, tail: { head: 2, tail: null } });
  });

  it('stops hostile nesting with depth-exceeded, not a stack overflow', () => {
    const deep = new Uint8Array(200_000).fill(1); // head 1, Some, head 1, Some...
    expectDecodeError(() => decode(list, deep), 'depth-exceeded');
    expectDecodeError(() => decode(t.option(list), hex('01 0101 0101 0100'), { maxDepth: 2 }), 'depth-exceeded');
    expect(decode(list, hex('0101 0101 0100'), { maxDepth: 3 })).toEqual({ head: 1, tail: { head: 1, tail: { head: 1, tail: null } } });
  });
});

describe('Writer', () => {
  it('is reusable; finish copies, view does not', () => {
    const w = new Writer(16);
    t.string.write(w, 'x'.repeat(100));
    expect(w.length).toBe(101);
    expect(w.capacity).toBeGreaterThanOrEqual(101);
    const copy = w.finish();
    const view = w.view();
    w.reset();
    t.u8.write(w, 0xaa);
    expect(copy[0]).toBe(100);
    expect(view[0]).toBe(0xaa);
    expect(toHex(w.finish())).toBe('aa');
  });

  it('encode() works when a schema encodes from inside write()', () => {
    // A payload field holding another value's encoding, like evt_data.
    const inner = t.vec(t.u16);
    const outer: Schema<number[]> = {
      write: (w, v) => t.bytes.write(w, encode(inner, v)),
      read: (r) => decode(inner, t.bytes.read(r)),
    };
    const pair = t.tuple(outer, t.u8);
    const bytes = encode(pair, [[1, 300], 9]);
    expect(toHex(bytes)).toBe('05 02 01 fb2c01 09'.replace(/ /g, ''));
    expect(decode(pair, bytes)).toEqual([[1, 300], 9]);
  });
});
