/**
 * Opens the TLS connection for one request (the protocol sends exactly one
 * request per connection), with separate limits for the TCP connect and the
 * TLS handshake so a slow network and a stuck handshake read differently.
 */
import { isIP, type LookupFunction } from 'node:net';
import * as tls from 'node:tls';
import { ConnectionError, TimeoutError } from './errors.js';
import { SessionCache } from './session-cache.js';
import { abortReason, startTimer } from './timers.js';

export interface TlsOptions {
  /** Trusted root certificate(s), PEM. With a self-signed server certificate, that certificate. */
  ca: string | Buffer | Array<string | Buffer>;
  /** Client certificate, PEM (the Rust server asks for none; kept for proxies that do). */
  cert?: string | Buffer;
  /** Client private key, PEM. */
  key?: string | Buffer;
  /**
   * Name the server certificate must match. Default: the host dialed, as
   * Rust's client does (which is why Rust servers need an IP SAN).
   */
  servername?: string;
  /**
   * Resume the TLS sessions the server hands out (default true, as rustls
   * does): later connections skip the certificate exchange, which is most of
   * a request's cost. Sessions stay in memory, per TcpStateRemote.
   */
  resumption?: boolean;
}

/** What every connection of one remote shares: built once, not per request. */
export interface TlsContext {
  secureContext: tls.SecureContext;
  /** Undefined when resumption is off. */
  sessions: SessionCache | undefined;
}

/** Parses the certificates and key once (Node would redo it on every tls.connect). */
export function createTlsContext(options: TlsOptions): TlsContext {
  const secureContext = tls.createSecureContext({
    ca: options.ca,
    ...(options.cert !== undefined ? { cert: options.cert } : {}),
    ...(options.key !== undefined ? { key: options.key } : {}),
    minVersion: 'TLSv1.2', // what rustls offers
    ciphers: preferSha256(tls.DEFAULT_CIPHERS),
  });
  return { secureContext, sessions: options.resumption === false ? undefined : new SessionCache() };
}

/**
 * Node's cipher list with TLS_AES_128_GCM_SHA256 first, as browsers order it.
 * Servers that follow the client's order (rustls's default, the Rust server's)
 * then hash the handshake with SHA-256, which CPUs with SHA instructions run
 * far faster than the SHA-384 of Node's first choice: 5-10% of a resumed
 * request here. Every suite stays on offer.
 */
export function preferSha256(ciphers: string): string {
  const list = ciphers.split(':');
  const i = list.indexOf('TLS_AES_128_GCM_SHA256');
  return i <= 0 ? ciphers : [list[i], ...list.slice(0, i), ...list.slice(i + 1)].join(':');
}

export interface ConnectOptions {
  host: string;
  port: number;
  tls: TlsOptions;
  connectTimeoutMs: number;
  handshakeTimeoutMs: number;
  signal?: AbortSignal | undefined;
  /** Custom DNS lookup (net.connect's option); tests use it to hold the connect phase open. */
  lookup?: LookupFunction;
  /** Shared state from createTlsContext(tls); made for this one connection when absent. */
  context?: TlsContext;
}

export function connectTls(options: ConnectOptions): Promise<tls.TLSSocket> {
  const { signal } = options;
  if (signal?.aborted) return Promise.reject(abortReason(signal));

  return new Promise((resolve, reject) => {
    const { secureContext, sessions } = options.context ?? createTlsContext(options.tls);
    const offered = sessions?.take();
    const socket = tls.connect({
      host: options.host,
      port: options.port,
      secureContext,
      ...(offered !== undefined ? { session: offered } : {}),
      ...(options.lookup !== undefined ? { lookup: options.lookup } : {}),
      ...serverNameOptions(options.host, options.tls.servername),
    });
    // The request follows the client's Finished at once: Nagle would hold it
    // back until the server acknowledges the Finished.
    socket.setNoDelay(true);
    // TLS 1.3 tickets come after the handshake, often with the answer: keep
    // listening for them as long as the socket lives (Node emits only verified ones).
    if (sessions !== undefined) socket.on('session', (session: Buffer) => sessions.add(session, socket.getProtocol()));

    let timer = startTimer(options.connectTimeoutMs, () => fail(new TimeoutError('connect', options.connectTimeoutMs)));
    const onConnect = (): void => {
      timer.clear();
      timer = startTimer(options.handshakeTimeoutMs, () =>
        fail(new TimeoutError('handshake', options.handshakeTimeoutMs)),
      );
    };
    const onSecure = (): void => {
      cleanup();
      if (offered !== undefined && !socket.isSessionReused()) sessions?.discard(offered);
      resolve(socket);
    };
    const onError = (err: Error): void => {
      // Perhaps a server that chokes on our tickets: the next handshake offers none.
      if (offered !== undefined) sessions?.clear();
      fail(new ConnectionError(`cannot connect to ${options.host}:${options.port}: ${err.message}`, { cause: err }));
    };
    const onClose = (): void => {
      if (offered !== undefined) sessions?.clear();
      fail(new ConnectionError(`connection to ${options.host}:${options.port} closed during the TLS handshake`));
    };
    const onAbort = (): void => fail(abortReason(signal));

    function cleanup(): void {
      timer.clear();
      socket.off('connect', onConnect);
      socket.off('secureConnect', onSecure);
      socket.off('error', onError);
      socket.off('close', onClose);
      signal?.removeEventListener('abort', onAbort);
    }
    function fail(err: unknown): void {
      cleanup();
      if (offered !== undefined) sessions?.discard(offered);
      socket.on('error', () => {}); // given up on: late errors are not news
      socket.destroy();
      reject(err);
    }

    socket.once('connect', onConnect);
    socket.once('secureConnect', onSecure);
    socket.once('error', onError);
    socket.once('close', onClose);
    signal?.addEventListener('abort', onAbort, { once: true });
  });
}

/**
 * Node sends `servername` as SNI, and SNI may not carry an IP (RFC 6066; Node
 * warns and will stop accepting it). Without a servername Node verifies the
 * certificate against the dialed host, IP or name, which is Rust's behaviour.
 * An explicit IP servername is therefore checked by hand instead of sent.
 */
function serverNameOptions(host: string, servername: string | undefined): Partial<tls.ConnectionOptions> {
  if (servername === undefined) return {};
  if (isIP(servername) === 0) return { servername };
  return {
    checkServerIdentity: (_host: string, cert: tls.PeerCertificate) => tls.checkServerIdentity(servername, cert),
  };
}
