// @syncstate-ts/remote: clients for syncstate 0.3.0 servers (the Rust crate's
// TcpStateServer or @syncstate-ts/server). TcpStateRemote speaks TLS from
// Node: one connection per request, bounded reads, timeouts, AbortSignal,
// typed errors. Everything of the browser-safe entry (WebSocketRemote, the
// shared ProtocolRemote, errors, sync and watch types) is exported here too.

export * from './websocket.js';
export { TcpStateRemote } from './remote.js';
export type { TcpStateRemoteOptions } from './options.js';
export { DEFAULT_CONNECT_TIMEOUT_MS, DEFAULT_HANDSHAKE_TIMEOUT_MS, DEFAULT_RESPONSE_TIMEOUT_MS } from './options.js';
export type { TlsOptions } from './connect.js';
export { retryDelay, type RetryDelayOptions } from './backoff.js';
export { exchangeFrame } from './exchange.js';
export type { ExchangeOptions } from './exchange.js';
