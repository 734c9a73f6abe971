/** Counters of a WebSocket listener, read as a plain snapshot with `stats()`. */

export interface WebSocketStats {
  connections: {
    /** Upgraded WebSocket connections open now. */
    active: number;
    /** Upgraded since start. */
    total: number;
    /** Refused at once: `maxConnections` open, or an upgrade without the syncstate.v1 subprotocol. */
    rejected: number;
  };
  /** Requests answered (Response, or an Error for that request). */
  requests: number;
  /** Update messages pushed. */
  pushes: number;
  /** Subscriptions of all connections, and the maps they name. */
  subscriptions: number;
  followedMaps: number;
  /** Answer bytes waiting to be taken by sockets, all connections together. */
  unsentBytes: number;
  /** Refusals and cut-off connections by code (carrier error codes, and 'handshake-timeout', 'ping-timeout', 'drain-timeout', 'memory-budget', 'message-too-large', 'socket-error', 'internal'). */
  errors: Record<string, number>;
}

export class ListenerCounters {
  active = 0;
  total = 0;
  rejected = 0;
  requests = 0;
  pushes = 0;
  unsent = 0;
  readonly errors: Record<string, number> = {};

  error(code: string): void {
    this.errors[code] = (this.errors[code] ?? 0) + 1;
  }
}
