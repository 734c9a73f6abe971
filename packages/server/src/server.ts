/**
 * The server: a transport (node:tls by default, see transport/) that carries
 * each request frame to the ProtocolHandler, and the lifecycle around them
 * (listen, ready, address, metrics, close).
 */
import type { AddressInfo } from 'node:net';
import type { TlsOptions } from 'node:tls';
import { ServerClosedError } from './errors.js';
import { ProtocolHandler, type ProtocolOptions } from './handler.js';
import type { LoadedMap } from './registry/registry.js';
import { ByteBudget } from './limits/budget.js';
import { Metrics, type MetricsSnapshot } from './metrics.js';
import { nodeTlsTransport } from './transport/node-tls.js';
import { respondOrClose } from './transport/stream.js';
import type { Transport, TransportFactory } from './transport/transport.js';

export interface ServerOptions<K, V, E> extends ProtocolOptions<K, V, E> {
  /**
   * node:tls server options; `cert` and `key` are required. TLS 1.2 and 1.3 are accepted by default.
   * The rustls transport takes `cert`, `key`, `minVersion` and `maxVersion` only.
   */
  tls: TlsOptions;
  /** Default 127.0.0.1. */
  host?: string | undefined;
  /** Default 0 (any free port; read it from `address()`). */
  port?: number | undefined;
  /** What accepts connections and reads request frames; default node:tls (`nodeTlsTransport`). */
  transport?: TransportFactory | undefined;
}

export class SyncStateServer<K, V, E> {
  /** Resolves with the bound address once `listen()` succeeded; rejects if it failed. */
  readonly ready: Promise<AddressInfo>;
  readonly #metrics = new Metrics();
  readonly #handler: ProtocolHandler<K, V, E>;
  readonly #transport: Transport;
  #ready!: { resolve: (a: AddressInfo) => void; reject: (e: unknown) => void };
  #listening: Promise<AddressInfo> | undefined;
  #closing: Promise<void> | undefined;
  readonly #carriers = new Set<{ close(): Promise<void> }>();

  constructor(options: ServerOptions<K, V, E>) {
    this.#handler = new ProtocolHandler(options, this.#metrics);
    const { limits, logger } = this.#handler;
    this.ready = new Promise<AddressInfo>((resolve, reject) => {
      this.#ready = { resolve, reject };
    });
    this.ready.catch(() => {}); // observed through listen(); never an unhandled rejection
    const handler = this.#handler;
    const metrics = this.#metrics;
    this.#transport = (options.transport ?? nodeTlsTransport)({
      host: options.host ?? '127.0.0.1',
      port: options.port ?? 0,
      tls: options.tls,
      limits,
      logger,
      metrics,
      budget: new ByteBudget(limits.maxBufferedRequestBytes),
      respond: (payload, peer) => respondOrClose((p) => handler.respond(p, peer), payload, { metrics, logger, peer }),
    });
  }

  /** Starts listening (host default 127.0.0.1, port default 0: any free port). */
  listen(): Promise<AddressInfo> {
    if (this.#closing !== undefined) return Promise.reject(new ServerClosedError());
    this.#listening ??= this.#transport.listen().then(
      (address) => {
        this.#handler.logger.info({ address, transport: this.#transport.name }, 'listening');
        this.#ready.resolve(address);
        return address;
      },
      (err: unknown) => {
        this.#ready.reject(err);
        throw err;
      },
    );
    return this.#listening;
  }

  /** The bound address, or null when not listening. */
  address(): AddressInfo | null {
    return this.#transport.address();
  }

  /**
   * The protocol handler behind every transport: what another carrier (a
   * WebSocket listener, @syncstate-ts/server-websocket) hands its requests to.
   */
  get protocol(): ProtocolHandler<K, V, E> {
    return this.#handler;
  }

  /**
   * Ties another carrier of this server's protocol (a WebSocket listener) to
   * its lifetime: `close()` closes it first, while the protocol still answers.
   */
  attach(carrier: { close(): Promise<void> }): void {
    this.#carriers.add(carrier);
  }

  /** Name of the transport carrying the requests ('node:tls', 'rustls'). */
  get transport(): string {
    return this.#transport.name;
  }

  metrics(): MetricsSnapshot {
    const snapshot = this.#metrics.snapshot();
    const stats = this.#transport.stats?.();
    if (stats === undefined) return snapshot;
    for (const [code, n] of Object.entries(stats.failures) as [keyof typeof stats.failures, number][]) {
      if (n > 0) snapshot.errors[code] = (snapshot.errors[code] ?? 0) + n;
    }
    return {
      ...snapshot,
      bytesIn: stats.bytesIn,
      bytesOut: stats.bytesOut,
      connections: { active: stats.activeConnections, total: stats.totalConnections, rejected: stats.rejectedConnections },
    };
  }

  /**
   * The maps this server holds in memory: for each, the update id of its copy,
   * the storage's, and the difference. With a storage shared by several
   * servers the others commit without telling this one, so a copy may be
   * behind until its next read or event catches it up (reads always do
   * first). Asks the storage once per map.
   */
  maps(): Promise<LoadedMap[]> {
    return this.#handler.maps();
  }

  /**
   * Stops accepting, cuts off connections whose request is not complete
   * (handshakes included), lets answers in progress and accepted events
   * finish, then closes the storage. Idempotent: every call returns the same promise.
   */
  close(): Promise<void> {
    this.#closing ??= (async () => {
      this.#ready.reject(new ServerClosedError('closed before listening'));
      await Promise.all([...this.#carriers].map((carrier) => carrier.close()));
      await this.#transport.close();
      await this.#handler.close();
      this.#handler.logger.info({}, 'closed');
    })();
    return this.#closing;
  }
}

/** Shorthand for `new SyncStateServer(options)`. */
export function createServer<K, V, E>(options: ServerOptions<K, V, E>): SyncStateServer<K, V, E> {
  return new SyncStateServer(options);
}
