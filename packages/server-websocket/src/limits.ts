/** The WebSocket listener's limits, their defaults, and validation. */
import { MESSAGE_HEADER_SIZE } from '@syncstate-ts/codec';
import { defaultLimits, type ServerLimits } from '@syncstate-ts/server';

export interface WebSocketLimits {
  /**
   * Largest message accepted (a Request: 5 bytes of header, then the wrapper).
   * A frame header announcing more closes the connection with 1009 before
   * any of it is buffered (ws's maxPayload).
   */
  maxMessageSize: number;
  /** Open connections (TCP), handshakes and plain HTTP included; more are closed at once. */
  maxConnections: number;
  /** Bytes of messages being received or waiting for their answer, all connections together; a connection that would exceed it is cut off. */
  maxBufferedRequestBytes: number;
  /** Each of: the TLS handshake, the HTTP upgrade request, and the Hello after the upgrade. */
  handshakeTimeoutMs: number;
  /** The server pings this often; a peer that sent nothing (not even a pong) for two intervals is cut off. */
  pingIntervalMs: number;
  /** A connection whose unsent answers stay above maxBufferedAnswerBytes this long is cut off (a peer that does not read). */
  drainTimeoutMs: number;
  /** Answer bytes a connection may have waiting to be sent; above it the server stops reading its requests. */
  maxBufferedAnswerBytes: number;
  /** Requests (and Subscribes) of one connection being processed at once. */
  maxInFlight: number;
  /** Requests, Subscribes and Unsubscribes per second of one connection (a token bucket holding one second's worth). */
  requestsPerSecond: number;
  /** Maps one connection may subscribe to. */
  maxSubscriptions: number;
}

export const defaultWebSocketLimits: Readonly<WebSocketLimits> = Object.freeze({
  maxMessageSize: defaultLimits.maxFrameSize + MESSAGE_HEADER_SIZE,
  maxConnections: defaultLimits.maxConnections,
  maxBufferedRequestBytes: defaultLimits.maxBufferedRequestBytes,
  handshakeTimeoutMs: defaultLimits.handshakeTimeoutMs,
  pingIntervalMs: 15_000,
  drainTimeoutMs: defaultLimits.drainTimeoutMs,
  maxBufferedAnswerBytes: 8 * 1024 * 1024,
  maxInFlight: 64,
  requestsPerSecond: 10_000,
  maxSubscriptions: 1024,
});

/** The WebSocket limits matching a server's (its frame size, connections, timeouts, budget). */
export function limitsOf(server: Readonly<ServerLimits>): Partial<WebSocketLimits> {
  return {
    maxMessageSize: server.maxFrameSize + MESSAGE_HEADER_SIZE,
    maxConnections: server.maxConnections,
    maxBufferedRequestBytes: server.maxBufferedRequestBytes,
    handshakeTimeoutMs: server.handshakeTimeoutMs,
    drainTimeoutMs: server.drainTimeoutMs,
  };
}

export function resolveWebSocketLimits(partial: Partial<WebSocketLimits> | undefined): WebSocketLimits {
  const limits: WebSocketLimits = { ...defaultWebSocketLimits, ...partial };
  for (const name of Object.keys(defaultWebSocketLimits) as (keyof WebSocketLimits)[]) {
    const v = limits[name];
    const infinite = name === 'maxConnections' || name === 'maxBufferedRequestBytes';
    if (typeof v !== 'number' || !(v > 0) || (!infinite && !Number.isFinite(v))) {
      throw new RangeError(`limits.${name} must be a positive${infinite ? '' : ' finite'} number, got ${String(v)}`);
    }
  }
  for (const name of ['maxMessageSize', 'maxInFlight', 'maxSubscriptions'] as const) {
    if (!Number.isInteger(limits[name]) || limits[name] > 0xffff_ffff) throw new RangeError(`limits.${name} must be an integer below 2^32`);
  }
  if (limits.maxMessageSize <= MESSAGE_HEADER_SIZE) throw new RangeError(`limits.maxMessageSize must exceed ${MESSAGE_HEADER_SIZE}`);
  return limits;
}
