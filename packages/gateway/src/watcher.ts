/**
 * Pushes through the gateway: an upstream server (Rust's) pushes nothing, so
 * the gateway polls it, once per subscribed map however many browsers follow
 * that map (the WebSocket listener follows each map once and fans out), and
 * stops when the last one leaves.
 *
 * Every observation of a map's update id (a poll, or the fresh read a
 * Subscribe makes) that is above the last one seen is handed to the map's
 * followers, and so is the first one: a subscriber may then hear an id it was
 * just told in Subscribed, never miss one.
 */
import { toHex, type Request } from '@syncstate-ts/codec';
import { retryDelay } from '@syncstate-ts/remote';
import type { Logger } from '@syncstate-ts/server';
import { RelayError } from './errors.js';
import type { RequestSender } from './upstream.js';

export interface WatcherOptions {
  /** Pause between two polls of one map (default 500 ms). */
  intervalMs?: number;
  /** Longest pause while the upstream fails (default 30 000 ms). */
  maxBackoffMs?: number;
  /**
   * Maps polled at once, all connections together (default 1,000): each is a
   * TLS request to the upstream per interval. A Subscribe for one more map is
   * refused (too-many-subscriptions); `watch` then polls through requests.
   */
  maxMaps?: number;
}

export const DEFAULT_POLL_INTERVAL_MS = 500;
export const DEFAULT_MAX_POLLED_MAPS = 1000;

interface Watched {
  readonly hash: Uint8Array;
  readonly listeners: Set<(updateId: bigint) => void>;
  last: bigint | undefined;
  timer: NodeJS.Timeout | undefined;
  failures: number;
  stopped: boolean;
  /** Followed above maxMaps: not polled, and its Subscribe is refused. */
  refused: boolean;
}

export class UpstreamWatcher {
  readonly #upstream: RequestSender;
  readonly #intervalMs: number;
  readonly #maxBackoffMs: number;
  readonly #maxMaps: number;
  readonly #logger: Logger;
  readonly #maps = new Map<string, Watched>();
  /** Entries of #maps being polled (not refused). */
  #polled = 0;
  #polls = 0;

  constructor(upstream: RequestSender, logger: Logger, options: WatcherOptions = {}) {
    this.#upstream = upstream;
    this.#logger = logger;
    this.#intervalMs = options.intervalMs ?? DEFAULT_POLL_INTERVAL_MS;
    this.#maxBackoffMs = Math.max(this.#intervalMs, options.maxBackoffMs ?? 30_000);
    this.#maxMaps = options.maxMaps ?? DEFAULT_MAX_POLLED_MAPS;
    if (!Number.isInteger(this.#maxMaps) || this.#maxMaps < 1) throw new RangeError(`maxMaps must be a positive integer, got ${this.#maxMaps}`);
    if (!(this.#intervalMs > 0) || !Number.isFinite(this.#intervalMs)) throw new RangeError(`intervalMs must be positive, got ${this.#intervalMs}`);
  }

  /** Maps polled now. */
  get maps(): number {
    return this.#polled;
  }

  /** Polls sent upstream so far (GetUpdateId, one per map and interval). */
  get polls(): number {
    return this.#polls;
  }

  /** Calls `onUpdate` with each new update id of the map until the returned function is called. */
  follow(hash: Uint8Array, onUpdate: (updateId: bigint) => void): () => void {
    const hashHex = toHex(hash);
    let watched = this.#maps.get(hashHex);
    if (watched === undefined) {
      const refused = this.#polled >= this.#maxMaps;
      watched = { hash: hash.slice(), listeners: new Set(), last: undefined, timer: undefined, failures: 0, stopped: false, refused };
      this.#maps.set(hashHex, watched);
      if (!refused) {
        this.#polled++;
        this.#schedule(watched, 0);
      }
    }
    const listener = (id: bigint): void => onUpdate(id);
    watched.listeners.add(listener);
    const own = watched;
    return () => {
      own.listeners.delete(listener);
      if (own.listeners.size === 0 && this.#maps.get(hashHex) === own) this.#stop(hashHex, own);
    };
  }

  /**
   * The map's update id, read from the upstream now (undefined: no such map).
   * Handed to the map's followers too when it is news to them.
   */
  async updateId(hash: Uint8Array): Promise<bigint | undefined> {
    if (this.#maps.get(toHex(hash))?.refused === true) {
      throw new RelayError('too-many-subscriptions', `this gateway polls at most ${this.#maxMaps} maps upstream at once`);
    }
    const id = await this.#read(hash);
    const watched = this.#maps.get(toHex(hash));
    if (id !== undefined && watched !== undefined) this.#observe(watched, id);
    return id;
  }

  /** Stops every poll. */
  close(): void {
    for (const [hashHex, watched] of this.#maps) this.#stop(hashHex, watched);
  }

  async #read(hash: Uint8Array): Promise<bigint | undefined> {
    const request: Request = { type: 'GetUpdateId', hash };
    const response = await this.#upstream.send(request);
    if (response.type === 'UpdateId') return response.updateId;
    if (response.type === 'HashNotFound') return undefined;
    throw new RelayError('unavailable', `upstream ${this.#upstream.address} answered ${response.type} to GetUpdateId`);
  }

  #observe(watched: Watched, id: bigint): void {
    if (watched.last !== undefined && id <= watched.last) return;
    watched.last = id;
    for (const listener of watched.listeners) {
      try {
        listener(id);
      } catch (err) {
        this.#logger.error({ err }, 'a map follower failed');
      }
    }
  }

  #schedule(watched: Watched, ms: number): void {
    if (watched.stopped) return;
    watched.timer = setTimeout(() => void this.#poll(watched), ms);
    watched.timer.unref();
  }

  async #poll(watched: Watched): Promise<void> {
    watched.timer = undefined;
    if (watched.stopped) return;
    this.#polls++;
    try {
      const id = await this.#read(watched.hash);
      watched.failures = 0;
      if (watched.stopped) return;
      // A map the upstream lost (a Rust server keeps maps in memory only): polled on, in case it is created again.
      if (id !== undefined) this.#observe(watched, id);
      this.#schedule(watched, this.#intervalMs);
    } catch (err) {
      watched.failures++;
      const pause = retryDelay(watched.failures, { intervalMs: this.#intervalMs, maxBackoffMs: this.#maxBackoffMs });
      if (watched.failures === 1 || watched.failures % 10 === 0) {
        this.#logger.warn({ err, hash: toHex(watched.hash), failures: watched.failures, retryInMs: pause }, 'polling the upstream failed');
      }
      this.#schedule(watched, pause);
    }
  }

  #stop(hashHex: string, watched: Watched): void {
    watched.stopped = true;
    clearTimeout(watched.timer);
    this.#maps.delete(hashHex);
    if (!watched.refused) this.#polled--;
  }
}
