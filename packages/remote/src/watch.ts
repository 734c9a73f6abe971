/**
 * `watch`: poll a map with `sync` and yield each change. Transport failures
 * (connect/handshake errors, timeouts, a hang-up before any answer) are
 * retried with exponential backoff and jitter (backoff.ts); answers that
 * retrying cannot fix (wrong password, unknown hash, protocol violations,
 * truncated answers) end the iteration by throwing. Aborting the signal ends it quietly.
 */
import type { StateMap } from '@syncstate-ts/core';
import { ConnectionClosedError, ConnectionError, TimeoutError } from './errors.js';
import { retryDelay } from './backoff.js';
import type { CallOptions } from './call.js';
import type { SyncResult } from './sync.js';
import { delay } from './timers.js';

export interface WatchOptions {
  /** Pause between polls, in ms (default 1000). */
  intervalMs?: number;
  /**
   * Longest pause after consecutive failures, in ms (default 30 000). Each
   * pause is random between intervalMs and min(maxBackoffMs, intervalMs * 2^failures),
   * so that clients cut off together do not come back together.
   */
  maxBackoffMs?: number;
  /** The source of that randomness, a number in [0, 1); default Math.random. */
  random?: () => number;
  /** Stops the watch: the iteration ends without an error. */
  signal?: AbortSignal;
  /** Told about each failure that will be retried, and the pause before the retry. */
  onRetry?: (error: unknown, retryInMs: number) => void;
}

export const DEFAULT_WATCH_INTERVAL_MS = 1000;
export const DEFAULT_WATCH_MAX_BACKOFF_MS = 30_000;

export async function* watchMap<K, V>(
  remote: { sync(map: StateMap<K, V>, options: CallOptions): Promise<SyncResult<K, V>> },
  map: StateMap<K, V>,
  options: WatchOptions,
): AsyncGenerator<SyncResult<K, V>, void, undefined> {
  const intervalMs = options.intervalMs ?? DEFAULT_WATCH_INTERVAL_MS;
  const maxBackoffMs = Math.max(intervalMs, options.maxBackoffMs ?? DEFAULT_WATCH_MAX_BACKOFF_MS);
  if (!(intervalMs >= 0)) throw new RangeError(`intervalMs must be >= 0, got ${intervalMs}`);
  const { signal } = options;
  let failures = 0;

  while (!isAborted(signal)) {
    let result: SyncResult<K, V>;
    try {
      result = await remote.sync(map, signal !== undefined ? { signal } : {});
      failures = 0;
    } catch (err) {
      if (isAborted(signal)) return;
      if (!isRetryable(err)) throw err;
      failures += 1;
      const pause = retryDelay(failures, { intervalMs, maxBackoffMs, ...(options.random !== undefined ? { random: options.random } : {}) });
      options.onRetry?.(err, pause);
      if (!(await pauseFor(pause, signal))) return;
      continue;
    }
    if (result.toUpdateId !== result.fromUpdateId) yield result;
    if (!(await pauseFor(intervalMs, signal))) return;
  }
}

// A function, not an inline check: TS would narrow `aborted` across the await.
function isAborted(signal: AbortSignal | undefined): boolean {
  return signal?.aborted === true;
}

function isRetryable(err: unknown): boolean {
  if (err instanceof ConnectionError || err instanceof TimeoutError) return true;
  // A hang-up before any byte may be a restart; a cut answer repeats forever.
  return err instanceof ConnectionClosedError && err.bytesReceived === 0;
}

/** False when the signal aborted during the pause. */
async function pauseFor(ms: number, signal: AbortSignal | undefined): Promise<boolean> {
  try {
    await delay(ms, signal);
    return true;
  } catch {
    return false;
  }
}
