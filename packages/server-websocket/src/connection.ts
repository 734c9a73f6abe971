/**
 * One WebSocket connection (docs/protocol.md, "WebSocket carrier"): Hello and
 * authorization, then requests matched to answers by id, subscriptions and
 * pushes, and the limits that keep a hostile or slow peer from costing the
 * server more than its share:
 *
 * - the Hello must come within handshakeTimeoutMs; a peer silent (no message,
 *   no pong) for two ping intervals is cut off;
 * - requests: a rate (token bucket), a number in flight, and bytes held
 *   against the listener's shared budget, from the first byte of a message
 *   until its answer is sent;
 * - answers and pushes: bytes not yet taken by the socket are counted; above
 *   maxBufferedAnswerBytes the connection stops reading (so sends no more
 *   requests), pushes are held (only the latest update id per map), and a
 *   peer that stays there for drainTimeoutMs is cut off.
 */
import type { Duplex } from 'node:stream';
import type { WebSocket } from 'ws';
import {
  CARRIER_ERROR_CODES,
  CLOSE_TIMEOUT,
  CLOSE_UNAUTHORIZED,
  decodeClientMessage,
  decodeRequestWrapper,
  encodeServerMessage,
  SyncstateError,
  toHex,
  type CarrierErrorCode,
  type ClientMessage,
  type ServerMessage,
} from '@syncstate-ts/codec';
import { accessRefusal, type Access, type Answer, type ByteBudget, type Logger } from '@syncstate-ts/server';
import type { SubscriptionHub, Subscriber } from './hub.js';
import type { WebSocketLimits } from './limits.js';
import type { PeerInfo, WebSocketService } from './service.js';
import type { ListenerCounters } from './stats.js';

export interface ConnectionContext {
  service: WebSocketService;
  hub: SubscriptionHub;
  limits: Readonly<WebSocketLimits>;
  budget: ByteBudget;
  logger: Logger;
  counters: ListenerCounters;
  info: PeerInfo;
}

type State = 'hello' | 'authorizing' | 'open' | 'closing' | 'closed';

export class Connection implements Subscriber {
  /** Resolves once the socket is closed. */
  readonly closed: Promise<void>;
  readonly #ws: WebSocket;
  readonly #ctx: ConnectionContext;
  #state: State = 'hello';
  #access: Access | undefined;
  /** Subscribed maps, by hex hash (a Subscribe in progress included). */
  readonly #subscriptions = new Set<string>();
  #inFlight = 0;
  readonly #idle: Array<() => void> = [];
  /** Bytes of a message still being received, held against the shared budget. */
  #partial = 0;
  /** Answer bytes handed to ws and not yet taken by the socket. */
  #unsent = 0;
  #reading = true;
  /** Pushes held while the peer is not reading: the latest update id per map. */
  readonly #heldPushes = new Map<string, { hash: Uint8Array; updateId: bigint }>();
  #drainTimer: NodeJS.Timeout | undefined;
  #helloTimer: NodeJS.Timeout | undefined;
  #pingTimer: NodeJS.Timeout | undefined;
  #heard = true;
  #tokens: number;
  #refilledAt = performance.now();

  constructor(ws: WebSocket, socket: Duplex, ctx: ConnectionContext) {
    this.#ws = ws;
    this.#ctx = ctx;
    this.#tokens = ctx.limits.requestsPerSecond;
    let closed!: () => void;
    this.closed = new Promise((resolve) => (closed = resolve));

    socket.on('data', (chunk: Uint8Array) => this.#received(chunk.length));
    ws.on('message', (data: Buffer, isBinary: boolean) => {
      this.#heard = true;
      this.#releasePartial();
      this.#message(new Uint8Array(data.buffer, data.byteOffset, data.byteLength), isBinary);
    });
    ws.on('ping', () => {
      this.#heard = true;
      this.#releasePartial();
    });
    ws.on('pong', () => {
      this.#heard = true;
      this.#releasePartial();
    });
    ws.on('error', (err: Error & { code?: string }) => {
      // ws closes the connection itself (1009 for a message above maxPayload, 1002 for bad framing).
      const code = err.code === 'WS_ERR_UNSUPPORTED_MESSAGE_LENGTH' ? 'message-too-large' : 'socket-error';
      ctx.counters.error(code);
      ctx.logger.debug({ err, peer: ctx.info.peer, code }, 'WebSocket error');
    });
    ws.on('close', () => {
      this.#state = 'closed';
      clearTimeout(this.#helloTimer);
      clearInterval(this.#pingTimer);
      clearTimeout(this.#drainTimer);
      this.#releasePartial();
      for (const hashHex of this.#subscriptions) ctx.hub.remove(this, hashHex);
      this.#subscriptions.clear();
      this.#heldPushes.clear();
      closed();
    });

    this.#helloTimer = setTimeout(() => {
      if (this.#state === 'hello' || this.#state === 'authorizing') this.#cut('handshake-timeout', CLOSE_TIMEOUT, 'no Hello in time');
    }, ctx.limits.handshakeTimeoutMs);
    this.#helloTimer.unref();
  }

  /** The connection's grants, once its Hello is accepted. */
  get access(): Access | undefined {
    return this.#access;
  }

  /** Answer bytes waiting to be sent. */
  get unsentBytes(): number {
    return this.#unsent;
  }

  get subscriptionCount(): number {
    return this.#subscriptions.size;
  }

  /**
   * Ends the connection for a server shutdown: no new requests are read,
   * requests in flight are answered (their answers sent within drainTimeoutMs),
   * then it closes with 1001.
   */
  async shutdown(): Promise<void> {
    if (this.#state === 'closed') return;
    const wasOpen = this.#state === 'open';
    this.#state = 'closing';
    this.#pause();
    if (wasOpen) await this.#whenIdle();
    if (this.#unsent > 0) await Promise.race([this.#whenDrained(), delay(this.#ctx.limits.drainTimeoutMs)]);
    // Reading again, for the peer's close frame (messages are ignored while closing).
    this.#ws.resume();
    this.#ws.close(1001, 'server closing');
    const timer = setTimeout(() => this.#ws.terminate(), this.#ctx.limits.drainTimeoutMs);
    timer.unref();
    await this.closed;
    clearTimeout(timer);
  }

  /** A subscribed map moved (SubscriptionHub). */
  push(hash: Uint8Array, updateId: bigint): void {
    if (this.#state !== 'open' && this.#state !== 'closing') return;
    if (!this.#reading) {
      this.#heldPushes.set(toHex(hash), { hash, updateId });
      return;
    }
    this.#ctx.counters.pushes++;
    this.#send({ type: 'Update', hash, updateId });
  }

  #message(data: Uint8Array, isBinary: boolean): void {
    if (this.#state === 'closing' || this.#state === 'closed') return;
    if (!isBinary) return this.#cut('malformed', 1003, 'syncstate.v1 has binary messages only');
    let message: ClientMessage;
    try {
      message = decodeClientMessage(data);
    } catch (err) {
      return this.#cut('malformed', 1002, `undecodable message: ${(err as Error).message}`);
    }
    if (this.#state === 'hello') {
      if (message.type !== 'Hello') return this.#cut('malformed', 1002, 'the first message must be Hello');
      void this.#hello(message.token);
      return;
    }
    if (this.#state === 'authorizing') return this.#cut('malformed', 1002, 'wait for Welcome before sending requests');
    if (message.type === 'Hello') return this.#cut('malformed', 1002, 'Hello was already sent');
    if (!this.#takeToken()) return this.#refuse(message.id, 'rate-limited', `above ${this.#ctx.limits.requestsPerSecond} requests per second`);
    switch (message.type) {
      case 'Request':
        return void this.#request(message.id, message.payload);
      case 'Subscribe':
        return void this.#subscribe(message.id, message.hash);
      case 'Unsubscribe': {
        const hashHex = toHex(message.hash);
        this.#subscriptions.delete(hashHex);
        this.#ctx.hub.remove(this, hashHex);
        this.#heldPushes.delete(hashHex);
        return this.#send({ type: 'Unsubscribed', id: message.id });
      }
    }
  }

  async #hello(token: Uint8Array): Promise<void> {
    const ctx = this.#ctx;
    this.#state = 'authorizing';
    let access: Access | undefined;
    try {
      access = await ctx.service.authorize(token.slice(), ctx.info);
    } catch (err) {
      ctx.logger.error({ err, peer: ctx.info.peer }, 'authorize failed');
      ctx.counters.error('internal');
      if (this.#state === 'authorizing') this.#ws.close(1011, 'authorization failed');
      return;
    }
    if (this.#state !== 'authorizing') return;
    clearTimeout(this.#helloTimer);
    if (access === undefined) {
      ctx.counters.error('unauthorized');
      ctx.logger.info({ peer: ctx.info.peer, origin: ctx.info.origin }, 'WebSocket token refused');
      this.#send({ type: 'Error', id: 0, code: 'unauthorized', message: 'the token was refused' });
      this.#state = 'closing';
      this.#ws.close(CLOSE_UNAUTHORIZED, 'unauthorized');
      return;
    }
    this.#access = access;
    this.#state = 'open';
    const { limits } = ctx;
    this.#send({
      type: 'Welcome',
      readOnly: access.readOnly,
      maxMessageSize: limits.maxMessageSize,
      maxInFlight: limits.maxInFlight,
      maxSubscriptions: limits.maxSubscriptions,
    });
    this.#pingTimer = setInterval(() => this.#ping(), limits.pingIntervalMs);
    this.#pingTimer.unref();
  }

  async #request(id: number, payload: Uint8Array): Promise<void> {
    const ctx = this.#ctx;
    const access = this.#access!;
    if (this.#inFlight >= ctx.limits.maxInFlight) {
      return this.#refuse(id, 'too-many-in-flight', `above ${ctx.limits.maxInFlight} requests in flight`);
    }
    // Checked here too, so that a relay's service (which cannot decode events) gets the same guarantees.
    const refusal = peekRefusal(access, payload);
    if (refusal !== undefined) return this.#refuse(id, 'forbidden', refusal);
    if (!ctx.budget.reserve(payload.length)) {
      return this.#refuse(id, 'overloaded', 'the server holds too many request bytes; try again later');
    }
    this.#inFlight++;
    let answer: Answer;
    let carried: CarrierRefusal | undefined;
    try {
      answer = await ctx.service.respond(payload, access, ctx.info.peer);
    } catch (err) {
      carried = carrierRefusal(err);
      if (carried === undefined) {
        ctx.counters.error('internal');
        ctx.logger.error({ err, peer: ctx.info.peer }, 'request handler failed');
      }
      answer = { type: 'no-answer' };
    } finally {
      ctx.budget.release(payload.length);
    }
    ctx.counters.requests++;
    if (carried !== undefined) {
      this.#refuse(id, carried.code, carried.message);
      return this.#settled();
    }
    switch (answer.type) {
      case 'response':
        this.#send({ type: 'Response', id, payload: answer.bytes });
        break;
      case 'forbidden':
        this.#refuse(id, 'forbidden', answer.message);
        break;
      case 'no-answer':
        this.#refuse(id, 'no-answer', 'the server closed this request without answering (undecodable, or it failed)');
        break;
    }
    this.#settled();
  }

  async #subscribe(id: number, hash: Uint8Array): Promise<void> {
    const ctx = this.#ctx;
    const hashHex = toHex(hash);
    const refusal = accessRefusal(this.#access!, 'Subscribe', hash);
    if (refusal !== undefined) return this.#refuse(id, 'forbidden', refusal);
    if (this.#inFlight >= ctx.limits.maxInFlight) {
      return this.#refuse(id, 'too-many-in-flight', `above ${ctx.limits.maxInFlight} requests in flight`);
    }
    const fresh = !this.#subscriptions.has(hashHex);
    if (fresh && this.#subscriptions.size >= ctx.limits.maxSubscriptions) {
      return this.#refuse(id, 'too-many-subscriptions', `above ${ctx.limits.maxSubscriptions} subscriptions`);
    }
    // Followed before the update id is read, so no change between the two is missed.
    if (fresh) {
      this.#subscriptions.add(hashHex);
      ctx.hub.add(this, hash, hashHex);
    }
    this.#inFlight++;
    let updateId: bigint | undefined;
    try {
      updateId = await ctx.service.updateId(hash);
    } catch (err) {
      ctx.logger.warn({ err, peer: ctx.info.peer, hash: hashHex }, 'reading the update id for a Subscribe failed');
      updateId = undefined;
      if (fresh) this.#unsubscribe(hashHex);
      const carried = carrierRefusal(err);
      this.#refuse(id, carried?.code ?? 'no-answer', carried?.message ?? 'the server could not read the map');
      return this.#settled();
    }
    if (updateId === undefined) {
      if (fresh) this.#unsubscribe(hashHex);
      this.#refuse(id, 'hash-not-found', `no map ${hashHex}`);
    } else if (this.#state === 'open' || this.#state === 'closing') {
      this.#send({ type: 'Subscribed', id, updateId });
    }
    this.#settled();
  }

  #unsubscribe(hashHex: string): void {
    this.#subscriptions.delete(hashHex);
    this.#ctx.hub.remove(this, hashHex);
  }

  #settled(): void {
    this.#inFlight--;
    if (this.#inFlight === 0) for (const resolve of this.#idle.splice(0)) resolve();
  }

  #whenIdle(): Promise<void> {
    return this.#inFlight === 0 ? Promise.resolve() : new Promise((resolve) => this.#idle.push(resolve));
  }

  #refuse(id: number, code: CarrierErrorCode, message: string): void {
    this.#ctx.counters.error(code);
    this.#send({ type: 'Error', id, code, message });
  }

  /** Counts the bytes until the socket takes them; stops reading above the limit (see the module comment). */
  #send(message: ServerMessage): void {
    if (this.#state === 'closed') return;
    const bytes = encodeServerMessage(message);
    this.#unsent += bytes.length;
    this.#ctx.counters.unsent += bytes.length;
    this.#ws.send(bytes, { binary: true }, () => {
      this.#unsent -= bytes.length;
      this.#ctx.counters.unsent -= bytes.length;
      if (!this.#reading && this.#unsent <= this.#ctx.limits.maxBufferedAnswerBytes / 2) this.#drained();
    });
    if (this.#reading && this.#unsent > this.#ctx.limits.maxBufferedAnswerBytes) {
      this.#pause();
      this.#drainTimer = setTimeout(
        () => this.#cut('drain-timeout', 1008, `the peer took no answers for ${this.#ctx.limits.drainTimeoutMs} ms`),
        this.#ctx.limits.drainTimeoutMs,
      );
      this.#drainTimer.unref();
    }
  }

  #pause(): void {
    if (!this.#reading) return;
    this.#reading = false;
    this.#ws.pause();
  }

  #drained(): void {
    clearTimeout(this.#drainTimer);
    this.#drainTimer = undefined;
    for (const resolve of this.#drainWaiters.splice(0)) resolve();
    if (this.#state !== 'open') return;
    this.#reading = true;
    this.#ws.resume();
    const held = [...this.#heldPushes.values()];
    this.#heldPushes.clear();
    for (const { hash, updateId } of held) this.push(hash, updateId);
  }

  readonly #drainWaiters: Array<() => void> = [];
  #whenDrained(): Promise<void> {
    return new Promise((resolve) => this.#drainWaiters.push(resolve));
  }

  #ping(): void {
    if (!this.#heard) return this.#cut('ping-timeout', CLOSE_TIMEOUT, `nothing from the peer for ${2 * this.#ctx.limits.pingIntervalMs} ms`);
    this.#heard = false;
    this.#ws.ping();
  }

  #takeToken(): boolean {
    const now = performance.now();
    const rate = this.#ctx.limits.requestsPerSecond;
    this.#tokens = Math.min(rate, this.#tokens + ((now - this.#refilledAt) * rate) / 1000);
    this.#refilledAt = now;
    if (this.#tokens < 1) return false;
    this.#tokens -= 1;
    return true;
  }

  #received(bytes: number): void {
    this.#partial += bytes;
    if (!this.#ctx.budget.reserve(bytes)) {
      this.#partial -= bytes;
      this.#cut('memory-budget', 1013, 'the server holds too many request bytes');
    }
  }

  #releasePartial(): void {
    this.#ctx.budget.release(this.#partial);
    this.#partial = 0;
  }

  /** Ends the connection for a violation: an Error (id 0) and a close if the peer still reads, else at once. */
  #cut(code: string, closeCode: number, reason: string): void {
    if (this.#state === 'closed') return;
    this.#ctx.counters.error(code);
    this.#ctx.logger.debug({ peer: this.#ctx.info.peer, code }, `WebSocket connection cut off: ${reason}`);
    const wasReading = this.#reading && this.#state !== 'closing';
    this.#state = 'closing';
    if (!wasReading || code === 'ping-timeout' || code === 'drain-timeout' || code === 'memory-budget') {
      this.#ws.terminate();
      return;
    }
    if (code === 'malformed') this.#send({ type: 'Error', id: 0, code: 'malformed', message: reason });
    this.#ws.close(closeCode, reason.slice(0, 120));
    const timer = setTimeout(() => this.#ws.terminate(), this.#ctx.limits.drainTimeoutMs);
    timer.unref();
  }
}

type CarrierRefusal = { code: CarrierErrorCode; message: string };

/**
 * Extension point for relays (@syncstate-ts/gateway): a service's `respond`
 * or `updateId` that rejects with a SyncstateError whose `code` is a carrier
 * error code (e.g. 'unavailable': its upstream cannot be reached) is answered
 * with an Error of that code and the error's message, not as no-answer.
 */
function carrierRefusal(err: unknown): CarrierRefusal | undefined {
  if (err instanceof SyncstateError && (CARRIER_ERROR_CODES as readonly string[]).includes(err.code)) {
    return { code: err.code as CarrierErrorCode, message: err.message };
  }
  return undefined;
}

/** What `access` refuses of this wrapper (type and map), read without decoding the payloads it carries. */
function peekRefusal(access: Access, payload: Uint8Array): string | undefined {
  if (!access.readOnly && access.maps === undefined) return undefined;
  let type: 'GetUpdateId' | 'GetDiff' | 'Event' | 'Init';
  let hash: Uint8Array;
  try {
    ({ type, hash } = decodeRequestWrapper(payload, { aliasBytes: true }).request);
  } catch {
    return undefined; // undecodable: the service answers it (no answer)
  }
  return accessRefusal(access, type, hash);
}

function delay(ms: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, ms).unref());
}
