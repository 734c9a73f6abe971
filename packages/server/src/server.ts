/**
 * The TLS server: accepts sockets on node:tls and plugs each one into the
 * ProtocolHandler. It owns what only a real listener has: the handshake
 * timeout, the cap on open connections, and the lifecycle (listen, ready,
 * address, close).
 */
import { setMaxListeners } from 'node:events';
import type { AddressInfo, Socket } from 'node:net';
import { createServer as createTlsServer, type Server as TlsServer, type TLSSocket } from 'node:tls';
import { ServerClosedError } from './errors.js';
import { ProtocolHandler } from './handler.js';
import type { ServerOptions } from './limits/options.js';
import { Metrics, type MetricsSnapshot } from './metrics.js';

export class SyncStateServer<K, V, E> {
  /** Resolves with the bound address once `listen()` succeeded; rejects if it failed. */
  readonly ready: Promise<AddressInfo>;
  readonly #options: ServerOptions<K, V, E>;
  readonly #metrics = new Metrics();
  readonly #handler: ProtocolHandler<K, V, E>;
  readonly #tls: TlsServer;
  readonly #abort = new AbortController();
  /** Raw sockets by peer address, with whether their TLS handshake has completed. */
  readonly #sockets = new Map<string, { socket: Socket; secure: boolean }>();
  readonly #served = new Set<Promise<void>>();
  #ready!: { resolve: (a: AddressInfo) => void; reject: (e: unknown) => void };
  #listening: Promise<AddressInfo> | undefined;
  #closing: Promise<void> | undefined;

  constructor(options: ServerOptions<K, V, E>) {
    this.#options = options;
    this.#handler = new ProtocolHandler(options, this.#metrics);
    const { limits, logger } = this.#handler;
    this.ready = new Promise<AddressInfo>((resolve, reject) => {
      this.#ready = { resolve, reject };
    });
    this.ready.catch(() => {}); // observed through listen(); never an unhandled rejection
    // Every open connection listens for close(); each removes its listener when it ends.
    setMaxListeners(0, this.#abort.signal);

    this.#tls = createTlsServer({
      minVersion: 'TLSv1.2',
      ...options.tls,
      requestCert: false,
      handshakeTimeout: limits.handshakeTimeoutMs,
    });
    if (Number.isFinite(limits.maxConnections)) this.#tls.maxConnections = limits.maxConnections;

    this.#tls.on('connection', (socket: Socket) => {
      this.#metrics.totalConnections++;
      this.#metrics.activeConnections++;
      const peer = peerOf(socket);
      this.#sockets.set(peer, { socket, secure: false });
      socket.once('close', () => {
        this.#metrics.activeConnections--;
        this.#sockets.delete(peer);
      });
    });
    // Node closes connections above maxConnections itself, before 'connection'.
    this.#tls.on('drop', (data?: { remoteAddress?: string }) => {
      this.#metrics.rejectedConnections++;
      logger.warn({ peer: data?.remoteAddress, maxConnections: limits.maxConnections }, 'connection refused: too many open');
    });
    this.#tls.on('tlsClientError', (err: Error & { code?: string }, socket: TLSSocket) => {
      const code = err.code === 'ERR_TLS_HANDSHAKE_TIMEOUT' ? 'handshake-timeout' : 'tls-error';
      this.#metrics.error(code);
      logger.debug({ err, peer: socket.remoteAddress, code }, 'TLS handshake failed');
      socket.destroy(); // Node 20 only reports a handshake timeout; the socket would stay open
    });
    this.#tls.on('secureConnection', (socket: TLSSocket) => {
      const peer = peerOf(socket);
      const raw = this.#sockets.get(peer);
      if (raw !== undefined) raw.secure = true;
      logger.debug({ peer, protocol: socket.getProtocol() }, 'TLS connection');
      const served = this.#handler.handle(socket, {
        peer,
        signal: this.#abort.signal,
      });
      this.#served.add(served);
      void served.finally(() => this.#served.delete(served));
    });
    // A failed listen() rejects its promise; logging it as well would report it twice.
    this.#tls.on('error', (err) => {
      if (this.#tls.listening) logger.error({ err }, 'TLS server error');
    });
  }

  /** Starts listening (host default 127.0.0.1, port default 0: any free port). */
  listen(): Promise<AddressInfo> {
    if (this.#closing !== undefined) return Promise.reject(new ServerClosedError());
    this.#listening ??= new Promise<AddressInfo>((resolve, reject) => {
      const onError = (err: Error): void => reject(err);
      this.#tls.once('error', onError);
      this.#tls.listen(this.#options.port ?? 0, this.#options.host ?? '127.0.0.1', () => {
        this.#tls.off('error', onError);
        const address = this.address()!;
        this.#handler.logger.info({ address }, 'listening');
        resolve(address);
      });
    }).then(
      (address) => {
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
    const address = this.#tls.address();
    return address !== null && typeof address === 'object' ? address : null;
  }

  metrics(): MetricsSnapshot {
    return this.#metrics.snapshot();
  }

  /**
   * Stops accepting, cuts off connections whose request is not complete
   * (handshakes included), lets answers in progress and accepted events
   * finish, then closes the storage. Idempotent: every call returns the same promise.
   */
  close(): Promise<void> {
    this.#closing ??= (async () => {
      this.#ready.reject(new ServerClosedError('closed before listening'));
      const stopped = new Promise<void>((resolve) => this.#tls.close(() => resolve()));
      this.#abort.abort();
      for (const { socket, secure } of this.#sockets.values()) if (!secure) socket.destroy();
      await Promise.allSettled([...this.#served]);
      await this.#handler.close();
      await stopped;
      this.#handler.logger.info({}, 'closed');
    })();
    return this.#closing;
  }
}

// The TLS socket and its raw socket share the peer address, which is unique among open connections.
function peerOf(socket: Socket): string {
  return `${socket.remoteAddress}:${socket.remotePort}`;
}

/** Shorthand for `new SyncStateServer(options)`. */
export function createServer<K, V, E>(options: ServerOptions<K, V, E>): SyncStateServer<K, V, E> {
  return new SyncStateServer(options);
}
