/** Small timer and abort helpers shared by the connection and watch code. */

export interface Timer {
  clear(): void;
}

/**
 * A one-shot timer that does not keep the process alive by itself: the open
 * socket it guards already does. `Infinity` or 0 means no limit.
 */
export function startTimer(ms: number, onTimeout: () => void): Timer {
  if (!Number.isFinite(ms) || ms <= 0) return { clear() {} };
  const handle = setTimeout(onTimeout, ms);
  // Node's timers have unref(); a browser's are numbers.
  (handle as { unref?: () => void }).unref?.();
  return { clear: () => clearTimeout(handle) };
}

/** What an aborted call rejects with: the signal's reason, like Node's own APIs. */
export function abortReason(signal: AbortSignal | undefined): unknown {
  return signal?.reason ?? new DOMException('This operation was aborted', 'AbortError');
}

/** Resolves after `ms`, or rejects with the abort reason as soon as `signal` aborts. */
export function delay(ms: number, signal?: AbortSignal): Promise<void> {
  if (signal?.aborted) return Promise.reject(abortReason(signal));
  return new Promise((resolve, reject) => {
    const onAbort = (): void => {
      clearTimeout(handle);
      reject(abortReason(signal));
    };
    const handle = setTimeout(() => {
      signal?.removeEventListener('abort', onAbort);
      resolve();
    }, ms);
    signal?.addEventListener('abort', onAbort, { once: true });
  });
}
