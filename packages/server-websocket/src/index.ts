// @syncstate-ts/server-websocket: the WebSocket carrier of the syncstate
// protocol (docs/protocol.md, "WebSocket carrier") for Node servers. Browsers
// send the same requests over one persistent connection, authorized by a
// token instead of the server's password, and get update ids pushed.

import type { Access, SyncStateServer } from '@syncstate-ts/server';
import { limitsOf, type WebSocketLimits } from './limits.js';
import { WebSocketListener, type WebSocketListenerOptions } from './listener.js';
import { passwordAuthorize, protocolService, type Authorize } from './service.js';

export { WebSocketListener, isLoopback, type WebSocketListenerOptions } from './listener.js';
export { defaultWebSocketLimits, limitsOf, resolveWebSocketLimits, type WebSocketLimits } from './limits.js';
export {
  passwordAuthorize,
  protocolService,
  tokenAuthorize,
  type Authorize,
  type PeerInfo,
  type TokenEntry,
  type WebSocketService,
} from './service.js';
export type { WebSocketStats } from './stats.js';
export { MIN_TOKEN_LENGTH, parseTokens, TokenFileError, type TokenFileEntry } from './tokens.js';
export type { Access };

export interface ServeWebSocketOptions extends Omit<WebSocketListenerOptions, 'service'> {
  /** Who may connect and what they may do. Default: the server's password as the token gives full access. */
  authorize?: Authorize | undefined;
  /** The server's password, for the default `authorize`. */
  password?: string | Uint8Array | undefined;
}

/**
 * A WebSocket listener in front of `server`'s protocol (the same maps, hooks,
 * storage and limits as its TLS port), listening once this resolves. Closing
 * the server closes it first.
 */
export async function listenWebSocket<K, V, E>(
  server: SyncStateServer<K, V, E>,
  options: ServeWebSocketOptions,
): Promise<WebSocketListener> {
  const { authorize, password, limits, ...rest } = options;
  if (authorize === undefined && password === undefined) {
    throw new TypeError('listenWebSocket needs `authorize`, or the server\'s `password` for the default (the password as the token)');
  }
  const listener = new WebSocketListener({
    ...rest,
    limits: { ...limitsOf(server.protocol.limits), ...limits } satisfies Partial<WebSocketLimits>,
    logger: rest.logger ?? server.protocol.logger,
    service: protocolService(server.protocol, authorize ?? passwordAuthorize(password!)),
  });
  await listener.listen();
  server.attach(listener);
  return listener;
}
