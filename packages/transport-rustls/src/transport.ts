/**
 * `rustlsTransport()`: a Transport for @syncstate-ts/server whose connections
 * (TCP accept, TLS handshake, reading the request frame under every limit,
 * writing the answer) run natively on a thread pool. Node's main thread only
 * sees one call per complete request, answered by the server's ProtocolHandler.
 *
 * Why: the protocol opens one connection per request, and in Node 20 the TLS
 * handshake on the main thread costs more than everything else together.
 */
import type { AddressInfo } from 'node:net';
import { constants } from 'node:os';
import type { TlsOptions } from 'node:tls';
import type { ServerErrorCode, Transport, TransportContext, TransportFactory, TransportStats } from '@syncstate-ts/server';
import { loadAddon, type Addon, type ListenOptions, type RustlsListener } from './addon.js';
import { UnsupportedTlsOptionError } from './errors.js';

export interface RustlsTransportOptions {
  /** TLS threads; default the number of cores. */
  threads?: number;
  /**
   * Listen with SO_REUSEPORT (Linux, BSDs, macOS): several processes bind the
   * same port and the kernel spreads connections over them (`syncstate serve
   * --workers`). Default false.
   */
  reusePort?: boolean;
}

/** Use as `createServer({ ..., transport: rustlsTransport() })`. Throws AddonUnavailableError if the addon is missing. */
export function rustlsTransport(options: RustlsTransportOptions = {}): TransportFactory {
  const addon = loadAddon(); // fail at configuration, not at the first connection
  return (context) => new RustlsTransport(addon.RustlsListener, context, options);
}

class RustlsTransport implements Transport {
  readonly name = 'rustls';
  readonly #Listener: Addon['RustlsListener'];
  readonly #context: TransportContext;
  readonly #listenOptions: ListenOptions;
  #listener: RustlsListener | undefined;
  #closing: Promise<void> | undefined;

  constructor(Listener: Addon['RustlsListener'], context: TransportContext, options: RustlsTransportOptions) {
    this.#Listener = Listener;
    this.#context = context;
    const { maxFrameSize, maxBufferedRequestBytes, maxConnections, handshakeTimeoutMs, requestTimeoutMs, idleTimeoutMs, drainTimeoutMs } =
      context.limits;
    this.#listenOptions = {
      host: context.host,
      port: context.port,
      ...tlsFrom(context.tls),
      maxFrameSize,
      maxBufferedRequestBytes,
      maxConnections,
      handshakeTimeoutMs,
      requestTimeoutMs,
      idleTimeoutMs,
      drainTimeoutMs,
      threads: options.threads,
      reusePort: options.reusePort,
    };
  }

  async listen(): Promise<AddressInfo> {
    if (this.#closing !== undefined) throw new Error('transport closed');
    const { respond, logger } = this.#context;
    let listener: RustlsListener;
    const answer = (id: number, bytes: Uint8Array | null): void => {
      try {
        listener.respond(id, bytes === null ? null : asBuffer(bytes));
      } catch (err) {
        logger.error({ err }, 'rustls transport: an answer could not be handed to the addon');
      }
    };
    try {
      listener = new this.#Listener(this.#listenOptions, (id, payload, peer) => {
        // `respond` never rejects (the server turns failures into null); null closes without answering.
        respond(payload, peer).then(
          (bytes) => answer(id, bytes),
          () => answer(id, null),
        );
      });
    } catch (err) {
      throw withErrnoCode(err as Error, this.#listenOptions);
    }
    this.#listener = listener;
    return this.address()!;
  }

  address(): AddressInfo | null {
    const listener = this.#listener;
    if (listener === undefined || this.#closing !== undefined) return null;
    return { address: listener.host, family: listener.family, port: listener.port };
  }

  close(): Promise<void> {
    this.#closing ??= this.#listener?.close() ?? Promise.resolve();
    return this.#closing;
  }

  stats(): TransportStats {
    const native = this.#listener?.stats();
    if (native === undefined) {
      return { activeConnections: 0, totalConnections: 0, rejectedConnections: 0, bytesIn: 0, bytesOut: 0, failures: {} };
    }
    const failures: Partial<Record<ServerErrorCode, number>> = {};
    for (const { code, count } of native.failures) if (count > 0) failures[code as ServerErrorCode] = count;
    return { ...native, failures };
  }
}

// What the addon supports of node:tls's options; anything else is refused rather than ignored.
const supportedTlsOptions = new Set(['cert', 'key', 'minVersion', 'maxVersion', 'requestCert']);
const versions = ['TLSv1.2', 'TLSv1.3'] as const;

function tlsFrom(tls: TlsOptions): Pick<ListenOptions, 'cert' | 'key' | 'tls12' | 'tls13'> {
  for (const [name, value] of Object.entries(tls)) {
    if (value !== undefined && !supportedTlsOptions.has(name)) {
      throw new UnsupportedTlsOptionError(
        `tls.${name} is not supported by the rustls transport (it takes cert, key, minVersion and maxVersion); use the node:tls transport`,
      );
    }
  }
  if (tls.requestCert === true) throw new UnsupportedTlsOptionError('tls.requestCert: the syncstate protocol has no client certificates');
  const min = versions.indexOf((tls.minVersion ?? 'TLSv1.2') as (typeof versions)[number]);
  const max = versions.indexOf((tls.maxVersion ?? 'TLSv1.3') as (typeof versions)[number]);
  if (min < 0 || max < 0 || min > max) {
    throw new UnsupportedTlsOptionError(
      `tls.minVersion ${tls.minVersion ?? 'TLSv1.2'} / maxVersion ${tls.maxVersion ?? 'TLSv1.3'}: rustls speaks TLSv1.2 and TLSv1.3 only`,
    );
  }
  return { cert: pem(tls.cert, 'cert'), key: pem(tls.key, 'key'), tls12: min === 0, tls13: max === 1 };
}

function pem(value: TlsOptions['cert'] | TlsOptions['key'], name: string): Buffer {
  if (typeof value === 'string') return Buffer.from(value, 'utf8');
  if (Buffer.isBuffer(value)) return value;
  if (value instanceof Uint8Array) return asBuffer(value);
  throw new UnsupportedTlsOptionError(`tls.${name} must be one PEM string or Buffer for the rustls transport`);
}

function asBuffer(bytes: Uint8Array): Buffer {
  return Buffer.isBuffer(bytes) ? bytes : Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength);
}

/** Gives a bind failure the `code` (EADDRINUSE...) that node:net errors carry, from the OS error number in its message. */
function withErrnoCode(err: Error, { host, port }: { host: string; port: number }): Error {
  const errno = Number(/\(os error (\d+)\)/.exec(err.message)?.[1]);
  const code = Object.entries(constants.errno).find(([, n]) => n === errno)?.[0];
  return code === undefined ? err : Object.assign(err, { code, errno: -errno, syscall: 'listen', address: host, port });
}
