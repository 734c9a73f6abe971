// Cooperative slicing of long work on big maps (freeze, restore, decoding a
// million pairs takes seconds): the work runs in slices of about `sliceMs`
// and awaits `pause()` between them, so a server (or a browser page) keeps
// answering meanwhile. A thread that cannot be interrupted is the only
// alternative in JavaScript short of a worker, and the map must end up in
// this thread's heap anyway.

/** Paces one long operation; make one per operation (it holds the current slice's start). */
export interface Pace {
  /** Whether the current slice has used its time. */
  due(): boolean;
  /** Ends the slice: resolves once other tasks have had their turn. */
  pause(): Promise<void>;
}

export interface PaceOptions {
  /** Work per slice in milliseconds (default 8). */
  sliceMs?: number;
  /** What ends a slice (default: setImmediate where it exists, else setTimeout 0). */
  yieldTo?: () => Promise<void>;
}

declare const globalThis: {
  setImmediate?: (callback: () => void) => unknown;
  setTimeout: (callback: () => void, ms: number) => unknown;
  performance?: { now(): number };
};

const clock: () => number =
  globalThis.performance !== undefined ? () => globalThis.performance!.now() : () => Date.now();

const defaultYield: () => Promise<void> =
  globalThis.setImmediate !== undefined
    ? () => new Promise((resolve) => globalThis.setImmediate!(resolve))
    : () => new Promise((resolve) => globalThis.setTimeout(resolve, 0));

/** A Pace of `sliceMs` slices. */
export function timeSlices(options: PaceOptions = {}): Pace {
  const sliceMs = options.sliceMs ?? 8;
  if (!(sliceMs > 0)) throw new RangeError(`sliceMs must be positive, got ${sliceMs}`);
  const yieldTo = options.yieldTo ?? defaultYield;
  let start = clock();
  return {
    due: () => clock() - start >= sliceMs,
    pause: async () => {
      await yieldTo();
      start = clock();
    },
  };
}

/** Items handled between two looks at the clock. */
export const CHUNK = 512;

/**
 * Runs `step(start, end)` over [0, n) in chunks of `chunk` items, pausing
 * whenever the pace is due: before the first chunk too, so that the caller's
 * setup (allocations, a garbage collection they set off) and the first chunk
 * do not add up in one turn. Without a pace, in one call.
 */
export async function inSlices(
  n: number,
  pace: Pace | undefined,
  step: (start: number, end: number) => void,
  chunk = CHUNK,
): Promise<void> {
  if (pace === undefined) {
    step(0, n);
    return;
  }
  for (let i = 0; i < n; i += chunk) {
    if (pace.due()) await pace.pause();
    step(i, Math.min(n, i + chunk));
  }
  if (pace.due()) await pace.pause();
}
