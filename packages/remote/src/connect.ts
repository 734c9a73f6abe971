/**
 * Opens the TLS connection for one request (the protocol sends exactly one
 * request per connection), with separate limits for the TCP connect and the
 * TLS handshake so a slow network and a stuck handshake read differently.
 */
import { isIP, type LookupFunction } from 'node:net';
import * as tls from 'node:tls';
import { ConnectionError, TimeoutError } from './errors.js';
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
}

export function connectTls(options: ConnectOptions): Promise<tls.TLSSocket> {
  const { signal } = options;
  if (signal?.aborted) return Promise.reject(abortReason(signal));

  return new Promise((resolve, reject) => {
    const socket = tls.connect({
      host: options.host,
      port: options.port,
      ca: options.tls.ca,
      ...(options.tls.cert !== undefined ? { cert: options.tls.cert } : {}),
      ...(options.tls.key !== undefined ? { key: options.tls.key } : {}),
      minVersion: 'TLSv1.2', // what rustls offers
      ...(options.lookup !== undefined ? { lookup: options.lookup } : {}),
      ...serverNameOptions(options.host, options.tls.servername),
    });

    let timer = startTimer(options.connectTimeoutMs, () => fail(new TimeoutError('connect', options.connectTimeoutMs)));
    const onConnect = (): void => {
      timer.clear();
      timer = startTimer(options.handshakeTimeoutMs, () =>
        fail(new TimeoutError('handshake', options.handshakeTimeoutMs)),
      );
    };
    const onSecure = (): void => {
      cleanup();
      resolve(socket);
    };
    const onError = (err: Error): void => {
      fail(new ConnectionError(`cannot connect to ${options.host}:${options.port}: ${err.message}`, { cause: err }));
    };
    const onClose = (): void => {
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
