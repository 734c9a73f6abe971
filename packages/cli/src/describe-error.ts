/**
 * Turns any failure into the one-line message and exit code the CLI shows:
 * typed errors from @syncstate-ts/remote and Node's file errors are expected
 * and explained; anything else is a bug or an unexpected state, shown with
 * its stack (exit 1) so it can be reported.
 */
import { toHex } from '@syncstate-ts/codec';
import {
  AuthenticationError,
  ConnectionClosedError,
  ConnectionError,
  HashMismatchError,
  HashNotFoundError,
  InitFailureError,
  ProtocolError,
  TimeoutError,
} from '@syncstate-ts/remote';
import { CliError, ExitCode } from './exit-codes.js';

export interface Described {
  message: string;
  exitCode: ExitCode;
  /** Shown only for unexpected errors. */
  stack?: string;
}

export function describeError(err: unknown): Described {
  if (err instanceof CliError) return { message: err.message, exitCode: err.exitCode };
  if (err instanceof AuthenticationError) {
    return {
      message:
        'the server rejected the password (use the server\'s password: SYNCSTATE_PASSWORD, --password-file, or the data folder\'s "password" file)',
      exitCode: ExitCode.auth,
    };
  }
  if (err instanceof HashNotFoundError) {
    return {
      message: `the server has no map ${toHex(err.hash)} (create it with: syncstate init <file.json>)`,
      exitCode: ExitCode.notFound,
    };
  }
  if (err instanceof ConnectionError) return { message: connectionMessage(err), exitCode: ExitCode.connection };
  if (err instanceof TimeoutError) return { message: `${err.message} (is the server overloaded or the address wrong?)`, exitCode: ExitCode.connection };
  if (err instanceof ConnectionClosedError) {
    return { message: `${err.message}; the server's log may say why`, exitCode: ExitCode.connection };
  }
  if (err instanceof HashMismatchError || err instanceof InitFailureError || err instanceof ProtocolError) {
    return { message: err.message, exitCode: ExitCode.runtime };
  }
  const e = err instanceof Error ? err : new Error(String(err));
  return { message: `unexpected error: ${e.message}`, exitCode: ExitCode.runtime, ...(e.stack !== undefined ? { stack: e.stack } : {}) };
}

/** The socket error behind a ConnectionError, in words that point at the fix. */
function connectionMessage(err: ConnectionError): string {
  const code = (err.cause as { code?: string } | undefined)?.code;
  switch (code) {
    case 'ECONNREFUSED':
      return `${err.message} (is \`syncstate serve\` running there? set the address with --address or SYNCSTATE_ADDRESS)`;
    case 'DEPTH_ZERO_SELF_SIGNED_CERT':
    case 'SELF_SIGNED_CERT_IN_CHAIN':
    case 'UNABLE_TO_VERIFY_LEAF_SIGNATURE':
    case 'UNABLE_TO_GET_ISSUER_CERT_LOCALLY':
    case 'CERT_SIGNATURE_FAILURE':
      return `${err.message} (the server's certificate is not the one given with --ca: use the server's cert.pem)`;
    case 'ERR_TLS_CERT_ALTNAME_INVALID':
      return `${err.message} (the server's certificate does not name the address dialed)`;
    case 'CERT_HAS_EXPIRED':
      return `${err.message} (the server's certificate has expired)`;
    default:
      return err.message;
  }
}

