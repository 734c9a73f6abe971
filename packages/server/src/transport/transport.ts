/**
 * What carries requests to the protocol: a listener that accepts
 * connections, reads one request frame from each, asks `respond` for the
 * answer and writes it back. node:tls is the default (node-tls.ts);
 * @syncstate/transport-rustls does the same natively, on a thread pool.
 * Every transport enforces the same limits (ServerLimits) against hostile peers.
 */
import type { AddressInfo } from 'node:net';
import type { Duplex } from 'node:stream';
import type { TlsOptions } from 'node:tls';
import type { ServerErrorCode } from '../errors.js';
import type { ConnectionInfo } from '../handler.js';
import type { Logger, ServerLimits } from '../limits/options.js';
import type { Metrics } from '../metrics.js';

export interface TransportContext {
  host: string;
  port: number;
  /** The server's `tls` option. */
  tls: TlsOptions;
  limits: Readonly<ServerLimits>;
  logger: Logger;
  /** For transports that read frames themselves: the answer to one payload, or null to close without answering. */
  respond(payload: Uint8Array, peer: string): Promise<Uint8Array | null>;
  /** For transports that yield plaintext streams: serves one whole connection (framing and limits included). */
  handle(stream: Duplex, info: ConnectionInfo): Promise<void>;
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
