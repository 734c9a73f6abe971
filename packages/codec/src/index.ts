// @syncstate-ts/codec: bincode 2 (serde, config::standard) for the whole serde
// data model through composable schemas, the syncstate 0.3.0 protocol
// messages, and their u32-length framing. Browser-safe: no Node APIs.

export { DecodeError, EncodeError, SyncstateError } from './errors.js';
export type { DecodeErrorCode, EncodeErrorCode } from './errors.js';
export { Writer } from './writer.js';
export { Reader, DEFAULT_MAX_DEPTH, DEFAULT_MAX_ZERO_SIZED_ELEMENTS } from './reader.js';
export type { ReaderOptions } from './reader.js';
export type { Schema, Infer, InferFields, StructSchema, StructFields, UnitSchema } from './schema.js';
export type { OptionValue, InferTuple } from './combinators.js';
export type { BytesSchema, FixedBytesSchema, PrimitiveSchema } from './primitives.js';
export type { EnumSchema, EnumValue, VariantValue } from './enum.js';
export * as t from './t.js';
export { encode, decode } from './codec.js';
export { isWellFormed, writeUtf8 } from './utf8.js';
export { toHex } from './hex.js';
export type { DecodeOptions } from './codec.js';
export {
  HASH_LENGTH,
  requestSchema,
  requestWrapperSchema,
  responseSchema,
  encodeRequest,
  decodeRequest,
  encodeRequestWrapper,
  decodeRequestWrapper,
  encodeResponse,
  decodeResponse,
} from './protocol.js';
export type { Request, RequestWrapper, Response } from './protocol.js';
export { encodeFrame, FrameReader, DEFAULT_MAX_FRAME_SIZE, FRAME_HEADER_SIZE } from './framing.js';
export type { FrameReaderOptions } from './framing.js';
export {
  WEBSOCKET_SUBPROTOCOL,
  MAX_MESSAGE_ID,
  MESSAGE_HEADER_SIZE,
  CARRIER_ERROR_CODES,
  CLOSE_UNAUTHORIZED,
  CLOSE_TIMEOUT,
  encodeClientMessage,
  decodeClientMessage,
  encodeServerMessage,
  decodeServerMessage,
  replacePassword,
} from './websocket.js';
export type { CarrierErrorCode, ClientMessage, ServerMessage } from './websocket.js';
