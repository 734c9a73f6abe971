/** Options every remote call takes, whatever carries it. */
export interface CallOptions {
  /** Aborts the call: it rejects with `signal.reason` (TLS: the connection is destroyed; WebSocket: the answer is dropped). */
  signal?: AbortSignal;
}
