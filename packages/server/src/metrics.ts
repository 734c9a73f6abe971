/**
 * Counters of one server, read as a plain snapshot with `metrics()`; meant to
 * be copied into whatever metrics system the application uses.
 */
import type { ServerErrorCode } from './errors.js';

export type RequestKind = 'GetUpdateId' | 'Event' | 'GetDiff' | 'Init';
export type ResponseKind =
  | 'IncorrectPassword'
  | 'UpdateId'
  | 'HashNotFound'
  | 'EventInProcess'
  | 'InitSuccess'
  | 'HashMismatch'
  | 'Diff'
  | 'InitFailure';

export interface MetricsSnapshot {
  /** Decoded requests by kind (wrong passwords included). */
  requests: Record<RequestKind, number>;
  /** Answers sent, by kind. */
  responses: Record<ResponseKind, number>;
  /** Failures by code (timeouts, oversized frames, undecodable data, hook failures...). */
  errors: Partial<Record<ServerErrorCode, number>>;
  /** Plaintext bytes read from / written to connections (TLS overhead excluded). */
  bytesIn: number;
  bytesOut: number;
  connections: {
    active: number;
    /** Accepted since start. */
    total: number;
    /** Refused at once because `maxConnections` were open. */
    rejected: number;
  };
  /** Maps held by the server. */
  maps: number;
  /** Event hooks that threw, rejected or timed out. */
  hookFailures: number;
  /** Init hooks that refused a map (answered InitFailure). */
  initFailures: number;
  /** Events accepted and waiting for, or running, their hooks. */
  eventsPending: number;
  /** Events whose hooks have all run. */
  eventsProcessed: number;
}

const requestKinds: readonly RequestKind[] = ['GetUpdateId', 'Event', 'GetDiff', 'Init'];
const responseKinds: readonly ResponseKind[] = [
  'IncorrectPassword',
  'UpdateId',
  'HashNotFound',
  'EventInProcess',
  'InitSuccess',
  'HashMismatch',
  'Diff',
  'InitFailure',
];

function zeros<T extends string>(keys: readonly T[]): Record<T, number> {
  return Object.fromEntries(keys.map((k) => [k, 0])) as Record<T, number>;
}

/** Mutable counters; every component of one server shares one instance. */
export class Metrics {
  readonly requests = zeros(requestKinds);
  readonly responses = zeros(responseKinds);
  readonly errors: Partial<Record<ServerErrorCode, number>> = {};
  bytesIn = 0;
  bytesOut = 0;
  activeConnections = 0;
  totalConnections = 0;
  rejectedConnections = 0;
  maps = 0;
  hookFailures = 0;
  initFailures = 0;
  eventsPending = 0;
  eventsProcessed = 0;

  error(code: ServerErrorCode): void {
    this.errors[code] = (this.errors[code] ?? 0) + 1;
  }

  snapshot(): MetricsSnapshot {
    return {
      requests: { ...this.requests },
      responses: { ...this.responses },
      errors: { ...this.errors },
      bytesIn: this.bytesIn,
      bytesOut: this.bytesOut,
      connections: {
        active: this.activeConnections,
        total: this.totalConnections,
        rejected: this.rejectedConnections,
      },
      maps: this.maps,
      hookFailures: this.hookFailures,
      initFailures: this.initFailures,
      eventsPending: this.eventsPending,
      eventsProcessed: this.eventsProcessed,
    };
  }
}
