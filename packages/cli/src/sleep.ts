import { setTimeout } from 'node:timers/promises';

/** A pause that an AbortSignal cuts short (resolving, not rejecting: callers check the signal). */
export function sleep(ms: number, signal?: AbortSignal): Promise<void> {
  return setTimeout(ms, undefined, { signal }).catch(() => {});
}
