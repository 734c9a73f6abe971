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
import { errorMessage, MalformedRequestError, ServerError } from './errors.js';
import { resolveLimits, type ServerLimits } from './limits/limits.js';
import { type Logger, silentLogger } from './logger.js';
import type { EventHook, InitHook } from './registry/hooks.js';
import { Metrics } from './metrics.js';
import { type LoadedMap, MapRegistry, SLICE_MS } from './registry/registry.js';
import type { MapStorage } from '@syncstate-ts/storage';

/** Diffs of at least this many pairs are encoded in slices. */
const SLICED_DIFF_PAIRS = 8192;

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
    });
  }

  /**
   * The encoded answer to one request payload (a frame's body), or null to
   * close without answering. The payload must not change until the answer
   * resolves: Init and Event data are read from it in place (both transports
   * hand over a buffer of the request's own).
   */
  async respond(payload: Uint8Array, peer?: string): Promise<Uint8Array | null> {
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
    let response: Response | null;
    if (!this.#passwordMatches(password)) {
      // As Rust: a random pause, then the answer (here the comparison itself is constant-time).
      const [min, max] = this.limits.incorrectPasswordDelayMs;
      await sleep(randomInt(Math.round(min * 1000), Math.round(max * 1000)) / 1000, undefined, { ref: false });
      this.logger.warn({ peer, request: request.type }, 'incorrect password');
      response = { type: 'IncorrectPassword' };
    } else {
      try {
        response = await this.#dispatch(request, peer);
      } catch (err) {
        if (err instanceof ServerError) return this.#drop(err, peer);
        throw err;
      }
    }
    if (response === null) return null;
    this.#metrics.responses[response.type]++;
    return encodeResponse(response);
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

  async #dispatch(request: Request, peer: string | undefined): Promise<Response | null> {
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

  #drop(err: ServerError, peer: string | undefined): null {
    this.#metrics.error(err.code);
    const level = err.code === 'server-closed' ? 'debug' : 'warn';
    this.logger[level]({ err, peer, code: err.code }, `${err.message}; closing without an answer`);
    return null;
  }
}

// Comparing fixed-size digests keeps timingSafeEqual's equal-length requirement without leaking the length.
function digest(bytes: Uint8Array): Buffer {
  return createHash('sha256').update(bytes).digest();
}
