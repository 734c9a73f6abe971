/**
 * WebSocketRemote: the syncstate protocol over one persistent WebSocket
 * (docs/protocol.md, "WebSocket carrier"), for browsers and Node. The same
 * calls as TcpStateRemote (ProtocolRemote), with a token instead of the
 * password, requests in flight together, and `watch` driven by pushed update
 * ids instead of polling.
 *
 * Reconnection: a closed connection fails the calls waiting on it
 * (ConnectionClosedError); the next call opens a new one. Calls are never sent
 * again by themselves (an Event may have been applied). `watch` reconnects on
 * its own, with backoff, subscribes again and catches up with one sync.
 */
import { decodeResponse, encodeRequestWrapper } from '@syncstate-ts/codec';
import type { Request, Response } from '@syncstate-ts/codec';
import type { Kind, StateMap } from '@syncstate-ts/core';
import { ProtocolRemote } from '../base.js';
import type { CallOptions } from '../call.js';
import { ConnectionError, ProtocolError } from '../errors.js';
import { checkHash } from '../hash.js';
import type { SyncResult } from '../sync.js';
import type { WatchOptions } from '../watch.js';
import { abortable, Channel, type Subscription, type WebSocketConstructor, type WebSocketSession } from './channel.js';

export type { Subscription } from './channel.js';
import { watchPushed } from './watch.js';

export interface WebSocketRemoteOptions<K, V> {
  /** `wss://host:port/` (or `ws://127.0.0.1:port/` to a plain loopback listener). */
  url: string;
  /**
   * What the server's `authorize` turns into grants; for `syncstate serve`
   * without --tokens, the server's password. A string is sent as UTF-8.
   * Browsers should hold a token, never the password.
   */
  token: string | Uint8Array;
  /** Key kind of the maps (must match the server's K). */
  key: Kind<K>;
  /** Value kind of the maps (must match the server's T). */
  value: Kind<V>;
  /**
   * The WebSocket constructor. Default: the global one (browsers, Node ≥ 22).
   * In Node 20, pass the `ws` package's (a subclass can add options such as `ca`).
   */
  WebSocket?: WebSocketConstructor | undefined;
  /** Opening the WebSocket (TCP, TLS, upgrade), in ms (default 10 000; 0 or Infinity: none). */
  connectTimeoutMs?: number | undefined;
  /** Hello to Welcome, in ms (default 10 000). */
  handshakeTimeoutMs?: number | undefined;
  /** Each request to its answer, in ms (default 30 000). Past it the call fails and the connection is closed. */
  responseTimeoutMs?: number | undefined;
}

const EMPTY_PASSWORD = new Uint8Array(0);

export class WebSocketRemote<K, V> extends ProtocolRemote<K, V> {
  readonly url: string;
  readonly #token: Uint8Array;
  readonly #WebSocket: WebSocketConstructor;
  readonly #timeouts: { connectTimeoutMs: number; handshakeTimeoutMs: number; responseTimeoutMs: number };
  #channel: Channel | undefined;
  #closed = false;

  constructor(options: WebSocketRemoteOptions<K, V>) {
    super(options);
    if (typeof options.url !== 'string' || !/^wss?:\/\//i.test(options.url)) {
      throw new TypeError(`url must start with wss:// or ws://, got ${JSON.stringify(options.url)}`);
    }
    this.url = options.url;
    this.#token = typeof options.token === 'string' ? new TextEncoder().encode(options.token) : options.token.slice();
    const Ctor = options.WebSocket ?? (globalThis as { WebSocket?: WebSocketConstructor }).WebSocket;
    if (Ctor === undefined) {
      throw new TypeError('no global WebSocket here (Node < 22): pass the `ws` package\'s WebSocket as the WebSocket option');
    }
    this.#WebSocket = Ctor;
    this.#timeouts = {
      connectTimeoutMs: timeout('connectTimeoutMs', options.connectTimeoutMs ?? 10_000),
      handshakeTimeoutMs: timeout('handshakeTimeoutMs', options.handshakeTimeoutMs ?? 10_000),
      responseTimeoutMs: timeout('responseTimeoutMs', options.responseTimeoutMs ?? 30_000),
    };
  }

  /**
   * Opens the connection now (calls do it on demand) and resolves with what
   * the server granted: read only or not, and its limits.
   */
  async connect(options: CallOptions = {}): Promise<WebSocketSession> {
    const channel = this.#open();
    return abortable(channel.ready, options.signal);
  }

  /**
   * Sends one request on the connection and returns the server's answer as is.
   * The wrapper's password field is empty: the connection's token stands for it.
   */
  async request(request: Request, options: CallOptions = {}): Promise<Response> {
    const payload = encodeRequestWrapper({ password: EMPTY_PASSWORD, request });
    const answer = await this.#open().call((id) => ({ type: 'Request', id, payload }), { signal: options.signal, hash: request.hash });
    if (answer.type !== 'Response') throw new ProtocolError(`answer ${answer.type} to a request`);
    try {
      return decodeResponse(answer.payload);
    } catch (err) {
      throw new ProtocolError(`undecodable answer to ${request.type}: ${(err as Error).message}`, { cause: err });
    }
  }

  /**
   * Subscribes to the map `hash`: `onUpdate` gets each update id the server
   * pushes, until `unsubscribe()` or the connection closes (`ended`).
   * Rejects with HashNotFoundError for an unknown map, LimitExceededError
   * ('subscriptions') above the server's limit, ForbiddenError for a map the
   * token may not use.
   */
  async subscribe(hash: Uint8Array, onUpdate: (updateId: bigint) => void, options: CallOptions = {}): Promise<Subscription> {
    checkHash(hash);
    const channel = this.#open();
    const listener = (updateId: bigint): void => onUpdate(updateId);
    const updateId = await channel.subscribe(hash, listener, options.signal);
    return { updateId, ended: channel.closed, unsubscribe: () => channel.unsubscribe(hash, listener) };
  }

  /**
   * Follows the map: yields each change, as TcpStateRemote.watch does, but
   * syncs when the server pushes a new update id instead of polling. If the
   * server refuses the subscription (its limit), it polls every `intervalMs`.
   * Connection failures are retried with backoff (`maxBackoffMs`, `onRetry`).
   */
  override watch(map: StateMap<K, V>, options: WatchOptions = {}): AsyncGenerator<SyncResult<K, V>, void, undefined> {
    return watchPushed(this, map, options);
  }

  /** Closes the connection; calls waiting on it fail, and later calls fail with ConnectionError. */
  close(): void {
    this.#closed = true;
    this.#channel?.close(1000, 'closed by the client');
    this.#channel = undefined;
  }

  #open(): Channel {
    if (this.#closed) throw new ConnectionError('this WebSocketRemote is closed');
    if (this.#channel === undefined || this.#channel.isClosed) {
      this.#channel = new Channel({ url: this.url, token: this.#token, WebSocket: this.#WebSocket, ...this.#timeouts });
    }
    return this.#channel;
  }
}

function timeout(name: string, ms: number): number {
  if (Number.isNaN(ms) || ms < 0) throw new RangeError(`${name} must be >= 0 (0 or Infinity: no limit), got ${ms}`);
  return ms;
}
