/**
 * The protocol (docs/protocol.md, "Server behaviour"): `respond()` turns one
 * complete request's payload into the answer the Rust server would give (or
 * null: close without answering, as Rust does for undecodable input).
 * Transports own the bytes and call it once per request (transport/).
 */
import { createHash, randomInt, timingSafeEqual } from 'node:crypto';
import { setTimeout as sleep } from 'node:timers/promises';
import { decode, decodeRequestWrapper, encodeResponse, toHex, type Request, type Response, type Schema } from '@syncstate-ts/codec';
import { encodeDiffEntries, encodeDiffEntriesSliced, timeSlices, type Kind } from '@syncstate-ts/core';
import { type Access, accessRefusal, eventVariant } from './access.js';
import { errorMessage, MalformedRequestError, ServerError } from './errors.js';
import { resolveLimits, type ServerLimits } from './limits/limits.js';
import { type Logger, silentLogger } from './logger.js';
import type { EventHook, InitHook } from './registry/hooks.js';
import { Metrics } from './metrics.js';
import { type LoadedMap, MapRegistry, SLICE_MS } from './registry/registry.js';
import type { MapStorage } from '@syncstate-ts/storage';

/** Diffs of at least this many pairs are encoded in slices. */
const SLICED_DIFF_PAIRS = 8192;

/** The outcome of a request on a token-authorized connection (`respondWithAccess`). */
export type Answer =
  /** The encoded Response. */
  | { type: 'response'; bytes: Uint8Array }
  /** Nothing: where TLS closes the connection without answering (undecodable input, a failure). */
  | { type: 'no-answer' }
  /** The connection's Access does not allow this request. */
  | { type: 'forbidden'; message: string };

type Refused = { type: 'Refused'; message: string };
const noAnswer: Answer = Object.freeze({ type: 'no-answer' });

/** Everything the protocol needs, independent of the transport. */
export interface ProtocolOptions<K, V, E> {
  /** Pre-shared password every request carries (a string is sent as its UTF-8 bytes). */
  password: string | Uint8Array;
  key: Kind<K>;
  value: Kind<V>;
  /** Schema of the events clients send (e.g. `t.enumOf({...})`). */
  event: Schema<E>;
  hooks?: readonly EventHook<K, V, E>[];
  initHooks?: readonly InitHook<K, V>[];
  logger?: Logger;
  /**
   * Where maps are kept across restarts (e.g. @syncstate-ts/storage-sqlite).
   * Without one, maps live only in this process's memory, as on the Rust server.
   */
  storage?: MapStorage<K, V> | undefined;
  limits?: Partial<ServerLimits>;
}

export class ProtocolHandler<K, V, E> {
  readonly limits: Readonly<ServerLimits>;
  readonly logger: Logger;
  readonly #metrics: Metrics;
  readonly #options: ProtocolOptions<K, V, E>;
  readonly #passwordDigest: Buffer;
  readonly #registry: MapRegistry<K, V, E>;
  readonly #storage: MapStorage<K, V> | undefined;
  /** follow() listeners by map (hex hash). */
  readonly #followers = new Map<string, Set<(updateId: bigint) => void>>();
  #closing: Promise<void> | undefined;

  constructor(options: ProtocolOptions<K, V, E>, metrics: Metrics = new Metrics()) {
    this.#options = options;
    this.limits = Object.freeze(resolveLimits(options.limits));
    this.logger = options.logger ?? silentLogger;
    this.#metrics = metrics;
    const password = typeof options.password === 'string' ? Buffer.from(options.password, 'utf8') : options.password;
    this.#passwordDigest = digest(password);
    this.#storage = options.storage;
    this.#registry = new MapRegistry<K, V, E>({
      key: options.key,
      value: options.value,
      hooks: options.hooks ?? [],
      initHooks: options.initHooks ?? [],
      storage: this.#storage,
      limits: this.limits,
      logger: this.logger,
      metrics,
      onChange: (hashHex, updateId) => {
        for (const listener of this.#followers.get(hashHex) ?? []) {
          try {
            listener(updateId);
          } catch (err) {
            this.logger.error({ err, hash: hashHex }, 'a map follower failed');
          }
        }
      },
    });
  }

  /**
   * The encoded answer to one request payload (a frame's body), or null to
   * close without answering. The payload must not change until the answer
   * resolves: Init and Event data are read from it in place (both transports
   * hand over a buffer of the request's own).
   */
  async respond(payload: Uint8Array, peer?: string): Promise<Uint8Array | null> {
    const answer = await this.#answer(payload, peer, undefined);
    return answer.type === 'response' ? answer.bytes : null;
  }

  /**
   * `respond` for a connection authorized by a token (a WebSocket): the
   * wrapper's password is not checked, `access` is (docs/protocol.md,
   * "WebSocket carrier"). A refusal is an answer of its own, not a Response.
   */
  respondWithAccess(payload: Uint8Array, access: Access, peer?: string): Promise<Answer> {
    return this.#answer(payload, peer, access);
  }

  /** The map's current update id (after every event accepted before the call); undefined: no such map. */
  updateId(hash: Uint8Array): Promise<bigint | undefined> {
    return this.#registry.updateId(hash);
  }

  /**
   * Calls `onUpdate` with the map's new update id each time changes to it are
   * applied (after their commit, with a storage), until the returned function
   * is called. With a storage shared by several servers, other servers'
   * changes are seen when this server next reads or changes the map.
   */
  follow(hash: Uint8Array, onUpdate: (updateId: bigint) => void): () => void {
    const hashHex = toHex(hash);
    let listeners = this.#followers.get(hashHex);
    if (listeners === undefined) this.#followers.set(hashHex, (listeners = new Set()));
    const listener = (updateId: bigint): void => onUpdate(updateId);
    listeners.add(listener);
    return () => {
      listeners.delete(listener);
      if (listeners.size === 0 && this.#followers.get(hashHex) === listeners) this.#followers.delete(hashHex);
    };
  }

  async #answer(payload: Uint8Array, peer: string | undefined, access: Access | undefined): Promise<Answer> {
    let request: Request;
    let password: Uint8Array;
    try {
      // In place: copying a 24 MB Init (a million pairs) held the event loop ~10 ms more.
      ({ request, password } = decodeRequestWrapper(payload, { aliasBytes: true }));
    } catch (err) {
      return this.#drop(
        new MalformedRequestError('undecodable-request', `request of ${payload.length} bytes does not decode`, { cause: err }),
        peer,
      );
    }
    this.#metrics.requests[request.type]++;
    let response: Response | Refused | null;
    if (access !== undefined) {
      const refusal = accessRefusal(access, request.type, request.hash);
      response = refusal === undefined ? await this.#dispatchOrDrop(request, peer, access) : { type: 'Refused', message: refusal };
    } else if (!this.#passwordMatches(password)) {
      // As Rust: a random pause, then the answer (here the comparison itself is constant-time).
      const [min, max] = this.limits.incorrectPasswordDelayMs;
      await sleep(randomInt(Math.round(min * 1000), Math.round(max * 1000)) / 1000, undefined, { ref: false });
      this.logger.warn({ peer, request: request.type }, 'incorrect password');
      response = { type: 'IncorrectPassword' };
    } else {
      response = await this.#dispatchOrDrop(request, peer, undefined);
    }
    if (response === null) return noAnswer;
    if (response.type === 'Refused') {
      this.#metrics.error('forbidden');
      this.logger.debug({ peer, request: request.type, hash: toHex(request.hash) }, response.message);
      return { type: 'forbidden', message: response.message };
    }
    this.#metrics.responses[response.type]++;
    return { type: 'response', bytes: encodeResponse(response) };
  }

  async #dispatchOrDrop(request: Request, peer: string | undefined, access: Access | undefined): Promise<Response | Refused | null> {
    try {
      return await this.#dispatch(request, peer, access);
    } catch (err) {
      if (err instanceof ServerError) {
        this.#drop(err, peer);
        return null;
      }
      throw err;
    }
  }

  /** Counters of this handler (shared with its server). */
  metrics(): ReturnType<Metrics['snapshot']> {
    return this.#metrics.snapshot();
  }

  /** The maps this server holds in memory, and how far behind its storage each is (see SyncStateServer.maps). */
  maps(): Promise<LoadedMap[]> {
    return this.#registry.loaded();
  }

  /** Resolves once every accepted event has been processed. */
  idle(): Promise<void> {
    return this.#registry.idle();
  }

  /** Refuses new work, waits for accepted events, closes the storage. Idempotent. */
  close(): Promise<void> {
    this.#closing ??= (async () => {
      this.#registry.close();
      await this.#registry.idle();
      await this.#storage?.close();
    })();
    return this.#closing;
  }

  async #dispatch(request: Request, peer: string | undefined, access: Access | undefined): Promise<Response | Refused | null> {
    const registry = this.#registry;
    switch (request.type) {
      case 'GetUpdateId': {
        const updateId = await registry.updateId(request.hash);
        return updateId === undefined ? { type: 'HashNotFound' } : { type: 'UpdateId', updateId };
      }
      case 'GetDiff': {
        const diff = await registry.diff(request.hash, request.fromUpdateId, request.uptoUpdateId);
        if (diff === undefined) return { type: 'HashNotFound' };
        const { key, value } = this.#options;
        return {
          type: 'Diff',
          fromUpdateId: diff.fromUpdateId,
          uptoUpdateId: diff.uptoUpdateId,
          isFull: diff.isFull,
          // The whole of a big map (24 MB for a million pairs) is encoded in slices, letting other requests through.
          encodedDiff:
            diff.size < SLICED_DIFF_PAIRS
              ? encodeDiffEntries(diff, key, value)
              : await encodeDiffEntriesSliced(diff, key, value, timeSlices({ sliceMs: SLICE_MS })),
        };
      }
      case 'Event': {
        // As Rust: HashNotFound before the payload is looked at.
        if (!(await registry.has(request.hash))) return { type: 'HashNotFound' };
        let event: E;
        try {
          event = decode(this.#options.event, request.eventData);
        } catch (err) {
          throw new MalformedRequestError(
            'undecodable-event',
            `event for ${toHex(request.hash)} does not decode: ${errorMessage(err)}`,
            { cause: err },
          );
        }
        if (access?.events !== undefined) {
          const variant = eventVariant(event);
          if (variant === undefined || !access.events.has(variant)) {
            return { type: 'Refused', message: `Event refused: this connection may not send ${variant ?? 'this'} events` };
          }
        }
        const queued = await registry.submitEvent(request.hash, event);
        if (queued === undefined) return { type: 'HashNotFound' };
        if (!queued) {
          throw new ServerError(
            'event-queue-full',
            `map ${toHex(request.hash)} has ${this.limits.maxPendingEventsPerMap} unprocessed events; event dropped`,
          );
        }
        return { type: 'EventInProcess' };
      }
      case 'Init': {
        const outcome = await registry.init(request.hash, request.initData);
        if (outcome.type === 'InitFailure') return { type: 'InitFailure', errorMessage: outcome.errorMessage };
        return outcome;
      }
    }
  }

  #passwordMatches(password: Uint8Array): boolean {
    return timingSafeEqual(digest(password), this.#passwordDigest);
  }

  #drop(err: ServerError, peer: string | undefined): Answer {
    this.#metrics.error(err.code);
    const level = err.code === 'server-closed' ? 'debug' : 'warn';
    this.logger[level]({ err, peer, code: err.code }, `${err.message}; closing without an answer`);
    return noAnswer;
  }
}

// Comparing fixed-size digests keeps timingSafeEqual's equal-length requirement without leaking the length.
function digest(bytes: Uint8Array): Buffer {
  return createHash('sha256').update(bytes).digest();
}
