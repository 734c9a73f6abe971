/**
 * The WebSocket listener: HTTPS (the server's certificate) or plain HTTP on a
 * loopback address only, upgrades offering the `syncstate.v1` subprotocol,
 * and one Connection per upgraded socket, all sharing a service (what answers
 * requests), a subscription hub and a byte budget. What a connection may do
 * and how its messages are limited is in connection.ts.
 */
import { createServer as createHttpServer, type IncomingMessage, type Server as HttpServer, type ServerResponse } from 'node:http';
import { createServer as createHttpsServer } from 'node:https';
import { isIP, type AddressInfo, type Socket } from 'node:net';
import type { Duplex } from 'node:stream';
import type { TlsOptions } from 'node:tls';
import { WebSocketServer } from 'ws';
import { WEBSOCKET_SUBPROTOCOL } from '@syncstate-ts/codec';
import { ByteBudget, silentLogger, type Logger } from '@syncstate-ts/server';
import { Connection } from './connection.js';
import { SubscriptionHub } from './hub.js';
import { resolveWebSocketLimits, type WebSocketLimits } from './limits.js';
import type { WebSocketService } from './service.js';
import { ListenerCounters, type WebSocketStats } from './stats.js';

export interface WebSocketListenerOptions {
  /** What answers the requests and authorizes the connections (protocolService(server.protocol, …) for our server). */
  service: WebSocketService;
  /** Default 127.0.0.1. */
  host?: string | undefined;
  /** Default 0 (any free port; read it from `address()`). */
  port?: number | undefined;
  /**
   * node:tls server options (`cert`, `key`): wss://. Without them the
   * listener speaks plain ws://, which it allows on a loopback address only
   * (127.0.0.0/8, ::1, localhost): tokens must not cross a network in clear.
   */
  tls?: TlsOptions | undefined;
  limits?: Partial<WebSocketLimits> | undefined;
  logger?: Logger | undefined;
  /**
   * Answers HTTP requests that are not WebSocket upgrades, e.g. to serve a web
   * page from the same origin. Default: 426 Upgrade Required.
   */
  httpHandler?: ((request: IncomingMessage, response: ServerResponse) => void) | undefined;
}

export class WebSocketListener {
  readonly limits: Readonly<WebSocketLimits>;
  readonly #options: WebSocketListenerOptions;
  readonly #logger: Logger;
  readonly #http: HttpServer;
  readonly #wss: WebSocketServer;
  readonly #hub: SubscriptionHub;
  readonly #budget: ByteBudget;
  readonly #counters = new ListenerCounters();
  readonly #connections = new Set<Connection>();
  readonly #sockets = new Set<Socket>();
  #listening: Promise<AddressInfo> | undefined;
  #closing: Promise<void> | undefined;

  constructor(options: WebSocketListenerOptions) {
    this.#options = options;
    this.limits = Object.freeze(resolveWebSocketLimits(options.limits));
    this.#logger = options.logger ?? silentLogger;
    const host = options.host ?? '127.0.0.1';
    if (options.tls === undefined && !isLoopback(host)) {
      throw new TypeError(`plain WebSocket (no tls) listens on a loopback address only, not ${host}: give tls (cert, key)`);
    }
    const { limits } = this;
    this.#hub = new SubscriptionHub(options.service);
    this.#budget = new ByteBudget(limits.maxBufferedRequestBytes);
    const httpOptions = {
      // The upgrade request's headers must arrive within the handshake limit.
      headersTimeout: limits.handshakeTimeoutMs,
      requestTimeout: limits.handshakeTimeoutMs,
      connectionsCheckingInterval: Math.min(1000, limits.handshakeTimeoutMs),
    };
    this.#http =
      options.tls !== undefined
        ? createHttpsServer({ minVersion: 'TLSv1.2', ...options.tls, handshakeTimeout: limits.handshakeTimeoutMs, ...httpOptions })
        : createHttpServer(httpOptions);
    if (Number.isFinite(limits.maxConnections)) this.#http.maxConnections = limits.maxConnections;
    this.#wss = new WebSocketServer({
      noServer: true,
      maxPayload: limits.maxMessageSize,
      perMessageDeflate: false, // no compression: no decompression bombs, no CPU per message
      clientTracking: false,
      handleProtocols: (offered) => (offered.has(WEBSOCKET_SUBPROTOCOL) ? WEBSOCKET_SUBPROTOCOL : false),
    });

    this.#http.on('connection', (socket: Socket) => {
      this.#sockets.add(socket);
      socket.once('close', () => this.#sockets.delete(socket));
    });
    this.#http.on('drop', () => {
      this.#counters.rejected++;
      this.#logger.warn({ maxConnections: limits.maxConnections }, 'WebSocket connection refused: too many open');
    });
    this.#http.on('tlsClientError', (err: Error, socket: Duplex) => {
      this.#counters.error('tls-error');
      this.#logger.debug({ err }, 'TLS handshake failed');
      socket.destroy();
    });
    this.#http.on('request', options.httpHandler ?? upgradeRequired);
    this.#http.on('upgrade', (request: IncomingMessage, socket: Duplex, head: Buffer) => this.#upgrade(request, socket, head));
    this.#http.on('error', (err) => {
      if (this.#http.listening) this.#logger.error({ err }, 'WebSocket listener error');
    });
  }

  listen(): Promise<AddressInfo> {
    if (this.#closing !== undefined) return Promise.reject(new Error('the WebSocket listener is closed'));
    this.#listening ??= new Promise<AddressInfo>((resolve, reject) => {
      this.#http.once('error', reject);
      this.#http.listen(this.#options.port ?? 0, this.#options.host ?? '127.0.0.1', () => {
        this.#http.off('error', reject);
        const address = this.address()!;
        this.#logger.info({ address, url: this.url }, 'WebSocket listening');
        resolve(address);
      });
    });
    return this.#listening;
  }

  address(): AddressInfo | null {
    const address = this.#http.address();
    return address !== null && typeof address === 'object' ? address : null;
  }

  /** `wss://host:port/` (or `ws://` without tls) once listening. */
  get url(): string | undefined {
    const address = this.address();
    if (address === null) return undefined;
    const host = address.family === 'IPv6' ? `[${address.address}]` : address.address;
    return `${this.#options.tls !== undefined ? 'wss' : 'ws'}://${host}:${address.port}/`;
  }

  stats(): WebSocketStats {
    const c = this.#counters;
    return {
      connections: { active: c.active, total: c.total, rejected: c.rejected },
      requests: c.requests,
      pushes: c.pushes,
      subscriptions: this.#hub.subscriptions,
      followedMaps: this.#hub.maps,
      unsentBytes: c.unsent,
      errors: { ...c.errors },
    };
  }

  /**
   * Stops accepting; each connection answers the requests it has in flight,
   * then closes with 1001; plain HTTP connections are closed. Idempotent.
   * Close this before the server whose protocol it serves.
   */
  close(): Promise<void> {
    this.#closing ??= (async () => {
      const stopped = new Promise<void>((resolve) => this.#http.close(() => resolve()));
      this.#http.closeIdleConnections();
      await Promise.all([...this.#connections].map((c) => c.shutdown()));
      for (const socket of this.#sockets) socket.destroy();
      await stopped;
    })();
    return this.#closing;
  }

  #upgrade(request: IncomingMessage, socket: Duplex, head: Buffer): void {
    const offered = String(request.headers['sec-websocket-protocol'] ?? '')
      .split(',')
      .map((p) => p.trim());
    if (this.#closing !== undefined) return this.#reject(socket, 503, 'Service Unavailable', 'the server is closing');
    if (!offered.includes(WEBSOCKET_SUBPROTOCOL)) {
      return this.#reject(socket, 400, 'Bad Request', `offer the WebSocket subprotocol ${WEBSOCKET_SUBPROTOCOL}`);
    }
    const peer = `${request.socket.remoteAddress}:${request.socket.remotePort}`;
    this.#wss.handleUpgrade(request, socket, head, (ws) => {
      const counters = this.#counters;
      counters.active++;
      counters.total++;
      const connection = new Connection(ws, socket, {
        service: this.#options.service,
        hub: this.#hub,
        limits: this.limits,
        budget: this.#budget,
        logger: this.#logger,
        counters,
        info: { peer, origin: request.headers.origin, path: request.url ?? '/' },
      });
      this.#connections.add(connection);
      void connection.closed.then(() => {
        counters.active--;
        this.#connections.delete(connection);
      });
      this.#logger.debug({ peer, origin: request.headers.origin }, 'WebSocket connection');
    });
  }

  #reject(socket: Duplex, status: number, text: string, reason: string): void {
    this.#counters.rejected++;
    this.#logger.debug({ status, reason }, 'WebSocket upgrade refused');
    socket.end(`HTTP/1.1 ${status} ${text}\r\nConnection: close\r\nContent-Type: text/plain\r\nContent-Length: ${Buffer.byteLength(reason)}\r\n\r\n${reason}`);
    socket.once('error', () => {});
    setTimeout(() => socket.destroy(), 1000).unref();
  }
}

function upgradeRequired(_request: IncomingMessage, response: ServerResponse): void {
  const body = `this is a syncstate WebSocket endpoint: connect with the subprotocol ${WEBSOCKET_SUBPROTOCOL}\n`;
  response.writeHead(426, { Upgrade: 'websocket', 'Content-Type': 'text/plain', 'Content-Length': Buffer.byteLength(body) });
  response.end(body);
}

/** 127.0.0.0/8, ::1, localhost. */
export function isLoopback(host: string): boolean {
  if (host === 'localhost' || host === '::1' || host === '[::1]') return true;
  return isIP(host) === 4 && host.startsWith('127.');
}
