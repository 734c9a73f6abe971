/**
 * Exit codes of the `syncstate` command, stable for scripts, and the error
 * type commands throw for failures a person should read (printed as one line,
 * no stack trace).
 */

export const ExitCode = {
  /** Done. */
  ok: 0,
  /** Anything else: the server refused or misbehaved, an event was not applied, an unexpected failure. */
  runtime: 1,
  /** Bad arguments or input: an unknown flag, a malformed JSON map, a missing certificate or password file. */
  usage: 2,
  /** The server rejected the password. */
  auth: 3,
  /** No map with that hash on the server, or no such key in the map. */
  notFound: 4,
  /** The server could not be reached: refused, TLS/certificate failure, timeout, hang-up without an answer. */
  connection: 5,
} as const;
export type ExitCode = (typeof ExitCode)[keyof typeof ExitCode];

/** An expected failure: its message is shown as is and the process exits with `exitCode`. */
export class CliError extends Error {
  override name = 'CliError';
  readonly exitCode: ExitCode;

  constructor(exitCode: ExitCode, message: string, options?: { cause?: unknown }) {
    super(message, options);
    this.exitCode = exitCode;
  }
}

export const usageError = (message: string, options?: { cause?: unknown }): CliError =>
  new CliError(ExitCode.usage, message, options);
