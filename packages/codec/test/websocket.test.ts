// The WebSocket carrier's messages (docs/protocol.md, "WebSocket carrier"):
// the documented bytes, round trips, every truncation and hostile input, and
// replacePassword against a full re-encode.
import { describe, expect, it } from 'vitest';
import fc from 'fast-check';
import {
  CARRIER_ERROR_CODES,
  decodeClientMessage,
  decodeRequestWrapper,
  decodeServerMessage,
  encodeClientMessage,
  encodeRequestWrapper,
  encodeServerMessage,
  EncodeError,
  replacePassword,
  WEBSOCKET_SUBPROTOCOL,
  type ClientMessage,
  type ServerMessage,
} from '@syncstate-ts/codec';
import { atOffset, expectDecodeError, hex, toHex } from './helpers.js';

const hash3 = new Uint8Array(32).fill(3);
// The worked example of docs/protocol.md, "Messages": an Event with password "pw".
const eventWrapper = hex('02 7077 01' + '03'.repeat(32) + '0c 00 05 636f6c6f72 04 626c7565');

describe('WebSocket carrier messages', () => {
  it('names its subprotocol with a version', () => {
    expect(WEBSOCKET_SUBPROTOCOL).toBe('syncstate.v1');
  });

  it('encodes the documented layouts byte for byte', () => {
    expect(toHex(encodeClientMessage({ type: 'Hello', token: new TextEncoder().encode('tok') }))).toBe('01746f6b');
    expect(toHex(encodeClientMessage({ type: 'Request', id: 7, payload: eventWrapper }))).toBe('0200000007' + toHex(eventWrapper));
    expect(toHex(encodeClientMessage({ type: 'Subscribe', id: 0x01020304, hash: hash3 }))).toBe('0301020304' + '03'.repeat(32));
    expect(toHex(encodeClientMessage({ type: 'Unsubscribe', id: 1, hash: hash3 }))).toBe('0400000001' + '03'.repeat(32));
    expect(
      toHex(encodeServerMessage({ type: 'Welcome', readOnly: true, maxMessageSize: 0x01000005, maxInFlight: 64, maxSubscriptions: 1024 })),
    ).toBe('81' + '01' + '01000005' + '00000040' + '00000400');
    // UpdateId { 5 }: response variant 1, varint 5.
    expect(toHex(encodeServerMessage({ type: 'Response', id: 7, payload: hex('0105') }))).toBe('82000000070105');
    expect(toHex(encodeServerMessage({ type: 'Subscribed', id: 2, updateId: 258n }))).toBe('8300000002' + '0000000000000102');
    expect(toHex(encodeServerMessage({ type: 'Unsubscribed', id: 2 }))).toBe('8400000002');
    expect(toHex(encodeServerMessage({ type: 'Update', hash: hash3, updateId: 1n }))).toBe('85' + '03'.repeat(32) + '0000000000000001');
    expect(toHex(encodeServerMessage({ type: 'Error', id: 9, code: 'forbidden', message: 'ro' }))).toBe('8600000009' + '02' + '726f');
  });

  it('numbers the error codes from 1 in a fixed order', () => {
    expect(CARRIER_ERROR_CODES.indexOf('unauthorized')).toBe(0);
    for (const [i, code] of CARRIER_ERROR_CODES.entries()) {
      const bytes = encodeServerMessage({ type: 'Error', id: 0, code, message: '' });
      expect(bytes[5]).toBe(i + 1);
      expect(decodeServerMessage(bytes)).toEqual({ type: 'Error', id: 0, code, message: '' });
    }
  });

  it('round-trips every message, also from a view at a nonzero offset', () => {
    const client = fc.oneof(
      fc.record({ type: fc.constant('Hello' as const), token: fc.uint8Array({ maxLength: 64 }) }),
      fc.record({ type: fc.constant('Request' as const), id: fc.nat({ max: 0xffff_ffff }), payload: fc.uint8Array({ maxLength: 64 }) }),
      fc.record({
        type: fc.constantFrom('Subscribe' as const, 'Unsubscribe' as const),
        id: fc.nat({ max: 0xffff_ffff }),
        hash: fc.uint8Array({ minLength: 32, maxLength: 32 }),
      }),
    );
    fc.assert(
      fc.property(client, (m) => {
        expect(decodeClientMessage(atOffset(encodeClientMessage(m as ClientMessage)))).toEqual(m);
      }),
    );
    const server = fc.oneof(
      fc.record({
        type: fc.constant('Welcome' as const),
        readOnly: fc.boolean(),
        maxMessageSize: fc.nat({ max: 0xffff_ffff }),
        maxInFlight: fc.nat({ max: 0xffff_ffff }),
        maxSubscriptions: fc.nat({ max: 0xffff_ffff }),
      }),
      fc.record({ type: fc.constant('Response' as const), id: fc.nat({ max: 0xffff_ffff }), payload: fc.uint8Array({ maxLength: 64 }) }),
      fc.record({ type: fc.constant('Subscribed' as const), id: fc.nat({ max: 0xffff_ffff }), updateId: fc.bigInt({ min: 0n, max: 2n ** 64n - 1n }) }),
      fc.record({ type: fc.constant('Unsubscribed' as const), id: fc.nat({ max: 0xffff_ffff }) }),
      fc.record({
        type: fc.constant('Update' as const),
        hash: fc.uint8Array({ minLength: 32, maxLength: 32 }),
        updateId: fc.bigInt({ min: 0n, max: 2n ** 64n - 1n }),
      }),
      fc.record({
        type: fc.constant('Error' as const),
        id: fc.nat({ max: 0xffff_ffff }),
        code: fc.constantFrom(...CARRIER_ERROR_CODES),
        message: fc.string({ unit: 'grapheme', maxLength: 20 }),
      }),
    );
    fc.assert(
      fc.property(server, (m) => {
        expect(decodeServerMessage(atOffset(encodeServerMessage(m as ServerMessage)))).toEqual(m);
      }),
    );
  });

  it('refuses every truncation of fixed-size messages, and extra bytes', () => {
    const fixed = [
      encodeClientMessage({ type: 'Subscribe', id: 1, hash: hash3 }),
      encodeClientMessage({ type: 'Unsubscribe', id: 1, hash: hash3 }),
      encodeClientMessage({ type: 'Request', id: 1, payload: new Uint8Array(0) }),
    ];
    for (const m of fixed) {
      for (let n = 0; n < m.length; n++) expectDecodeError(() => decodeClientMessage(m.subarray(0, n)), 'truncated');
    }
    expectDecodeError(() => decodeClientMessage(new Uint8Array([...fixed[0]!, 0])), 'trailing-bytes');
    const server = [
      encodeServerMessage({ type: 'Welcome', readOnly: false, maxMessageSize: 1, maxInFlight: 1, maxSubscriptions: 1 }),
      encodeServerMessage({ type: 'Subscribed', id: 1, updateId: 1n }),
      encodeServerMessage({ type: 'Update', hash: hash3, updateId: 1n }),
      encodeServerMessage({ type: 'Error', id: 1, code: 'malformed', message: '' }),
    ];
    for (const m of server) {
      for (let n = 0; n < m.length; n++) expectDecodeError(() => decodeServerMessage(m.subarray(0, n)), 'truncated');
    }
    expectDecodeError(() => decodeServerMessage(encodeServerMessage({ type: 'Unsubscribed', id: 1 }).subarray(0, 3)), 'truncated');
    expectDecodeError(() => decodeServerMessage(new Uint8Array([...server[1]!, 0])), 'trailing-bytes');
  });

  it('refuses unknown tags, directions, codes, flags and non-UTF-8 text', () => {
    expectDecodeError(() => decodeClientMessage(hex('00')), 'invalid-variant', 0);
    expectDecodeError(() => decodeClientMessage(hex('8200000001')), 'invalid-variant', 0); // a server message sent by a client
    expectDecodeError(() => decodeServerMessage(hex('0100')), 'invalid-variant', 0);
    expectDecodeError(() => decodeServerMessage(hex('8600000001' + '00')), 'invalid-value', 5);
    expectDecodeError(() => decodeServerMessage(hex('8600000001' + 'ff')), 'invalid-value', 5);
    expectDecodeError(() => decodeServerMessage(hex('8600000001' + '01' + 'ff')), 'invalid-utf8', 6);
    expectDecodeError(() => decodeServerMessage(hex('81' + '02' + '00'.repeat(12))), 'invalid-value', 1);
    expect(() => decodeClientMessage('01' as unknown as Uint8Array)).toThrow(TypeError);
  });

  it('refuses values that do not fit their fields', () => {
    expect(() => encodeClientMessage({ type: 'Request', id: -1, payload: new Uint8Array(0) })).toThrow(EncodeError);
    expect(() => encodeClientMessage({ type: 'Request', id: 2 ** 32, payload: new Uint8Array(0) })).toThrow(EncodeError);
    expect(() => encodeClientMessage({ type: 'Subscribe', id: 1, hash: new Uint8Array(31) })).toThrow(EncodeError);
    expect(() => encodeServerMessage({ type: 'Subscribed', id: 1, updateId: 2n ** 64n })).toThrow(EncodeError);
    expect(() => encodeServerMessage({ type: 'Error', id: 1, code: 'nope' as never, message: '' })).toThrow(EncodeError);
  });
});

describe('replacePassword', () => {
  const passwords = [0, 1, 250, 251, 65_535, 65_536].map((n) => new Uint8Array(n).fill(0x61));
  it('gives the bytes a re-encode with the other password gives, for every varint width', () => {
    for (const before of passwords) {
      for (const after of passwords) {
        const request = decodeRequestWrapper(eventWrapper).request;
        const original = encodeRequestWrapper({ password: before, request });
        const expected = encodeRequestWrapper({ password: after, request });
        expect(toHex(replacePassword(atOffset(original), after))).toBe(toHex(expected));
      }
    }
  });

  it('refuses a wrapper whose password field is cut or malformed', () => {
    expectDecodeError(() => replacePassword(new Uint8Array(0), new Uint8Array(0)), 'truncated');
    expectDecodeError(() => replacePassword(hex('05 6162'), new Uint8Array(0)), 'length-exceeds-input');
    expectDecodeError(() => replacePassword(hex('fb 01'), new Uint8Array(0)), 'truncated');
    expectDecodeError(() => replacePassword(hex('ff'), new Uint8Array(0)), 'invalid-varint-marker');
  });
});
