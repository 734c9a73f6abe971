/** What a command may touch of its process: output streams and environment (tests and embedders pass their own). */
export interface CommandIo {
  out: { write(text: string): unknown };
  err: { write(text: string): unknown; isTTY?: boolean };
  env: NodeJS.ProcessEnv;
  /** Aborted on Ctrl-C: long-running commands (watch, set's wait) stop cleanly. */
  signal?: AbortSignal;
  /** The source of watch's retry jitter, a number in [0, 1); default Math.random. */
  random?: () => number;
}
