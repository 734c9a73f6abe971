/**
 * Notices that this process's parent has exited: its parent pid changes when
 * init (or a subreaper) adopts it. pnpm forwards SIGTERM and SIGINT to the
 * script it runs, but dies of a SIGHUP (or a SIGKILL) without telling it;
 * the demo and `pnpm syncstate` then stop as if they had been sent SIGTERM,
 * instead of serving on with nobody to stop them.
 */

/** Calls `onOrphaned` once, at most `intervalMs` after the parent exits. The check never keeps the process alive. */
export function whenOrphaned(onOrphaned: () => void, intervalMs = 200): void {
  const parent = process.ppid;
  const timer = setInterval(() => {
    if (process.ppid === parent) return;
    clearInterval(timer);
    onOrphaned();
  }, intervalMs);
  timer.unref();
}
