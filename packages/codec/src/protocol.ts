// The syncstate 0.3.0 TCP messages (Rust `syncstate::tcp`), with idiomatic
// names: TcpStateServerRequest → Request, TcpStateServerRequestWrapper →
// RequestWrapper (its `event` field → `request`), TcpStateServerResponse →
// Response, snake_case fields → camelCase. Wire order = declaration order in
// syncstate-0.3.0/src/tcp/mod.rs; names never travel.

import { decode, encode } from './codec.js';
import type { DecodeOptions } from './codec.js';
import type { Infer } from './schema.js';
import * as t from './t.js';

/** Length of a state map hash (SHA-256), `[u8; 32]` on the wire. */
export const HASH_LENGTH = 32;

export type Request =
  | { type: 'GetUpdateId'; hash: Uint8Array }
  | { type: 'Event'; hash: Uint8Array; eventData: Uint8Array }
  | { type: 'GetDiff'; hash: Uint8Array; fromUpdateId: bigint; uptoUpdateId: bigint }
  | { type: 'Init'; hash: Uint8Array; initData: Uint8Array };

export interface RequestWrapper {
  password: Uint8Array;
  request: Request;
}

export type Response =
  | { type: 'IncorrectPassword' }
  | { type: 'UpdateId'; updateId: bigint }
  | { type: 'HashNotFound' }
  | { type: 'EventInProcess' }
  | { type: 'InitSuccess' }
  | { type: 'HashMismatch' }
  | { type: 'Diff'; fromUpdateId: bigint; uptoUpdateId: bigint; isFull: boolean; encodedDiff: Uint8Array }
  | { type: 'InitFailure'; errorMessage: string };

const hash = t.fixedBytes(HASH_LENGTH);

export const requestSchema = t.enumOf({
  GetUpdateId: t.struct({ hash }),
  Event: t.struct({ hash, eventData: t.bytes }),
  GetDiff: t.struct({ hash, fromUpdateId: t.u64, uptoUpdateId: t.u64 }),
  Init: t.struct({ hash, initData: t.bytes }),
});

export const requestWrapperSchema = t.struct({ password: t.bytes, request: requestSchema });

export const responseSchema = t.enumOf({
  IncorrectPassword: t.unit,
  UpdateId: t.struct({ updateId: t.u64 }),
  HashNotFound: t.unit,
  EventInProcess: t.unit,
  InitSuccess: t.unit,
  HashMismatch: t.unit,
  Diff: t.struct({ fromUpdateId: t.u64, uptoUpdateId: t.u64, isFull: t.bool, encodedDiff: t.bytes }),
  InitFailure: t.struct({ errorMessage: t.string }),
});

// Compile-time proof that the hand-written types are exactly the schemas' types.
type Same<A, B> = [A] extends [B] ? ([B] extends [A] ? true : false) : false;
type Expect<T extends true> = T;
export type _ProtocolTypesMatchSchemas = [
  Expect<Same<Request, Infer<typeof requestSchema>>>,
  Expect<Same<RequestWrapper, Infer<typeof requestWrapperSchema>>>,
  Expect<Same<Response, Infer<typeof responseSchema>>>,
];

export function encodeRequest(request: Request): Uint8Array {
  return encode(requestSchema, request);
}

export function decodeRequest(bytes: Uint8Array, options?: DecodeOptions): Request {
  return decode(requestSchema, bytes, options);
}

export function encodeRequestWrapper(wrapper: RequestWrapper): Uint8Array {
  return encode(requestWrapperSchema, wrapper);
}

export function decodeRequestWrapper(bytes: Uint8Array, options?: DecodeOptions): RequestWrapper {
  return decode(requestWrapperSchema, bytes, options);
}

export function encodeResponse(response: Response): Uint8Array {
  return encode(responseSchema, response);
}

export function decodeResponse(bytes: Uint8Array, options?: DecodeOptions): Response {
  return decode(responseSchema, bytes, options);
}
