/**
 * The pause before a retry after consecutive failures: exponential backoff
 * with full jitter. Without jitter, clients that lost the same server at the
 * same moment retry in step and reach it together when it comes back; a
 * uniformly random pause spreads them out.
 */

export interface RetryDelayOptions {
  /** The pause between polls: the shortest pause before a retry, and the base of the exponent. */
  intervalMs: number;
  /** The longest pause. */
  maxBackoffMs: number;
  /** A number in [0, 1), as Math.random returns; default Math.random. */
  random?: () => number;
}

/**
 * The pause before retry number `failures` (1 for the first): uniform in
 * [intervalMs, min(maxBackoffMs, intervalMs * 2^failures)], so a client
 * never polls a failing server faster than a healthy one, and the range
 * doubles with each failure up to the cap. Whole milliseconds.
 */
export function retryDelay(failures: number, options: RetryDelayOptions): number {
  const { intervalMs } = options;
  const ceiling = Math.max(intervalMs, Math.min(options.maxBackoffMs, intervalMs * 2 ** failures));
  const r = (options.random ?? Math.random)();
  if (!(r >= 0 && r <= 1)) throw new RangeError(`random() must return a number in [0, 1), got ${r}`);
  return Math.round(intervalMs + r * (ceiling - intervalMs));
}
