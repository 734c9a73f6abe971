// @syncstate-ts/remote: a Node TLS client for syncstate 0.3.0 servers (the Rust
// crate's TcpStateServer or @syncstate-ts/server). One connection per request,
// bounded reads, timeouts, AbortSignal, typed errors.

export { TcpStateRemote } from './remote.js';
export { ProtocolRemote } from './base.js';
export { WebSocketRemote } from './websocket/remote.js';
export type { Subscription, WebSocketRemoteOptions } from './websocket/remote.js';
export type { WebSocketConstructor, WebSocketLike, WebSocketSession } from './websocket/channel.js';
export type { InitResult, SerializableEvent } from './remote.js';
export type { TcpStateRemoteOptions, CallOptions } from './options.js';
export { DEFAULT_CONNECT_TIMEOUT_MS, DEFAULT_HANDSHAKE_TIMEOUT_MS, DEFAULT_RESPONSE_TIMEOUT_MS } from './options.js';
export type { TlsOptions } from './connect.js';
export type { SyncResult, Change } from './sync.js';
export type { WatchOptions } from './watch.js';
export { DEFAULT_WATCH_INTERVAL_MS, DEFAULT_WATCH_MAX_BACKOFF_MS } from './watch.js';
export { retryDelay, type RetryDelayOptions } from './backoff.js';
export {
  RemoteError,
  AuthenticationError,
  HashNotFoundError,
  HashMismatchError,
  InitFailureError,
  ProtocolError,
  ConnectionError,
  ConnectionClosedError,
  TimeoutError,
  ForbiddenError,
  LimitExceededError,
} from './errors.js';
export type { RemoteErrorCode, RemoteLimit, TimeoutPhase } from './errors.js';
export { exchangeFrame } from './exchange.js';
export type { ExchangeOptions } from './exchange.js';
