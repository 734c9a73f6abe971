/**
 * The gateway's side towards its upstream server: one TLS connection per
 * request, as every syncstate client (the protocol has no other way), with
 * the gateway's own password, through @syncstate-ts/remote's TcpStateRemote
 * (timeouts, bounded answers, TLS session resumption).
 *
 * A Rust server spawns a thread per connection and has no limit of its own,
 * so the gateway opens at most `maxConcurrent` upstream connections at once;
 * further requests wait their turn.
 */
import type { Request, Response } from '@syncstate-ts/codec';
import type { Kind } from '@syncstate-ts/core';
import { ConnectionClosedError, ConnectionError, ProtocolError, TcpStateRemote, TimeoutError, type TlsOptions } from '@syncstate-ts/remote';
import { RelayError } from './errors.js';

export interface UpstreamOptions<K, V> {
  /** The upstream server, `"host:port"` or `"[ipv6]:port"`. */
  address: string;
  /** Its certificate or CA (TLS is mandatory in the protocol). */
  tls: TlsOptions;
  /** The upstream's pre-shared password: the gateway puts it in every request it relays. */
  password: string | Uint8Array;
  key: Kind<K>;
  value: Kind<V>;
  /** Upstream connections open at once (default 32); more requests wait. */
  maxConcurrent?: number;
  /** TCP connect limit (default 5 000 ms): an unreachable upstream fails fast. */
  connectTimeoutMs?: number;
  /** TLS handshake limit (default 5 000 ms). */
  handshakeTimeoutMs?: number;
  /** From sending a request to the end of its answer (default 30 000 ms). */
  responseTimeoutMs?: number;
  /** Largest answer accepted (default 16 MiB, as our client). */
  maxFrameSize?: number;
}

export const DEFAULT_MAX_UPSTREAM_CONNECTIONS = 32;

/** What the gateway needs of its upstream (Upstream, whatever its key and value kinds). */
export interface RequestSender {
  readonly address: string;
  send(request: Request, signal?: AbortSignal): Promise<Response>;
}

export class Upstream<K, V> implements RequestSender {
  readonly address: string;
  readonly #remote: TcpStateRemote<K, V>;
  readonly #maxConcurrent: number;
  #active = 0;
  readonly #waiting: Array<() => void> = [];
  #sent = 0;

  constructor(options: UpstreamOptions<K, V>) {
    this.address = options.address;
    this.#maxConcurrent = options.maxConcurrent ?? DEFAULT_MAX_UPSTREAM_CONNECTIONS;
    if (!Number.isInteger(this.#maxConcurrent) || this.#maxConcurrent < 1) {
      throw new RangeError(`maxConcurrent must be a positive integer, got ${this.#maxConcurrent}`);
    }
    this.#remote = new TcpStateRemote({
      address: options.address,
      tls: options.tls,
      password: options.password,
      key: options.key,
      value: options.value,
      connectTimeoutMs: options.connectTimeoutMs ?? 5_000,
      handshakeTimeoutMs: options.handshakeTimeoutMs ?? 5_000,
      ...(options.responseTimeoutMs !== undefined ? { responseTimeoutMs: options.responseTimeoutMs } : {}),
      ...(options.maxFrameSize !== undefined ? { maxFrameSize: options.maxFrameSize } : {}),
    });
  }

  /** Requests sent upstream so far (each one TLS connection). */
  get requestsSent(): number {
    return this.#sent;
  }

  /** Upstream connections open now. */
  get active(): number {
    return this.#active;
  }

  /**
   * Sends one request with the gateway's password and returns the upstream's
   * answer. Failures reject with a RelayError: 'unavailable' when the upstream
   * cannot be reached, does not answer in time or refuses the gateway's
   * password; 'no-answer' when it hangs up without a whole answer (as the
   * Rust server does for input it cannot decode, and after 64 KiB of a
   * larger answer).
   */
  async send(request: Request, signal?: AbortSignal): Promise<Response> {
    await this.#slot();
    this.#sent++;
    let response: Response;
    try {
      response = await this.#remote.request(request, signal !== undefined ? { signal } : {});
    } catch (err) {
      throw this.#relayError(err);
    } finally {
      this.#release();
    }
    if (response.type === 'IncorrectPassword') {
      throw new RelayError('unavailable', `the upstream server ${this.address} refused the gateway's password`);
    }
    return response;
  }

  #relayError(err: unknown): unknown {
    const where = `upstream ${this.address}`;
    if (err instanceof ConnectionError || err instanceof TimeoutError) {
      return new RelayError('unavailable', `${where} unavailable: ${err.message}`, { cause: err });
    }
    if (err instanceof ConnectionClosedError) {
      return new RelayError('no-answer', `${where}: ${err.message}`, { cause: err });
    }
    if (err instanceof ProtocolError) {
      return new RelayError('unavailable', `${where} answered something this gateway cannot read: ${err.message}`, { cause: err });
    }
    return err;
  }

  #slot(): Promise<void> {
    if (this.#active < this.#maxConcurrent) {
      this.#active++;
      return Promise.resolve();
    }
    return new Promise((resolve) => this.#waiting.push(resolve));
  }

  #release(): void {
    const next = this.#waiting.shift();
    if (next !== undefined) next(); // the slot passes on as it is
    else this.#active--;
  }
}
