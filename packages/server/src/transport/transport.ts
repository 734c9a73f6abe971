/**
 * What carries requests to the protocol: a listener that accepts
 * connections, reads one request frame from each, asks `respond` for the
 * answer and writes it back. Each transport owns its bytes; the protocol
 * only ever sees a complete request's payload. node:tls is the default
 * (node-tls.ts, framing in stream.ts); @syncstate-ts/transport-rustls does the
 * same natively, on a thread pool. Every transport enforces the same limits
 * (ServerLimits) against hostile peers.
 */
import type { AddressInfo } from 'node:net';
import type { TlsOptions } from 'node:tls';
import type { ServerErrorCode } from '../errors.js';
import type { ByteBudget } from '../limits/budget.js';
import type { ServerLimits } from '../limits/limits.js';
import type { Logger } from '../logger.js';
import type { Metrics } from '../metrics.js';

/** One connection, as a transport knows it. */
export interface ConnectionInfo {
  /** Remote address, for logs. */
  peer?: string | undefined;
  /** Aborting cuts the connection off if its request is not complete yet. */
  signal?: AbortSignal | undefined;
}

export interface TransportContext {
  host: string;
  port: number;
  /** The server's `tls` option. */
  tls: TlsOptions;
  limits: Readonly<ServerLimits>;
  logger: Logger;
  /** The answer to one complete request's payload, or null to close without answering. Never rejects. */
  respond(payload: Uint8Array, peer: string): Promise<Uint8Array | null>;
  /** Request bytes buffered in JavaScript by all connections together (limits.maxBufferedRequestBytes). */
  budget: ByteBudget;
  /** The server's counters; a transport that keeps its own reports them through `stats()` instead. */
  metrics: Metrics;
}

/** Connection-level counters of a transport that keeps them itself (absolute, since start). */
export interface TransportStats {
  activeConnections: number;
  totalConnections: number;
  rejectedConnections: number;
  bytesIn: number;
  bytesOut: number;
  failures: Partial<Record<ServerErrorCode, number>>;
}

export interface Transport {
  /** A name for logs, e.g. 'node:tls'. */
  readonly name: string;
  listen(): Promise<AddressInfo>;
  /** The bound address, or null when not listening. */
  address(): AddressInfo | null;
  /** Stops accepting, cuts off connections whose request is not complete, lets answers in progress finish. */
  close(): Promise<void>;
  /** Only for transports whose counters are not kept in `context.metrics`. */
  stats?(): TransportStats;
}

export type TransportFactory = (context: TransportContext) => Transport;
