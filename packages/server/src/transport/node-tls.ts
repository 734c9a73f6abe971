/**
 * The default transport: node:tls on the main thread. Owns what only a real
 * listener has: the handshake timeout, the cap on open connections, and
 * cutting off unfinished handshakes at close. Each secure socket is served by
 * serveConnection (stream.ts: framing and limits), which hands the complete
 * request to `context.respond`.
 */
import { setMaxListeners } from 'node:events';
import type { AddressInfo, Socket } from 'node:net';
import { createServer as createTlsServer, type Server as TlsServer, type TLSSocket } from 'node:tls';
import { serveConnection } from './stream.js';
import type { Transport, TransportContext } from './transport.js';

export interface NodeTlsOptions {
  /**
   * Sets TCP_QUICKACK on a connection's socket (Node has no API for it; pass
   * `tcpQuickAck` of @syncstate-ts/transport-rustls). Without it, on Linux, a
   * client that leaves Nagle's algorithm on and writes a request in two pieces,
   * as syncstate's own Rust client does, waits about 40 ms per request for a
   * delayed acknowledgement of its first piece (docs/protocol.md, "The clients").
   */
  quickAck?: ((socket: Socket) => void) | undefined;
}

/** The default transport; `(context) => nodeTlsTransport(context, options)` to pass options. */
export function nodeTlsTransport(context: TransportContext, options: NodeTlsOptions = {}): Transport {
  return new NodeTlsTransport(context, options);
}

class NodeTlsTransport implements Transport {
  readonly name = 'node:tls';
  readonly #context: TransportContext;
  readonly #tls: TlsServer;
  readonly #abort = new AbortController();
  /** Raw sockets by peer address, with whether their TLS handshake has completed. */
  readonly #sockets = new Map<string, { socket: Socket; secure: boolean }>();
  readonly #served = new Set<Promise<void>>();

  constructor(context: TransportContext, options: NodeTlsOptions) {
    this.#context = context;
    const { limits, logger, metrics } = context;
    let quickAck = options.quickAck;
    if (quickAck === undefined && process.platform === 'linux') {
      logger.warn(
        { transport: 'node:tls' },
        'node:tls without quickAck: clients that leave Nagle on (syncstate\'s Rust client) may wait 40 ms per request; see NodeTlsOptions.quickAck',
      );
    }
    // Every open connection listens for close(); each removes its listener when it ends.
    setMaxListeners(0, this.#abort.signal);

    this.#tls = createTlsServer({
      minVersion: 'TLSv1.2',
      ...context.tls,
      requestCert: false,
      handshakeTimeout: limits.handshakeTimeoutMs,
    });
    if (Number.isFinite(limits.maxConnections)) this.#tls.maxConnections = limits.maxConnections;

    this.#tls.on('connection', (socket: Socket) => {
      metrics.totalConnections++;
      metrics.activeConnections++;
      const peer = peerOf(socket);
      this.#sockets.set(peer, { socket, secure: false });
      socket.once('close', () => {
        metrics.activeConnections--;
        this.#sockets.delete(peer);
      });
    });
    // Node closes connections above maxConnections itself, before 'connection'.
    this.#tls.on('drop', (data?: { remoteAddress?: string }) => {
      metrics.rejectedConnections++;
      logger.warn({ peer: data?.remoteAddress, maxConnections: limits.maxConnections }, 'connection refused: too many open');
    });
    this.#tls.on('tlsClientError', (err: Error & { code?: string }, socket: TLSSocket) => {
      const code = err.code === 'ERR_TLS_HANDSHAKE_TIMEOUT' ? 'handshake-timeout' : 'tls-error';
      metrics.error(code);
      logger.debug({ err, peer: socket.remoteAddress, code }, 'TLS handshake failed');
      socket.destroy(); // Node 20 only reports a handshake timeout; the socket would stay open
    });
    this.#tls.on('secureConnection', (socket: TLSSocket) => {
      const peer = peerOf(socket);
      const raw = this.#sockets.get(peer);
      if (raw !== undefined) raw.secure = true;
      logger.debug({ peer, protocol: socket.getProtocol() }, 'TLS connection');
      const served = serveConnection(socket, (payload) => context.respond(payload, peer), {
        maxFrameSize: limits.maxFrameSize,
        requestTimeoutMs: limits.requestTimeoutMs,
        idleTimeoutMs: limits.idleTimeoutMs,
        drainTimeoutMs: limits.drainTimeoutMs,
        budget: context.budget,
        metrics,
        logger,
        signal: this.#abort.signal,
        peer,
      });
      if (raw !== undefined && quickAck !== undefined) {
        // Now (the handshake's last flight may have just left, and Linux then holds acknowledgements
        // back) and after every piece of the request: an acknowledgement held meanwhile leaves at once.
        const armQuickAck = (): void => {
          try {
            quickAck?.(raw.socket);
          } catch (err) {
            logger.warn({ err }, 'quickAck failed; connections go on without it');
            quickAck = undefined;
          }
        };
        armQuickAck();
        socket.on('data', armQuickAck);
      }
      this.#served.add(served);
      void served.finally(() => this.#served.delete(served));
    });
    // A failed listen() rejects its promise; logging it as well would report it twice.
    this.#tls.on('error', (err) => {
      if (this.#tls.listening) logger.error({ err }, 'TLS server error');
    });
  }

  listen(): Promise<AddressInfo> {
    return new Promise<AddressInfo>((resolve, reject) => {
      const onError = (err: Error): void => reject(err);
      this.#tls.once('error', onError);
      this.#tls.listen(this.#context.port, this.#context.host, () => {
        this.#tls.off('error', onError);
        resolve(this.address()!);
      });
    });
  }

  address(): AddressInfo | null {
    const address = this.#tls.address();
    return address !== null && typeof address === 'object' ? address : null;
  }

  async close(): Promise<void> {
    const stopped = new Promise<void>((resolve) => this.#tls.close(() => resolve()));
    this.#abort.abort();
    for (const { socket, secure } of this.#sockets.values()) if (!secure) socket.destroy();
    await Promise.allSettled([...this.#served]);
    await stopped;
  }
}

// The TLS socket and its raw socket share the peer address, which is unique among open connections.
function peerOf(socket: Socket): string {
  return `${socket.remoteAddress}:${socket.remotePort}`;
}
