/** A one-shot, unref'd timer that can be pushed back with `refresh()`; 0 or Infinity disables it. */
export interface Timer {
  refresh(): void;
  clear(): void;
}

export function startTimer(ms: number, onTimeout: () => void): Timer {
  if (!Number.isFinite(ms) || ms <= 0) return { refresh() {}, clear() {} };
  const handle = setTimeout(onTimeout, ms);
  handle.unref();
  return { refresh: () => void handle.refresh(), clear: () => clearTimeout(handle) };
}
