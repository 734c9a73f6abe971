/**
 * `watch` over a WebSocket: subscribe to the map, sync once, then sync each
 * time the server pushes an update id above the map's. No polling while the
 * subscription lives. When the connection closes (or fails), retry with the
 * same backoff as polling (backoff.ts): subscribe again on a new connection
 * and sync, which catches up with whatever was missed. A server that refuses
 * the subscription (its limit) is polled instead. Aborting ends it quietly.
 */
import type { StateMap } from '@syncstate-ts/core';
import { retryDelay } from '../backoff.js';
import type { CallOptions } from '../call.js';
import { ConnectionClosedError, ConnectionError, LimitExceededError, TimeoutError } from '../errors.js';
import { frozenHash } from '../hash.js';
import type { SyncResult } from '../sync.js';
import { delay } from '../timers.js';
import { DEFAULT_WATCH_INTERVAL_MS, DEFAULT_WATCH_MAX_BACKOFF_MS, watchMap, type WatchOptions } from '../watch.js';
import type { Subscription } from './channel.js';

interface PushSource<K, V> {
  sync(map: StateMap<K, V>, options: CallOptions): Promise<SyncResult<K, V>>;
  subscribe(hash: Uint8Array, onUpdate: (updateId: bigint) => void, options: CallOptions): Promise<Subscription>;
}

export async function* watchPushed<K, V>(
  remote: PushSource<K, V>,
  map: StateMap<K, V>,
  options: WatchOptions,
): AsyncGenerator<SyncResult<K, V>, void, undefined> {
  const hash = frozenHash(map);
  const intervalMs = options.intervalMs ?? DEFAULT_WATCH_INTERVAL_MS;
  const maxBackoffMs = Math.max(intervalMs, options.maxBackoffMs ?? DEFAULT_WATCH_MAX_BACKOFF_MS);
  if (!(intervalMs >= 0)) throw new RangeError(`intervalMs must be >= 0, got ${intervalMs}`);
  const { signal } = options;
  const call = signal !== undefined ? { signal } : {};
  let failures = 0;
  // Woken by the next push, the end of the connection, or the abort.
  let wake: (() => void) | undefined;
  const onAbort = (): void => wake?.();
  signal?.addEventListener('abort', onAbort, { once: true });
  try {
    while (!isAborted(signal)) {
      let latest = 0n;
      let subscription: Subscription;
      try {
        subscription = await remote.subscribe(
          hash,
          (updateId) => {
            if (updateId > latest) latest = updateId;
            wake?.();
          },
          call,
        );
      } catch (err) {
        if (isAborted(signal)) return;
        if (err instanceof LimitExceededError && err.limit === 'subscriptions') {
          yield* watchMap(remote, map, options);
          return;
        }
        if (!isRetryable(err)) throw err;
        if (!(await retryAfter(err, ++failures))) return;
        continue;
      }
      if (subscription.updateId > latest) latest = subscription.updateId;
      let ended = false;
      void subscription.ended.then(() => {
        ended = true;
        wake?.();
      });
      try {
        for (;;) {
          let result: SyncResult<K, V>;
          try {
            result = await remote.sync(map, call);
            failures = 0;
          } catch (err) {
            if (isAborted(signal)) return;
            if (!isRetryable(err)) throw err;
            if (!(await retryAfter(err, ++failures))) return;
            break; // subscribe again (the connection may be a new one)
          }
          if (result.toUpdateId !== result.fromUpdateId) yield result;
          // Wait for a push above the map's id, the end of the connection, or the abort.
          while (latest <= map.getUpdateId() && !ended && !isAborted(signal)) {
            await new Promise<void>((resolve) => (wake = resolve));
            wake = undefined;
          }
          if (isAborted(signal)) return;
          if (ended) {
            const reason = await subscription.ended;
            if (!isRetryable(reason)) throw reason;
            if (!(await retryAfter(reason, ++failures))) return;
            break;
          }
        }
      } finally {
        subscription.unsubscribe();
      }
    }
  } finally {
    signal?.removeEventListener('abort', onAbort);
  }

  async function retryAfter(err: unknown, attempt: number): Promise<boolean> {
    const pause = retryDelay(attempt, { intervalMs, maxBackoffMs, ...(options.random !== undefined ? { random: options.random } : {}) });
    options.onRetry?.(err, pause);
    try {
      await delay(pause, signal);
      return true;
    } catch {
      return false;
    }
  }
}

function isAborted(signal: AbortSignal | undefined): boolean {
  return signal?.aborted === true;
}

/** Failures that a new connection may fix: as polling's, plus the transient limits of a WebSocket. */
function isRetryable(err: unknown): boolean {
  if (err instanceof ConnectionError || err instanceof TimeoutError) return true;
  if (err instanceof LimitExceededError) return err.limit === 'rate' || err.limit === 'memory' || err.limit === 'in-flight';
  return err instanceof ConnectionClosedError && err.bytesReceived === 0;
}
