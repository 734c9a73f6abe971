/**
 * Typed errors of the TLS client. Every failure of a request is one of these,
 * so callers can branch on `instanceof` or on the stable `code` string; the
 * underlying socket/decoder error, if any, is kept as `cause`.
 *
 * An aborted call rejects with its AbortSignal's `reason` instead, as Node's
 * own APIs do, so abort handling stays the caller's usual code.
 */

import { SyncstateError, toHex } from '@syncstate-ts/codec';

export type RemoteErrorCode =
  | 'authentication-failed'
  | 'hash-not-found'
  | 'hash-mismatch'
  | 'init-failure'
  | 'protocol-error'
  | 'connection-failed'
  | 'connection-closed'
  | 'timeout'
  | 'forbidden'
  | 'limit-exceeded';

/** Base class of the client's errors (a SyncstateError of @syncstate-ts/codec). */
export class RemoteError extends SyncstateError<RemoteErrorCode> {
  override name = 'RemoteError';
}

/** The server answered IncorrectPassword (Rust's own client treats this as success). */
export class AuthenticationError extends RemoteError {
  override name = 'AuthenticationError';
  constructor(message = 'the server rejected the password (IncorrectPassword)', options?: { cause?: unknown }) {
    super('authentication-failed', message, options);
  }
}

/** The server holds no map with this hash (never initialised, or lost on a restart). */
export class HashNotFoundError extends RemoteError {
  override name = 'HashNotFoundError';
  readonly hash: Uint8Array;
  constructor(hash: Uint8Array, options?: { cause?: unknown }) {
    super('hash-not-found', `the server has no state map with hash ${toHex(hash)} (HashNotFound)`, options);
    this.hash = hash;
  }
}

/** The server rebuilt the map from the Init data and got a different hash. */
export class HashMismatchError extends RemoteError {
  override name = 'HashMismatchError';
  readonly hash: Uint8Array;
  constructor(hash: Uint8Array, options?: { cause?: unknown }) {
    super(
      'hash-mismatch',
      `the server rebuilt the map from the init data and its hash differs from the claimed ${toHex(hash)} (HashMismatch)`,
      options,
    );
    this.hash = hash;
  }
}

/** An init hook of the server refused the map; `serverMessage` is the hook's error text. */
export class InitFailureError extends RemoteError {
  override name = 'InitFailureError';
  readonly serverMessage: string;
  constructor(serverMessage: string, options?: { cause?: unknown }) {
    super('init-failure', `the server refused to create the map: ${serverMessage}`, options);
    this.serverMessage = serverMessage;
  }
}

/** The answer was undecodable, too large, or not one the request allows. */
export class ProtocolError extends RemoteError {
  override name = 'ProtocolError';
  constructor(message: string, options?: { cause?: unknown }) {
    super('protocol-error', message, options);
  }
}

/** The TCP connection or the TLS handshake failed (refused, certificate rejected, reset...). */
export class ConnectionError extends RemoteError {
  override name = 'ConnectionError';
  constructor(message: string, options?: { cause?: unknown }) {
    super('connection-failed', message, options);
  }
}

/**
 * The server hung up after the request without a complete answer. The Rust
 * server does this when it cannot decode a request or its payload.
 */
export class ConnectionClosedError extends RemoteError {
  override name = 'ConnectionClosedError';
  /** Response bytes (length prefix included) that arrived before the close. */
  readonly bytesReceived: number;
  /** The response length the server announced, when its prefix arrived. */
  readonly expectedBytes: number | undefined;
  constructor(message: string, details: { bytesReceived: number; expectedBytes?: number }, options?: { cause?: unknown }) {
    super('connection-closed', message, options);
    this.bytesReceived = details.bytesReceived;
    this.expectedBytes = details.expectedBytes;
  }
}

/**
 * A WebSocket connection's grants do not allow this request (a read-only
 * token sending an event, another map, another event variant). The
 * connection stays open.
 */
export class ForbiddenError extends RemoteError {
  override name = 'ForbiddenError';
  constructor(message: string, options?: { cause?: unknown }) {
    super('forbidden', message, options);
  }
}

/** Which limit of a WebSocket connection a request ran into. */
export type RemoteLimit =
  /** Requests per second of the connection: retry later. */
  | 'rate'
  /** Requests in flight on the connection (the client queues below the server's limit; a relay may have a lower one). */
  | 'in-flight'
  /** Subscriptions of the connection. */
  | 'subscriptions'
  /** The server's memory for requests is spent: retry later. */
  | 'memory'
  /** The message is larger than the server accepts (Welcome.maxMessageSize, or close code 1009). */
  | 'message-size';

/** The server refused a request over a limit of the WebSocket carrier; the request did not run. */
export class LimitExceededError extends RemoteError {
  override name = 'LimitExceededError';
  readonly limit: RemoteLimit;
  constructor(limit: RemoteLimit, message: string, options?: { cause?: unknown }) {
    super('limit-exceeded', message, options);
    this.limit = limit;
  }
}

export type TimeoutPhase = 'connect' | 'handshake' | 'response';

/** A phase of the request took longer than its configured limit. */
export class TimeoutError extends RemoteError {
  override name = 'TimeoutError';
  readonly phase: TimeoutPhase;
  readonly timeoutMs: number;
  constructor(phase: TimeoutPhase, timeoutMs: number, what: string = phaseText[phase]) {
    super('timeout', `${what} did not complete within ${timeoutMs} ms`);
    this.phase = phase;
    this.timeoutMs = timeoutMs;
  }
}

const phaseText: Record<TimeoutPhase, string> = {
  connect: 'the TCP connection',
  handshake: 'the TLS handshake',
  response: 'the response',
};
