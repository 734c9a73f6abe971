/**
 * Typed errors of the server. Nothing here reaches a client (the protocol has
 * no error answer besides the few responses of docs/protocol.md, "Messages"); they are
 * what the logger receives and what `metrics().errors` counts, by `code`.
 */

import { SyncstateError } from '@syncstate-ts/codec';

export type ServerErrorCode =
  | 'frame-too-large'
  | 'memory-budget'
  | 'handshake-timeout'
  | 'request-timeout'
  | 'idle-timeout'
  | 'drain-timeout'
  | 'connection-closed'
  | 'socket-error'
  | 'tls-error'
  | 'undecodable-request'
  | 'undecodable-event'
  | 'undecodable-init-data'
  | 'event-queue-full'
  | 'hook-failed'
  | 'hook-timeout'
  | 'hook-expired'
  | 'storage-failed'
  | 'server-closed'
  /** A token-authorized connection (WebSocket) asked for something its Access does not allow. */
  | 'forbidden'
  | 'internal';

/** Base class of the server's errors (a SyncstateError of @syncstate-ts/codec). */
export class ServerError extends SyncstateError<ServerErrorCode> {
  override name = 'ServerError';
}

/** A length prefix above `maxFrameSize`; refused before any of the body is buffered. */
export class FrameTooLargeError extends ServerError {
  override name = 'FrameTooLargeError';
  readonly frameSize: number;
  readonly maxFrameSize: number;
  constructor(frameSize: number, maxFrameSize: number) {
    super('frame-too-large', `request frame of ${frameSize} bytes exceeds maxFrameSize ${maxFrameSize}`);
    this.frameSize = frameSize;
    this.maxFrameSize = maxFrameSize;
  }
}

export type TimeoutPhase = 'handshake' | 'request' | 'idle' | 'drain' | 'hook';

const timeoutCodes = {
  handshake: 'handshake-timeout',
  request: 'request-timeout',
  idle: 'idle-timeout',
  drain: 'drain-timeout',
  hook: 'hook-timeout',
} as const satisfies Record<TimeoutPhase, ServerErrorCode>;

/** A connection (or a hook) took longer than its limit and was cut off. */
export class ServerTimeoutError extends ServerError {
  override name = 'ServerTimeoutError';
  readonly phase: TimeoutPhase;
  readonly timeoutMs: number;
  constructor(phase: TimeoutPhase, timeoutMs: number, message?: string) {
    super(timeoutCodes[phase], message ?? `${phase} timeout after ${timeoutMs} ms`);
    this.phase = phase;
    this.timeoutMs = timeoutMs;
  }
}

/** Bytes that do not decode as what the protocol expects; the connection is closed without an answer, as Rust does. */
export class MalformedRequestError extends ServerError {
  override name = 'MalformedRequestError';
  constructor(
    code: 'undecodable-request' | 'undecodable-event' | 'undecodable-init-data',
    message: string,
    options?: { cause?: unknown },
  ) {
    super(code, message, options);
  }
}

/** A hook threw or rejected; logged with the map's hash, never sent to the client. */
export class HookError extends ServerError {
  override name = 'HookError';
  readonly hookIndex: number;
  constructor(hookIndex: number, message: string, options?: { cause?: unknown }) {
    super('hook-failed', message, options);
    this.hookIndex = hookIndex;
  }
}

/**
 * A hook used its map after its run ended: it timed out and kept going, or
 * kept a reference for later. Refused, so that every change to a map happens
 * in its turn and is stored before anyone can read it.
 */
export class HookExpiredError extends ServerError {
  override name = 'HookExpiredError';
  constructor(what: string) {
    super('hook-expired', `${what} used its map after its run ended (timed out, or kept a reference); refused`);
  }
}

/** Work refused or abandoned because `close()` was called. */
export class ServerClosedError extends ServerError {
  override name = 'ServerClosedError';
  constructor(message = 'the server is closed') {
    super('server-closed', message);
  }
}

/** A readable text for any thrown value (hooks may throw non-Errors). */
export function errorMessage(err: unknown): string {
  if (err instanceof Error) return err.message;
  return String(err);
}
