// @syncstate-ts/remote/websocket: the browser-safe entry. WebSocketRemote
// carries the syncstate protocol over one WebSocket (docs/protocol.md,
// "WebSocket carrier"); nothing reachable from here imports a Node module.

export { WebSocketRemote } from './websocket/remote.js';
export type { Subscription, WebSocketRemoteOptions } from './websocket/remote.js';
export type { WebSocketConstructor, WebSocketLike, WebSocketSession } from './websocket/channel.js';
export { ProtocolRemote, answerError } from './base.js';
export type { InitResult, SerializableEvent } from './base.js';
export type { CallOptions } from './call.js';
export type { SyncResult, Change } from './sync.js';
export type { WatchOptions } from './watch.js';
export { DEFAULT_WATCH_INTERVAL_MS, DEFAULT_WATCH_MAX_BACKOFF_MS } from './watch.js';
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
