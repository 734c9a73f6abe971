// The WebSocket carrier of the syncstate protocol (docs/protocol.md,
// "WebSocket carrier"), subprotocol `syncstate.v1`. Each binary message is a
// tag byte and fixed big-endian fields; requests and responses carry the TLS
// protocol's bincode bytes (RequestWrapper, Response) unchanged, after a
// request id that answers echo. Browser-safe: no Node APIs.

import { DecodeError, EncodeError } from './errors.js';
import { HASH_LENGTH } from './protocol.js';
import { decodeUtf8, encodeUtf8Lossy } from './utf8.js';

/** The subprotocol a client offers and the server selects; a new layout gets a new version. */
export const WEBSOCKET_SUBPROTOCOL = 'syncstate.v1';

/** Largest request id (ids are u32; 0 is reserved for errors about the connection). */
export const MAX_MESSAGE_ID = 0xffff_ffff;

/** Why the server refused a message or the connection (an Error message's code byte). */
export type CarrierErrorCode =
  /** The Hello's token was refused; the server closes with 4401. */
  | 'unauthorized'
  /** The connection's grants do not allow this request (read only, another map, another event). */
  | 'forbidden'
  /** Above the connection's request rate; the request was not run. */
  | 'rate-limited'
  /** Above the connection's requests in flight (Welcome.maxInFlight); the request was not run. */
  | 'too-many-in-flight'
  /** Above the connection's subscriptions (Welcome.maxSubscriptions). */
  | 'too-many-subscriptions'
  /** A message the server cannot parse, or out of order; the server closes with 1002. */
  | 'malformed'
  /** The protocol closed without answering (on TLS: the server hangs up), e.g. an undecodable request or event. */
  | 'no-answer'
  /** The server's shared memory budget for requests is spent; try again later. */
  | 'overloaded'
  /** Subscribe for a map the server does not have. */
  | 'hash-not-found'
  /** A gateway could not reach its upstream server. */
  | 'unavailable';

/** Wire values of the codes, in this order from 1. */
export const CARRIER_ERROR_CODES: readonly CarrierErrorCode[] = [
  'unauthorized',
  'forbidden',
  'rate-limited',
  'too-many-in-flight',
  'too-many-subscriptions',
  'malformed',
  'no-answer',
  'overloaded',
  'hash-not-found',
  'unavailable',
];

/** Close codes the carrier uses besides the standard ones (1000, 1001, 1002, 1003, 1009, 1011). */
export const CLOSE_UNAUTHORIZED = 4401;
/** No Hello within the server's handshake timeout, or no sign of life (pong or message) for two ping intervals. */
export const CLOSE_TIMEOUT = 4408;

/** Client → server. */
export type ClientMessage =
  /** First message of a connection: the token its grants come from. */
  | { type: 'Hello'; token: Uint8Array }
  /** `payload`: a bincode RequestWrapper, exactly as a TLS frame's body. */
  | { type: 'Request'; id: number; payload: Uint8Array }
  | { type: 'Subscribe'; id: number; hash: Uint8Array }
  | { type: 'Unsubscribe'; id: number; hash: Uint8Array };

/** Server → client. */
export type ServerMessage =
  /** Answer to Hello: the connection's grants and limits. */
  | { type: 'Welcome'; readOnly: boolean; maxMessageSize: number; maxInFlight: number; maxSubscriptions: number }
  /** `payload`: a bincode Response, exactly as a TLS frame's body. */
  | { type: 'Response'; id: number; payload: Uint8Array }
  /** Subscribe accepted; `updateId` is the map's update id at that moment. */
  | { type: 'Subscribed'; id: number; updateId: bigint }
  | { type: 'Unsubscribed'; id: number }
  /** Pushed: a subscribed map reached `updateId`. */
  | { type: 'Update'; hash: Uint8Array; updateId: bigint }
  /** A refusal; `id` 0 is about the connection, which the server then closes. */
  | { type: 'Error'; id: number; code: CarrierErrorCode; message: string };

const TAG = {
  Hello: 0x01,
  Request: 0x02,
  Subscribe: 0x03,
  Unsubscribe: 0x04,
  Welcome: 0x81,
  Response: 0x82,
  Subscribed: 0x83,
  Unsubscribed: 0x84,
  Update: 0x85,
  Error: 0x86,
} as const;

/** Bytes before a Request's wrapper or a Response's bincode: tag and id. */
export const MESSAGE_HEADER_SIZE = 5;

export function encodeClientMessage(message: ClientMessage): Uint8Array {
  switch (message.type) {
    case 'Hello':
      return withTag(TAG.Hello, bytes(message.token, 'token'));
    case 'Request':
      return idAndBody(TAG.Request, message.id, bytes(message.payload, 'payload'));
    case 'Subscribe':
    case 'Unsubscribe':
      return idAndBody(TAG[message.type], message.id, hash(message.hash));
    default:
      throw new EncodeError('unencodable-value', `unknown client message type ${String((message as { type: unknown }).type)}`);
  }
}

export function encodeServerMessage(message: ServerMessage): Uint8Array {
  switch (message.type) {
    case 'Welcome': {
      const out = new Uint8Array(14);
      const view = new DataView(out.buffer);
      out[0] = TAG.Welcome;
      out[1] = message.readOnly ? 1 : 0;
      view.setUint32(2, u32(message.maxMessageSize, 'maxMessageSize'));
      view.setUint32(6, u32(message.maxInFlight, 'maxInFlight'));
      view.setUint32(10, u32(message.maxSubscriptions, 'maxSubscriptions'));
      return out;
    }
    case 'Response':
      return idAndBody(TAG.Response, message.id, bytes(message.payload, 'payload'));
    case 'Subscribed': {
      const out = idAndBody(TAG.Subscribed, message.id, new Uint8Array(8));
      new DataView(out.buffer).setBigUint64(5, u64(message.updateId));
      return out;
    }
    case 'Unsubscribed':
      return idAndBody(TAG.Unsubscribed, message.id, new Uint8Array(0));
    case 'Update': {
      const out = new Uint8Array(1 + HASH_LENGTH + 8);
      out[0] = TAG.Update;
      out.set(hash(message.hash), 1);
      new DataView(out.buffer).setBigUint64(1 + HASH_LENGTH, u64(message.updateId));
      return out;
    }
    case 'Error': {
      const code = CARRIER_ERROR_CODES.indexOf(message.code);
      if (code < 0) throw new EncodeError('unencodable-value', `unknown carrier error code ${String(message.code)}`);
      // For people only: a lone surrogate becomes U+FFFD.
      const text = encodeUtf8Lossy(String(message.message));
      const body = new Uint8Array(1 + text.length);
      body[0] = code + 1;
      body.set(text, 1);
      return idAndBody(TAG.Error, message.id, body);
    }
    default:
      throw new EncodeError('unencodable-value', `unknown server message type ${String((message as { type: unknown }).type)}`);
  }
}

/**
 * Parses a client message. Variable-length fields (token, payload) are views
 * into `data`, not copies.
 */
export function decodeClientMessage(data: Uint8Array): ClientMessage {
  const tag = first(data);
  switch (tag) {
    case TAG.Hello:
      return { type: 'Hello', token: data.subarray(1) };
    case TAG.Request:
      return { type: 'Request', id: readId(data), payload: data.subarray(MESSAGE_HEADER_SIZE) };
    case TAG.Subscribe:
    case TAG.Unsubscribe:
      exactLength(data, MESSAGE_HEADER_SIZE + HASH_LENGTH);
      return {
        type: tag === TAG.Subscribe ? 'Subscribe' : 'Unsubscribe',
        id: readId(data),
        hash: data.slice(MESSAGE_HEADER_SIZE),
      };
    default:
      throw new DecodeError('invalid-variant', 0, `unknown client message tag 0x${tag.toString(16).padStart(2, '0')}`);
  }
}

/** Parses a server message. A Response's payload is a view into `data`. */
export function decodeServerMessage(data: Uint8Array): ServerMessage {
  const tag = first(data);
  const view = new DataView(data.buffer, data.byteOffset, data.byteLength);
  switch (tag) {
    case TAG.Welcome: {
      exactLength(data, 14);
      if (data[1]! > 1) throw new DecodeError('invalid-value', 1, `Welcome flags 0x${data[1]!.toString(16)} has unknown bits`);
      return {
        type: 'Welcome',
        readOnly: data[1] === 1,
        maxMessageSize: view.getUint32(2),
        maxInFlight: view.getUint32(6),
        maxSubscriptions: view.getUint32(10),
      };
    }
    case TAG.Response:
      return { type: 'Response', id: readId(data), payload: data.subarray(MESSAGE_HEADER_SIZE) };
    case TAG.Subscribed:
      exactLength(data, MESSAGE_HEADER_SIZE + 8);
      return { type: 'Subscribed', id: readId(data), updateId: view.getBigUint64(MESSAGE_HEADER_SIZE) };
    case TAG.Unsubscribed:
      exactLength(data, MESSAGE_HEADER_SIZE);
      return { type: 'Unsubscribed', id: readId(data) };
    case TAG.Update:
      exactLength(data, 1 + HASH_LENGTH + 8);
      return { type: 'Update', hash: data.slice(1, 1 + HASH_LENGTH), updateId: view.getBigUint64(1 + HASH_LENGTH) };
    case TAG.Error: {
      const id = readId(data);
      if (data.length < MESSAGE_HEADER_SIZE + 1) throw new DecodeError('truncated', data.length, 'Error message without a code');
      const code = CARRIER_ERROR_CODES[data[MESSAGE_HEADER_SIZE]! - 1];
      if (code === undefined) throw new DecodeError('invalid-value', MESSAGE_HEADER_SIZE, `unknown carrier error code ${data[MESSAGE_HEADER_SIZE]}`);
      const message = decodeUtf8(data, MESSAGE_HEADER_SIZE + 1, data.length);
      if (message === undefined) throw new DecodeError('invalid-utf8', MESSAGE_HEADER_SIZE + 1, 'Error message text is not UTF-8');
      return { type: 'Error', id, code, message };
    }
    default:
      throw new DecodeError('invalid-variant', 0, `unknown server message tag 0x${tag.toString(16).padStart(2, '0')}`);
  }
}

/**
 * `wrapper` (RequestWrapper bytes) with its password field replaced, the rest
 * unchanged and not decoded: what a gateway forwards upstream. The password
 * is the wrapper's first field (varint length, then the bytes).
 */
export function replacePassword(wrapper: Uint8Array, password: Uint8Array): Uint8Array {
  const { end } = passwordField(wrapper);
  const prefix = varint(password.length);
  const out = new Uint8Array(prefix.length + password.length + wrapper.length - end);
  out.set(prefix, 0);
  out.set(password, prefix.length);
  out.set(wrapper.subarray(end), prefix.length + password.length);
  return out;
}

/** Where a RequestWrapper's password field ends (its request starts). */
function passwordField(wrapper: Uint8Array): { end: number } {
  const marker = wrapper[0];
  if (marker === undefined) throw new DecodeError('truncated', 0, 'empty request wrapper');
  let length: number;
  let start: number;
  if (marker < 0xfb) {
    length = marker;
    start = 1;
  } else if (marker === 0xfb || marker === 0xfc || marker === 0xfd) {
    const width = marker === 0xfb ? 2 : marker === 0xfc ? 4 : 8;
    if (wrapper.length < 1 + width) throw new DecodeError('truncated', 1, 'password length cut short');
    length = 0;
    for (let i = width; i >= 1; i--) length = length * 256 + wrapper[i]!;
    start = 1 + width;
  } else {
    throw new DecodeError('invalid-varint-marker', 0, `password length marker 0x${marker.toString(16)}`);
  }
  if (length > wrapper.length - start) throw new DecodeError('length-exceeds-input', 0, 'password longer than the wrapper');
  return { end: start + length };
}

function varint(n: number): Uint8Array {
  if (n <= 250) return Uint8Array.of(n);
  if (n <= 0xffff) return Uint8Array.of(0xfb, n & 0xff, n >>> 8);
  return Uint8Array.of(0xfc, n & 0xff, (n >>> 8) & 0xff, (n >>> 16) & 0xff, n >>> 24);
}

function first(data: Uint8Array): number {
  if (!(data instanceof Uint8Array)) throw new TypeError('a carrier message is a Uint8Array');
  const tag = data[0];
  if (tag === undefined) throw new DecodeError('truncated', 0, 'empty message');
  return tag;
}

function readId(data: Uint8Array): number {
  if (data.length < MESSAGE_HEADER_SIZE) throw new DecodeError('truncated', data.length, 'message shorter than its tag and id');
  return data[1]! * 0x100_0000 + ((data[2]! << 16) | (data[3]! << 8) | data[4]!);
}

function exactLength(data: Uint8Array, length: number): void {
  if (data.length < length) throw new DecodeError('truncated', data.length, `message of ${data.length} bytes, expected ${length}`);
  if (data.length > length) throw new DecodeError('trailing-bytes', length, `message of ${data.length} bytes, expected ${length}`);
}

function withTag(tag: number, body: Uint8Array): Uint8Array {
  const out = new Uint8Array(1 + body.length);
  out[0] = tag;
  out.set(body, 1);
  return out;
}

function idAndBody(tag: number, id: number, body: Uint8Array): Uint8Array {
  const out = new Uint8Array(MESSAGE_HEADER_SIZE + body.length);
  out[0] = tag;
  new DataView(out.buffer).setUint32(1, u32(id, 'id'));
  out.set(body, MESSAGE_HEADER_SIZE);
  return out;
}

function bytes(value: Uint8Array, name: string): Uint8Array {
  if (!(value instanceof Uint8Array)) throw new EncodeError('unencodable-value', `${name} must be a Uint8Array`);
  return value;
}

function hash(value: Uint8Array): Uint8Array {
  if (!(value instanceof Uint8Array) || value.length !== HASH_LENGTH) {
    throw new EncodeError('unencodable-value', `a map hash is ${HASH_LENGTH} bytes`);
  }
  return value;
}

function u32(n: number, name: string): number {
  if (!Number.isInteger(n) || n < 0 || n > MAX_MESSAGE_ID) throw new EncodeError('unencodable-value', `${name} ${n} is not a u32`);
  return n;
}

function u64(n: bigint): bigint {
  if (typeof n !== 'bigint' || n < 0n || n > 0xffff_ffff_ffff_ffffn) throw new EncodeError('unencodable-value', `update id ${String(n)} is not a u64`);
  return n;
}
