/**
 * TcpStateRemote: the client side of the syncstate 0.3.0 TCP protocol, a
 * drop-in for Rust's `TcpStateRemote` (core's Remote + EventBroadcaster) that
 * also reports what Rust's client swallows (wrong password, unexpected
 * answers) as typed errors, and adds cheap polling (getUpdateId, sync, watch).
 */
import { decodeResponse, encodeRequestWrapper } from '@syncstate-ts/codec';
import type { Request, Response } from '@syncstate-ts/codec';
import { ProtocolRemote } from './base.js';
import { connectTls, createTlsContext, type TlsContext } from './connect.js';
import { ProtocolError } from './errors.js';
import { exchangeFrame } from './exchange.js';
import { resolveOptions } from './options.js';
import type { CallOptions, ResolvedOptions, TcpStateRemoteOptions } from './options.js';

export type { InitResult, SerializableEvent } from './base.js';
export { answerError } from './base.js';

export class TcpStateRemote<K, V> extends ProtocolRemote<K, V> {
  readonly #options: ResolvedOptions;
  /** Built on the first request, so a bad certificate fails the request, as it always did. */
  #tls: TlsContext | undefined;

  constructor(options: TcpStateRemoteOptions<K, V>) {
    super(options);
    this.#options = resolveOptions(options);
  }

  get host(): string {
    return this.#options.host;
  }

  get port(): number {
    return this.#options.port;
  }

  /**
   * Sends one request on a fresh connection and returns the server's answer
   * as is (IncorrectPassword included). The typed methods of ProtocolRemote
   * build on it; use it directly for requests they do not cover.
   */
  async request(request: Request, options: CallOptions = {}): Promise<Response> {
    const o = this.#options;
    const payload = encodeRequestWrapper({ password: o.password, request });
    this.#tls ??= createTlsContext(o.tls);
    const socket = await connectTls({
      host: o.host,
      port: o.port,
      tls: o.tls,
      context: this.#tls,
      connectTimeoutMs: o.connectTimeoutMs,
      handshakeTimeoutMs: o.handshakeTimeoutMs,
      signal: options.signal,
    });
    const answer = await exchangeFrame(socket, payload, {
      maxFrameSize: o.maxFrameSize,
      responseTimeoutMs: o.responseTimeoutMs,
      signal: options.signal,
    });
    try {
      return decodeResponse(answer);
    } catch (err) {
      throw new ProtocolError(`undecodable answer to ${request.type}: ${(err as Error).message}`, { cause: err });
    }
  }
}
