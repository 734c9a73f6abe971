// Primitive schemas: exact bytes at every varint/zigzag boundary, encode-side
// validation, and decode-side rejection of every malformed form bincode rejects.
import { describe, expect, it } from 'vitest';
import { DecodeError, EncodeError, Reader, decode, encode, t } from '@syncstate-ts/codec';
import type { Schema } from '@syncstate-ts/codec';
import { atOffset, expectDecodeError, hex, toHex } from './helpers.js';

function roundTrip<T>(schema: Schema<T>, value: T, expectedHex: string): void {
  const bytes = encode(schema, value);
  expect(toHex(bytes)).toBe(expectedHex);
  expect(decode(schema, bytes, { strict: true })).toEqual(value);
  expect(decode(schema, atOffset(bytes), { strict: true })).toEqual(value);
}

describe('integers', () => {
  it('u8/i8 are one raw byte', () => {
    roundTrip(t.u8, 0, '00');
    roundTrip(t.u8, 255, 'ff');
    roundTrip(t.i8, -1, 'ff');
    roundTrip(t.i8, -128, '80');
    roundTrip(t.i8, 127, '7f');
  });

  it('unsigned varints take the shortest form at each marker boundary', () => {
    roundTrip(t.u16, 250, 'fa');
    roundTrip(t.u16, 251, 'fbfb00');
    roundTrip(t.u16, 65535, 'fbffff');
    roundTrip(t.u32, 65536, 'fc00000100');
    roundTrip(t.u32, 0xffffffff, 'fcffffffff');
    roundTrip(t.u64, 250n, 'fa');
    roundTrip(t.u64, 1n << 32n, 'fd0000000001000000');
    roundTrip(t.u64, 2n ** 53n + 1n, 'fd0100000000002000');
    roundTrip(t.u64, 2n ** 64n - 1n, 'fdffffffffffffffff');
    roundTrip(t.usize, 300n, 'fb2c01');
    roundTrip(t.u128, 2n ** 64n, 'fe00000000000000000100000000000000');
    roundTrip(t.u128, 2n ** 128n - 1n, 'feffffffffffffffffffffffffffffffff');
  });

  it('signed varints zigzag without 32-bit overflow', () => {
    roundTrip(t.i16, 0, '00');
    roundTrip(t.i16, -1, '01');
    roundTrip(t.i16, 1, '02');
    roundTrip(t.i16, 125, 'fa');
    roundTrip(t.i16, -126, 'fbfb00');
    roundTrip(t.i16, -32768, 'fbffff');
    roundTrip(t.i32, 2147483647, 'fcfeffffff');
    roundTrip(t.i32, -2147483648, 'fcffffffff');
    roundTrip(t.i32, 1 << 30, 'fc00000080');
    roundTrip(t.i64, -(2n ** 63n), 'fdffffffffffffffff');
    roundTrip(t.i64, 2n ** 63n - 1n, 'fdfeffffffffffffff');
    roundTrip(t.i128, -(2n ** 127n), 'feffffffffffffffffffffffffffffffff');
    roundTrip(t.i128, -1n, '01');
  });

  it('decoding accepts longer forms than needed, as bincode does', () => {
    expect(decode(t.u32, hex('fb0500'))).toBe(5);
    expect(decode(t.u64, hex('fc05000000'))).toBe(5n);
    expect(decode(t.u128, hex('fd0500000000000000'))).toBe(5n);
    expect(decode(t.i32, hex('fb0300'))).toBe(-2);
  });

  it('rejects a marker wider than the target type', () => {
    expectDecodeError(() => decode(t.u16, hex('fc00000000')), 'invalid-varint-marker', 0);
    expectDecodeError(() => decode(t.i16, hex('fd')), 'invalid-varint-marker', 0);
    expectDecodeError(() => decode(t.u32, hex('fd0000000000000000')), 'invalid-varint-marker', 0);
    expectDecodeError(() => decode(t.u64, hex('fe' + '00'.repeat(16))), 'invalid-varint-marker', 0);
    expectDecodeError(() => decode(t.usize, hex('fe' + '00'.repeat(16))), 'invalid-varint-marker', 0);
    for (const s of [t.u16, t.u32, t.u64, t.u128, t.i16, t.i32, t.i64, t.i128, t.usize] as Schema<unknown>[]) {
      expectDecodeError(() => decode(s, hex('ff' + '00'.repeat(16))), 'invalid-varint-marker', 0);
    }
  });

  it('reports a varint cut short as truncated at its start', () => {
    expectDecodeError(() => decode(t.tuple(t.u8, t.u32), hex('07 fc 01 02')), 'truncated', 1);
    expectDecodeError(() => decode(t.u64, hex('fd01')), 'truncated', 0);
    expectDecodeError(() => decode(t.u128, hex('fe01')), 'truncated', 0);
    expectDecodeError(() => decode(t.u8, new Uint8Array(0)), 'truncated', 0);
  });

  it('refuses values that do not fit, with EncodeError', () => {
    const bad: [Schema<any>, unknown][] = [
      [t.u8, 256],
      [t.u8, -1],
      [t.u8, 1.5],
      [t.u8, NaN],
      [t.u8, '1'],
      [t.u8, 1n],
      [t.i8, 128],
      [t.u16, 65536],
      [t.i16, -32769],
      [t.u32, 2 ** 32],
      [t.u32, -1],
      [t.i32, 2 ** 31],
      [t.i32, 0.5],
      [t.u64, 1],
      [t.u64, -1n],
      [t.u64, 2n ** 64n],
      [t.i64, 2n ** 63n],
      [t.u128, 2n ** 128n],
      [t.i128, -(2n ** 127n) - 1n],
      [t.usize, 2n ** 64n],
      [t.f64, '1'],
      [t.bool, 1],
      [t.unit, undefined],
    ];
    for (const [s, v] of bad) {
      expect(() => encode(s, v), String(v)).toThrow(EncodeError);
      expect(() => encode(s, v), String(v)).toThrow(expect.objectContaining({ code: 'unencodable-value' }));
    }
  });
});

describe('floats, bools, unit', () => {
  it('floats are IEEE-754 bits little endian', () => {
    roundTrip(t.f64, 1.5, '000000000000f83f');
    roundTrip(t.f64, -0, '0000000000000080');
    roundTrip(t.f64, Infinity, '000000000000f07f');
    roundTrip(t.f32, 1.5, '0000c03f');
    roundTrip(t.f32, Math.fround(5e-45), '04000000'); // subnormal
    expect(Number.isNaN(decode(t.f64, encode(t.f64, NaN)))).toBe(true);
    expect(toHex(encode(t.f32, 0.1))).toBe('cdcccc3d'); // rounded like `0.1_f64 as f32`
  });

  it('bool is 0 or 1, anything else is rejected', () => {
    roundTrip(t.bool, true, '01');
    roundTrip(t.bool, false, '00');
    expectDecodeError(() => decode(t.bool, hex('02')), 'invalid-bool', 0);
  });

  it('unit and unit structs take no bytes', () => {
    roundTrip(t.unit, null, '');
    roundTrip(t.unitStruct, null, '');
  });
});

describe('char', () => {
  it('is bare UTF-8, 1 to 4 bytes', () => {
    roundTrip(t.char, 'a', '61');
    roundTrip(t.char, 'é', 'c3a9');
    roundTrip(t.char, '€', 'e282ac');
    roundTrip(t.char, '😀', 'f09f9880');
    roundTrip(t.char, '\u{10ffff}', 'f48fbfbf');
  });

  it('encoding needs exactly one Unicode scalar value', () => {
    for (const bad of ['', 'ab', '\ud800', '\udc00', 'a\u0301', '😀a', 5]) {
      expect(() => encode(t.char, bad as string), JSON.stringify(bad)).toThrow(EncodeError);
    }
    expect(() => encode(t.char, '\ud800')).toThrow(expect.objectContaining({ code: 'lone-surrogate' }));
    expect(() => encode(t.char, 'ab')).toThrow(expect.objectContaining({ code: 'unencodable-value' }));
  });

  it('decoding rejects what bincode 2.0.1 rejects', () => {
    const invalid = ['80', 'bf', 'c0af', 'c1bf', 'c241', 'e080af', 'eda080', 'edbfbf', 'f08f8080', 'f4908080', 'f5808080', 'ff', 'e28228'];
    for (const h of invalid) expectDecodeError(() => decode(t.char, hex(h)), 'invalid-char', 0);
    for (const h of ['', 'c3', 'e282', 'f09f98']) expectDecodeError(() => decode(t.char, hex(h)), 'truncated', 0);
    // bincode checks the first byte before the length: an invalid first byte wins.
    expectDecodeError(() => decode(t.char, hex('f8')), 'invalid-char', 0);
  });
});

describe('strings', () => {
  it('are a varint byte length then UTF-8', () => {
    roundTrip(t.string, '', '00');
    roundTrip(t.string, 'hi', '026869');
    roundTrip(t.string, 'é😀', '06c3a9f09f9880');
    roundTrip(t.string, '\ufeffbom', '06efbbbf626f6d'); // the BOM is kept both ways
  });

  it('handles every length class, ASCII and not', () => {
    for (const n of [0, 1, 31, 32, 33, 83, 84, 85, 250, 251, 252, 1000, 70000]) {
      for (const unit of ['a', 'é', '€', '😀']) {
        const s = unit.repeat(Math.ceil(n / unit.length)).slice(0, n - (n % unit.length));
        const bytes = encode(t.string, s);
        const len = new TextEncoder().encode(s).length;
        const prefix = len <= 250 ? 1 : len <= 0xffff ? 3 : 5;
        expect(bytes.length).toBe(prefix + len);
        expect(decode(t.string, bytes, { strict: true })).toBe(s);
      }
    }
  });

  it('refuses lone surrogates instead of writing U+FFFD', () => {
    for (const s of ['\ud800', 'a\udc00b', 'x'.repeat(200) + '\ud83d', '\ud83d'.padStart(100, 'y')]) {
      expect(() => encode(t.string, s)).toThrow(EncodeError);
      expect(() => encode(t.string, s)).toThrow(expect.objectContaining({ code: 'lone-surrogate' }));
    }
  });

  it('rejects invalid UTF-8 at the string start', () => {
    expectDecodeError(() => decode(t.string, hex('02 c328')), 'invalid-utf8', 0);
    expectDecodeError(() => decode(t.string, hex('03 eda080')), 'invalid-utf8', 0);
    expectDecodeError(() => decode(t.string, hex('02 c0af')), 'invalid-utf8', 0);
    expectDecodeError(() => decode(t.string, hex('01 ff')), 'invalid-utf8', 0);
    const long = new Uint8Array(100).fill(0x61);
    long[0] = 99;
    long[60] = 0xc3;
    expectDecodeError(() => decode(t.string, long), 'invalid-utf8', 0);
  });

  it('checks a claimed length against the remaining input before allocating', () => {
    expectDecodeError(() => decode(t.string, hex('fd 0000000000010000 61')), 'length-exceeds-input', 0);
    expectDecodeError(() => decode(t.string, hex('05 6162')), 'length-exceeds-input', 0);
  });
});

describe('bytes', () => {
  it('Vec<u8> has a length prefix, [u8; N] has none', () => {
    roundTrip(t.bytes, hex('010203'), '03010203');
    roundTrip(t.fixedBytes(3), hex('010203'), '010203');
    roundTrip(t.fixedBytes(0), new Uint8Array(0), '');
    expect(() => encode(t.fixedBytes(3), hex('0102'))).toThrow(EncodeError);
    expect(() => encode(t.bytes, [1, 2] as unknown as Uint8Array)).toThrow(EncodeError);
    expectDecodeError(() => decode(t.fixedBytes(3), hex('0102')), 'truncated', 0);
    expectDecodeError(() => decode(t.bytes, hex('fc ffffffff 00')), 'length-exceeds-input', 0);
  });

  it('decoded bytes are copies unless aliasBytes is set', () => {
    const input = hex('03 010203 aabbcc');
    const copy = decode(t.bytes, input);
    const fixed = decode(t.tuple(t.u8, t.fixedBytes(3)), input)[1];
    input.fill(0);
    expect(toHex(copy)).toBe('010203');
    expect(toHex(fixed)).toBe('010203');
    // Node's Buffer.slice() is a view: decoding a Buffer must still copy.
    const buf = Buffer.from(hex('02 0a0b'));
    const fromBuffer = decode(t.bytes, buf);
    buf.fill(0);
    expect(toHex(fromBuffer)).toBe('0a0b');
    expect(fromBuffer.constructor).toBe(Uint8Array);
    const aliased = decode(t.bytes, input, { aliasBytes: true });
    expect(aliased.buffer).toBe(input.buffer);
  });
});

describe('decode options and Reader', () => {
  it('ignores trailing bytes like Rust unless strict', () => {
    expect(decode(t.u8, hex('0102'))).toBe(1);
    expectDecodeError(() => decode(t.u8, hex('0102'), { strict: true }), 'trailing-bytes', 1);
  });

  it('reads from an offset and reports offsets into the same array', () => {
    const r = new Reader(hex('ff ff 05 fb'), 2);
    expect(r.remaining).toBe(2);
    expect(t.u32.read(r)).toBe(5);
    expect(r.offset).toBe(3);
    expectDecodeError(() => t.u32.read(r), 'truncated', 3);
    expect(() => new Reader(hex('00'), 2)).toThrow(RangeError);
  });

  it('never mutates its input', () => {
    const input = hex('02 6869 03 010203');
    const before = toHex(input);
    decode(t.tuple(t.string, t.bytes), input);
    expect(toHex(input)).toBe(before);
  });

  it('DecodeError carries code and offset', () => {
    const e = expectDecodeError(() => decode(t.bool, hex('00 00 07').subarray(2)), 'invalid-bool', 0);
    expect(e).toBeInstanceOf(Error);
    expect(e.message).toContain('at byte 0');
    expect(e).toBeInstanceOf(DecodeError);
  });
});
