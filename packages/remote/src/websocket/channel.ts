/**
 * One WebSocket connection of a WebSocketRemote (docs/protocol.md, "WebSocket
 * carrier"): open with the `syncstate.v1` subprotocol, Hello with the token,
 * wait for Welcome, then send requests tagged with ids and match each answer
 * to its request. At most Welcome.maxInFlight requests are on the wire; the
 * rest wait here, so the client never trips the server's limit. Pushed
 * updates go to the subscriptions' listeners. Browser-safe: the WebSocket is
 * the browser's own, or any constructor with its API.
 */
import {
  CLOSE_UNAUTHORIZED,
  decodeServerMessage,
  encodeClientMessage,
  MAX_MESSAGE_ID,
  toHex,
  WEBSOCKET_SUBPROTOCOL,
  type CarrierErrorCode,
  type ClientMessage,
  type ServerMessage,
} from '@syncstate-ts/codec';
import {
  AuthenticationError,
  ConnectionClosedError,
  ConnectionError,
  ForbiddenError,
  HashNotFoundError,
  LimitExceededError,
  ProtocolError,
  TimeoutError,
} from '../errors.js';
import { abortReason, startTimer, type Timer } from '../timers.js';

/** The part of the WebSocket API (browsers, Node ≥ 22, the `ws` package) the remote uses. */
export interface WebSocketLike {
  binaryType: string;
  readonly readyState: number;
  readonly protocol: string;
  send(data: Uint8Array): void;
  close(code?: number, reason?: string): void;
  addEventListener(type: 'open' | 'message' | 'close' | 'error', listener: (event: never) => void): void;
}

/** A subscription to a map's update ids (WebSocketRemote.subscribe). */
export interface Subscription {
  /** The map's update id when the subscription started (or a later one already pushed). */
  readonly updateId: bigint;
  /** Resolves with the reason when the connection carrying the subscription closed. */
  readonly ended: Promise<Error>;
  /** Stops the pushes to this listener. */
  unsubscribe(): void;
}

export type WebSocketConstructor = new (url: string, protocols: string | string[]) => WebSocketLike;

/** What the server granted this connection (its Welcome). */
export interface WebSocketSession {
  readOnly: boolean;
  /** Largest message the server accepts (5 bytes of header, then the request). */
  maxMessageSize: number;
  maxInFlight: number;
  maxSubscriptions: number;
}

export interface ChannelOptions {
  url: string;
  token: Uint8Array;
  WebSocket: WebSocketConstructor;
  connectTimeoutMs: number;
  handshakeTimeoutMs: number;
  responseTimeoutMs: number;
}

/** Answers a call can get: the ones with its id. */
export type CallAnswer = Extract<ServerMessage, { type: 'Response' | 'Subscribed' | 'Unsubscribed' }>;

interface Pending {
  /** The map the call is about, for HashNotFoundError. */
  hash: Uint8Array | undefined;
  resolve(answer: CallAnswer): void;
  reject(err: unknown): void;
  /** False once the caller gave up (abort, timeout): the answer is dropped, the slot freed. */
  wanted: boolean;
}

interface Subscribed {
  listeners: Set<(updateId: bigint) => void>;
  /** Highest update id heard for the map (Subscribed or Update). */
  latest: bigint;
  /** Resolves once the server answered Subscribe. */
  ready: Promise<void>;
}

const OPEN = 1;

export class Channel {
  /** Resolves with the grants once the server's Welcome arrived; rejects if the connection failed first. */
  readonly ready: Promise<WebSocketSession>;
  /** Resolves with the reason once the connection is closed (never rejects). */
  readonly closed: Promise<Error>;
  readonly #options: ChannelOptions;
  readonly #ws: WebSocketLike;
  #session: WebSocketSession | undefined;
  #closeError: Error | undefined;
  /** Set by a connection-level Error (id 0), which the close that follows reports. */
  #serverError: Error | undefined;
  readonly #pending = new Map<number, Pending>();
  /** Slots taken: calls sent and not answered, or about to be sent. */
  #used = 0;
  /** Calls waiting for a slot (maxInFlight). */
  readonly #waiting: Array<() => void> = [];
  #nextId = 1;
  readonly #subscriptions = new Map<string, Subscribed>();
  #settleReady!: { resolve(s: WebSocketSession): void; reject(err: unknown): void };
  #settleClosed!: (err: Error) => void;
  #openTimer: Timer;

  constructor(options: ChannelOptions) {
    this.#options = options;
    this.ready = new Promise((resolve, reject) => (this.#settleReady = { resolve, reject }));
    this.ready.catch(() => {}); // observed by the calls
    this.closed = new Promise((resolve) => (this.#settleClosed = resolve));
    let ws: WebSocketLike;
    try {
      ws = new options.WebSocket(options.url, WEBSOCKET_SUBPROTOCOL);
    } catch (err) {
      // A malformed URL throws a SyntaxError at once (browsers and ws alike).
      throw new ConnectionError(`cannot open a WebSocket to ${options.url}: ${(err as Error).message}`, { cause: err });
    }
    this.#ws = ws;
    ws.binaryType = 'arraybuffer';
    this.#openTimer = startTimer(options.connectTimeoutMs, () =>
      this.#fail(new TimeoutError('connect', options.connectTimeoutMs, `the WebSocket connection to ${options.url}`)),
    );
    ws.addEventListener('open', () => this.#opened());
    ws.addEventListener('message', (event: { data: unknown }) => this.#message(event.data));
    ws.addEventListener('error', () => {
      // Browsers say nothing more; the close event that follows carries the code.
      if (this.#session === undefined) this.#fail(new ConnectionError(`cannot connect to ${options.url}`));
    });
    ws.addEventListener('close', (event: { code: number; reason: string }) => this.#fail(this.#closeReason(event.code, event.reason)));
  }

  get session(): WebSocketSession | undefined {
    return this.#session;
  }

  get isClosed(): boolean {
    return this.#closeError !== undefined;
  }

  /** Requests waiting for their answer or for a slot. */
  get pending(): number {
    return this.#pending.size + this.#waiting.length;
  }

  /**
   * Sends a message that carries an id (Request, Subscribe, Unsubscribe) and
   * resolves with its answer. An Error answer rejects with the typed error.
   */
  async call(
    build: (id: number) => Extract<ClientMessage, { id: number }>,
    options: { signal?: AbortSignal | undefined; hash?: Uint8Array | undefined },
  ): Promise<CallAnswer> {
    const { signal } = options;
    if (signal?.aborted) throw abortReason(signal);
    const session = await abortable(this.ready, signal);
    await this.#slot(session, signal);
    const id = this.#takeId();
    const bytes = encodeClientMessage(build(id));
    if (bytes.length > session.maxMessageSize) {
      this.#release();
      throw new LimitExceededError('message-size', `a ${bytes.length}-byte message is above the server's maxMessageSize ${session.maxMessageSize}`);
    }
    return new Promise<CallAnswer>((resolve, reject) => {
      const timeoutMs = this.#options.responseTimeoutMs;
      const timer = startTimer(timeoutMs, () => {
        giveUp(new TimeoutError('response', timeoutMs));
        // No answer for that long: the connection is likely dead; the next call opens another.
        this.close(4408, 'no answer in time');
      });
      const onAbort = (): void => giveUp(abortReason(signal));
      const entry: Pending = {
        hash: options.hash,
        wanted: true,
        resolve: (answer) => {
          timer.clear();
          signal?.removeEventListener('abort', onAbort);
          resolve(answer);
        },
        reject: (err) => {
          timer.clear();
          signal?.removeEventListener('abort', onAbort);
          reject(err);
        },
      };
      const giveUp = (err: unknown): void => {
        if (!entry.wanted) return;
        entry.wanted = false;
        entry.reject(err);
      };
      signal?.addEventListener('abort', onAbort, { once: true });
      this.#pending.set(id, entry);
      try {
        this.#ws.send(bytes);
      } catch (err) {
        this.#pending.delete(id);
        this.#release();
        giveUp(new ConnectionClosedError(`the WebSocket refused the message: ${(err as Error).message}`, { bytesReceived: 0 }, { cause: err }));
      }
    });
  }

  /**
   * Subscribes to the map (once per map on this connection, however many
   * listeners) and resolves with the map's update id; `listener` gets each
   * pushed update id until `unsubscribe(hash, listener)`.
   */
  async subscribe(hash: Uint8Array, listener: (updateId: bigint) => void, signal: AbortSignal | undefined): Promise<bigint> {
    const hashHex = toHex(hash);
    let sub = this.#subscriptions.get(hashHex);
    if (sub === undefined) {
      const fresh: Subscribed = { listeners: new Set(), latest: 0n, ready: Promise.resolve() };
      fresh.ready = this.call((id) => ({ type: 'Subscribe', id, hash }), { hash }).then(
        (answer) => {
          if (answer.type !== 'Subscribed') throw new ProtocolError(`answer ${answer.type} to Subscribe`);
          if (answer.updateId > fresh.latest) fresh.latest = answer.updateId;
        },
        (err: unknown) => {
          if (this.#subscriptions.get(hashHex) === fresh) this.#subscriptions.delete(hashHex);
          throw err;
        },
      );
      this.#subscriptions.set(hashHex, (sub = fresh));
    }
    sub.listeners.add(listener);
    try {
      await abortable(sub.ready, signal);
    } catch (err) {
      this.unsubscribe(hash, listener);
      throw err;
    }
    return sub.latest;
  }

  /** Removes the listener; the last one of a map unsubscribes on the wire (without waiting for the answer). */
  unsubscribe(hash: Uint8Array, listener: (updateId: bigint) => void): void {
    const hashHex = toHex(hash);
    const sub = this.#subscriptions.get(hashHex);
    if (sub === undefined || !sub.listeners.delete(listener) || sub.listeners.size > 0) return;
    this.#subscriptions.delete(hashHex);
    if (this.isClosed) return;
    // Only after the Subscribe's answer: the server handles them in order anyway, and this keeps the ids apart.
    void sub.ready.then(
      () => this.call((id) => ({ type: 'Unsubscribe', id, hash }), {}).catch(() => {}),
      () => {},
    );
  }

  close(code = 1000, reason = 'closed by the client'): void {
    this.#fail(new ConnectionClosedError(`the connection was closed: ${reason}`, { bytesReceived: 0 }));
    try {
      this.#ws.close(code, reason);
    } catch {
      // Already closing.
    }
  }

  #opened(): void {
    this.#openTimer.clear();
    if (this.#ws.protocol !== WEBSOCKET_SUBPROTOCOL) {
      this.close(1002, 'no subprotocol');
      this.#fail(new ProtocolError(`the server did not accept the subprotocol ${WEBSOCKET_SUBPROTOCOL} (it answered ${JSON.stringify(this.#ws.protocol)})`));
      return;
    }
    this.#openTimer = startTimer(this.#options.handshakeTimeoutMs, () =>
      this.#fail(new TimeoutError('handshake', this.#options.handshakeTimeoutMs, 'the Welcome after Hello')),
    );
    this.#ws.send(encodeClientMessage({ type: 'Hello', token: this.#options.token }));
  }

  #message(data: unknown): void {
    if (this.isClosed) return;
    if (!(data instanceof ArrayBuffer)) return this.#violation('the server sent a text message');
    let message: ServerMessage;
    try {
      message = decodeServerMessage(new Uint8Array(data));
    } catch (err) {
      return this.#violation(`undecodable message from the server: ${(err as Error).message}`);
    }
    if (this.#session === undefined) {
      if (message.type === 'Welcome') {
        this.#openTimer.clear();
        const { type: _type, ...session } = message;
        this.#session = session;
        this.#settleReady.resolve(session);
      } else if (message.type === 'Error' && message.id === 0) {
        this.#serverError = carrierError(message.code, message.message);
      } else {
        this.#violation(`the server sent ${message.type} before Welcome`);
      }
      return;
    }
    switch (message.type) {
      case 'Update': {
        const sub = this.#subscriptions.get(toHex(message.hash));
        if (sub === undefined) return; // unsubscribed meanwhile
        if (message.updateId > sub.latest) sub.latest = message.updateId;
        for (const listener of sub.listeners) listener(message.updateId);
        return;
      }
      case 'Error':
        if (message.id === 0) {
          this.#serverError = carrierError(message.code, message.message);
          return;
        }
        return this.#answer(message.id, undefined, message);
      case 'Response':
      case 'Subscribed':
      case 'Unsubscribed':
        return this.#answer(message.id, message, undefined);
      case 'Welcome':
        return this.#violation('a second Welcome');
    }
  }

  #answer(id: number, answer: CallAnswer | undefined, error: Extract<ServerMessage, { type: 'Error' }> | undefined): void {
    const entry = this.#pending.get(id);
    if (entry === undefined) return this.#violation(`an answer to request ${id}, which is not waiting for one`);
    this.#pending.delete(id);
    this.#release();
    if (!entry.wanted) return;
    entry.wanted = false;
    if (error !== undefined) entry.reject(carrierError(error.code, error.message, entry.hash));
    else entry.resolve(answer!);
  }

  #violation(message: string): void {
    const err = new ProtocolError(message);
    this.#fail(err);
    try {
      this.#ws.close(1002, 'protocol error');
    } catch {
      // Already closing.
    }
  }

  #closeReason(code: number, reason: string): Error {
    if (this.#serverError !== undefined) return this.#serverError;
    if (code === CLOSE_UNAUTHORIZED) return new AuthenticationError('the server refused the token (close 4401)');
    if (code === 1009) return new LimitExceededError('message-size', 'the server closed the connection: a message was too large (1009)');
    const why = reason === '' ? '' : `: ${reason}`;
    if (this.#session === undefined) return new ConnectionError(`the WebSocket to ${this.#options.url} closed before Welcome (code ${code}${why})`);
    return new ConnectionClosedError(`the WebSocket closed (code ${code}${why})`, { bytesReceived: 0 });
  }

  /** Ends the channel: every waiting call rejects with `err`, subscriptions end. */
  #fail(err: Error): void {
    if (this.#closeError !== undefined) return;
    this.#closeError = err;
    this.#openTimer.clear();
    this.#settleReady.reject(err);
    for (const entry of this.#pending.values()) {
      if (!entry.wanted) continue;
      entry.wanted = false;
      entry.reject(err);
    }
    this.#pending.clear();
    this.#used = 0;
    for (const wake of this.#waiting.splice(0)) wake();
    this.#subscriptions.clear();
    this.#settleClosed(err);
  }

  /** Takes a slot (at most maxInFlight), waiting for one if need be; give it back with #release. */
  async #slot(session: WebSocketSession, signal: AbortSignal | undefined): Promise<void> {
    while (this.#used >= session.maxInFlight) {
      if (this.#closeError !== undefined) throw this.#closeError;
      let wake!: () => void;
      const turn = new Promise<void>((resolve) => (wake = resolve));
      this.#waiting.push(wake);
      try {
        await abortable(turn, signal);
      } catch (err) {
        const i = this.#waiting.indexOf(wake);
        if (i >= 0) this.#waiting.splice(i, 1);
        throw err;
      }
    }
    if (this.#closeError !== undefined) throw this.#closeError;
    this.#used++; // taken at once: callers resumed in the same turn must see it
  }

  #release(): void {
    this.#used--;
    this.#waiting.shift()?.();
  }

  #takeId(): number {
    // Ids wrap around; one still waiting for its answer is skipped.
    for (;;) {
      const id = this.#nextId;
      this.#nextId = id >= MAX_MESSAGE_ID ? 1 : id + 1;
      if (!this.#pending.has(id)) return id;
    }
  }
}

/** The typed error for an Error message's code. */
export function carrierError(code: CarrierErrorCode, message: string, hash?: Uint8Array): Error {
  const text = `${message} (${code})`;
  switch (code) {
    case 'unauthorized':
      return new AuthenticationError(`the server refused the token: ${text}`);
    case 'forbidden':
      return new ForbiddenError(text);
    case 'rate-limited':
      return new LimitExceededError('rate', text);
    case 'too-many-in-flight':
      return new LimitExceededError('in-flight', text);
    case 'too-many-subscriptions':
      return new LimitExceededError('subscriptions', text);
    case 'overloaded':
      return new LimitExceededError('memory', text);
    case 'no-answer':
      return new ConnectionClosedError(`the server closed the request without answering: ${text}`, { bytesReceived: 0 });
    case 'hash-not-found':
      return hash !== undefined ? new HashNotFoundError(hash) : new ProtocolError(text);
    case 'unavailable':
      return new ConnectionError(`the server cannot reach its upstream: ${text}`);
    case 'malformed':
      return new ProtocolError(`the server refused a message of ours: ${text}`);
  }
}

/** `promise`, or the abort reason as soon as `signal` aborts. */
export function abortable<T>(promise: Promise<T>, signal: AbortSignal | undefined): Promise<T> {
  if (signal === undefined) return promise;
  if (signal.aborted) return Promise.reject(abortReason(signal));
  return new Promise<T>((resolve, reject) => {
    const onAbort = (): void => reject(abortReason(signal));
    signal.addEventListener('abort', onAbort, { once: true });
    promise.then(
      (v) => {
        signal.removeEventListener('abort', onAbort);
        resolve(v);
      },
      (e: unknown) => {
        signal.removeEventListener('abort', onAbort);
        reject(e);
      },
    );
  });
}
