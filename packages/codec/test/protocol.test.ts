// The syncstate protocol messages: docs/protocol.md's worked examples, every
// variant through the idiomatic helpers, and garbage-input tables for every
// public decode function (only DecodeError may come out; inputs untouched).
import { describe, expect, it } from 'vitest';
import {
  DecodeError,
  FrameReader,
  decode,
  decodeRequest,
  decodeRequestWrapper,
  decodeResponse,
  encodeFrame,
  encodeRequest,
  encodeRequestWrapper,
  encodeResponse,
  requestWrapperSchema,
  t,
} from '@syncstate-ts/codec';
import type { Request, Response } from '@syncstate-ts/codec';
import { atOffset, expectDecodeError, hex, toHex } from './helpers.js';

const hash = new Uint8Array(32).fill(0x11);
const h = '11'.repeat(32);

describe('worked example (docs/protocol.md, "Messages")', () => {
  it('GetDiff from 0 to 300 with password "pw"', () => {
    const bytes = encodeRequestWrapper({
      password: new TextEncoder().encode('pw'),
      request: { type: 'GetDiff', hash, fromUpdateId: 0n, uptoUpdateId: 300n },
    });
    expect(toHex(bytes)).toBe(`027077 02 ${h} 00 fb2c01`.replace(/ /g, ''));
    expect(bytes.length).toBe(40);
    expect(toHex(encodeFrame(bytes))).toBe(`00000028${toHex(bytes)}`);
    expect(decodeRequestWrapper(bytes)).toEqual({
      password: hex('7077'),
      request: { type: 'GetDiff', hash, fromUpdateId: 0n, uptoUpdateId: 300n },
    });
  });
});

describe('messages', () => {
  const requests: [Request, string][] = [
    [{ type: 'GetUpdateId', hash }, `00${h}`],
    [{ type: 'Event', hash, eventData: hex('0102') }, `01${h}020102`],
    [{ type: 'GetDiff', hash, fromUpdateId: 2n ** 64n - 1n, uptoUpdateId: 251n }, `02${h}fdfffffffffffffffffbfb00`],
    [{ type: 'Init', hash, initData: new Uint8Array(0) }, `03${h}00`],
  ];
  const responses: [Response, string][] = [
    [{ type: 'IncorrectPassword' }, '00'],
    [{ type: 'UpdateId', updateId: 7n }, '0107'],
    [{ type: 'HashNotFound' }, '02'],
    [{ type: 'EventInProcess' }, '03'],
    [{ type: 'InitSuccess' }, '04'],
    [{ type: 'HashMismatch' }, '05'],
    [{ type: 'Diff', fromUpdateId: 1n, uptoUpdateId: 2n, isFull: true, encodedDiff: hex('00') }, '0601020101 00'.replace(/ /g, '')],
    [{ type: 'InitFailure', errorMessage: 'nope' }, '07046e6f7065'],
  ];

  it('requests use the declaration order of TcpStateServerRequest', () => {
    for (const [req, want] of requests) {
      expect(toHex(encodeRequest(req))).toBe(want);
      expect(decodeRequest(hex(want))).toEqual(req);
      const wrapped = encodeRequestWrapper({ password: hex('00ff'), request: req });
      expect(toHex(wrapped)).toBe(`0200ff${want}`);
      expect(decodeRequestWrapper(atOffset(wrapped), { strict: true })).toEqual({ password: hex('00ff'), request: req });
    }
  });

  it('responses use the declaration order of TcpStateServerResponse', () => {
    for (const [resp, want] of responses) {
      expect(toHex(encodeResponse(resp))).toBe(want);
      expect(decodeResponse(hex(want), { strict: true })).toEqual(resp);
    }
  });

  it('a hash must be exactly 32 bytes', () => {
    expect(() => encodeRequest({ type: 'GetUpdateId', hash: new Uint8Array(31) })).toThrow(/\[u8; 32\]/);
  });
});

// Garbage-input tables. Each public decoder gets every input; the result must
// be a value or a DecodeError, the input must be unchanged.
const garbage: [string, Uint8Array][] = [
  ['empty', new Uint8Array(0)],
  ['one zero', hex('00')],
  ['0xff', hex('ff')],
  ['all 0xff', new Uint8Array(64).fill(0xff)],
  ['all 0xfd', new Uint8Array(64).fill(0xfd)],
  ['huge length', hex('fd ffffffffffffffff')],
  ['u64 length marker then nothing', hex('fd')],
  ['u128 marker', hex('fe' + '00'.repeat(16))],
  ['variant 8', hex('08')],
  ['variant u32 max', hex('fcffffffff')],
  ['truncated hash', hex('00 00' + '11'.repeat(10))],
  ['bad bool in Diff', hex('06 01 02 05 00')],
  ['invalid UTF-8 in InitFailure', hex('07 02 c328')],
  ['string length past end', hex('07 fc00000001 41')],
  ['random', Uint8Array.from({ length: 100 }, (_, i) => (i * 97 + 13) & 0xff)],
  ['frame header', hex('00000028')],
];

const decoders: [string, (b: Uint8Array) => unknown][] = [
  ['decodeRequest', (b) => decodeRequest(b)],
  ['decodeRequestWrapper', (b) => decodeRequestWrapper(b)],
  ['decodeResponse', (b) => decodeResponse(b)],
  ['decodeResponse strict', (b) => decodeResponse(b, { strict: true })],
  ['decode(requestWrapperSchema)', (b) => decode(requestWrapperSchema, b)],
  ['decode(vec(tuple(bytes, bytes)))', (b) => decode(t.vec(t.tuple(t.bytes, t.bytes)), b)],
  ['decode(map(string, bytes))', (b) => decode(t.map(t.string, t.bytes), b)],
  ['decode(char)', (b) => decode(t.char, b)],
  ['decode(option(i128))', (b) => decode(t.option(t.i128), b)],
  ['FrameReader.push', (b) => new FrameReader({ maxFrameSize: 1 << 20 }).push(b)],
];

describe('garbage input', () => {
  for (const [name, decodeFn] of decoders) {
    it(`${name} returns a value or throws DecodeError`, () => {
      let rejected = 0;
      for (const [label, input] of garbage) {
        const before = toHex(input);
        try {
          decodeFn(input);
        } catch (e) {
          expect(e, `${name}(${label})`).toBeInstanceOf(DecodeError);
          rejected++;
        }
        expect(toHex(input), `${name} mutated ${label}`).toBe(before);
      }
      expect(rejected).toBeGreaterThan(0);
    });
  }

  it('names the failure', () => {
    expectDecodeError(() => decodeResponse(hex('08')), 'invalid-variant', 0);
    expectDecodeError(() => decodeResponse(hex('06 01 02 05 00')), 'invalid-bool', 3);
    expectDecodeError(() => decodeResponse(hex('07 02 c328')), 'invalid-utf8', 1);
    expectDecodeError(() => decodeRequest(hex('00' + '11'.repeat(10))), 'truncated', 1);
    expectDecodeError(() => decodeRequestWrapper(hex('fd ffffffffffffffff')), 'length-exceeds-input', 0);
  });
});
