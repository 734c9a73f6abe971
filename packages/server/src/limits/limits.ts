/**
 * The server's limits, their defaults, and validation. Every limit has a
 * finite default except `maxHistory`, whose default (unbounded) keeps the
 * answers identical to the Rust server's.
 */

export interface ServerLimits {
  /** Largest request frame accepted; a bigger length prefix closes the connection before anything is buffered. */
  maxFrameSize: number;
  /** Request bytes buffered by all connections together; a connection that would exceed it is closed. */
  maxBufferedRequestBytes: number;
  /** Open connections; more are closed at once. */
  maxConnections: number;
  /** TCP accept to completed TLS handshake. */
  handshakeTimeoutMs: number;
  /** Completed handshake to the last byte of the request frame (stops slow trickles). */
  requestTimeoutMs: number;
  /** Longest silence while a request is being read. */
  idleTimeoutMs: number;
  /** Longest wait for a peer to accept more response bytes (a peer that stops reading is destroyed). */
  drainTimeoutMs: number;
  /** A hook still running after this is logged as failed and the next event of the map proceeds. */
  hookTimeoutMs: number;
  /** Events accepted but not yet processed, per map; beyond it an event is dropped without an answer. */
  maxPendingEventsPerMap: number;
  /** History entries kept per map (Infinity = all, like Rust); older requests then get a full diff. */
  maxHistory: number;
  /** A wrong password is answered after a random delay in [min, max) ms (Rust: 0.1–100 ms). */
  incorrectPasswordDelayMs: readonly [min: number, max: number];
}

export const defaultLimits: Readonly<ServerLimits> = Object.freeze({
  maxFrameSize: 16 * 1024 * 1024,
  maxBufferedRequestBytes: 256 * 1024 * 1024,
  maxConnections: 1024,
  handshakeTimeoutMs: 10_000,
  requestTimeoutMs: 30_000,
  idleTimeoutMs: 10_000,
  drainTimeoutMs: 30_000,
  hookTimeoutMs: 30_000,
  maxPendingEventsPerMap: 10_000,
  maxHistory: Infinity,
  incorrectPasswordDelayMs: [0.1, 100] as const,
});

/** Applies defaults and rejects nonsensical limits early, at construction. */
export function resolveLimits(partial: Partial<ServerLimits> | undefined): ServerLimits {
  const limits: ServerLimits = { ...defaultLimits, ...partial };
  const positive = (name: keyof ServerLimits, allowInfinity: boolean): void => {
    const v = limits[name];
    if (typeof v !== 'number' || Number.isNaN(v) || v <= 0 || (!allowInfinity && !Number.isFinite(v))) {
      throw new RangeError(`limits.${name} must be a positive${allowInfinity ? '' : ' finite'} number, got ${String(v)}`);
    }
  };
  positive('maxFrameSize', false);
  positive('maxBufferedRequestBytes', true);
  positive('maxConnections', true);
  positive('handshakeTimeoutMs', false);
  positive('requestTimeoutMs', false);
  positive('idleTimeoutMs', false);
  positive('drainTimeoutMs', false);
  positive('hookTimeoutMs', true);
  positive('maxPendingEventsPerMap', true);
  positive('maxHistory', true);
  if (limits.maxFrameSize > 0xffff_ffff) throw new RangeError('limits.maxFrameSize cannot exceed the u32 length prefix');
  if (Number.isFinite(limits.maxHistory) && !Number.isInteger(limits.maxHistory)) {
    throw new RangeError('limits.maxHistory must be an integer or Infinity');
  }
  const [min, max] = limits.incorrectPasswordDelayMs;
  if (!(min >= 0 && max > min && Number.isFinite(max))) {
    throw new RangeError('limits.incorrectPasswordDelayMs must be [min, max) with 0 <= min < max');
  }
  return limits;
}
