// PostgreSQL's errors as the contract's StorageError: the server's log shows
// one `code`, with pg's error (and its SQLSTATE) as the cause.
import { StorageError } from '@syncstate-ts/storage';

/** Turns an error of pg into a StorageError (a StorageError passes through). */
export function fromPostgres(err: unknown, doing: string): StorageError {
  if (err instanceof StorageError) return err;
  const sqlState = (err as { code?: unknown }).code;
  const detail = `${doing}: ${(err as Error).message}${typeof sqlState === 'string' ? ` (${sqlState})` : ''}`;
  if (sqlState === '53100') return new StorageError('disk-full', `${detail}; the change was not stored`, { cause: err });
  if (sqlState === '25006') return new StorageError('read-only', `${detail}; the change was not stored`, { cause: err });
  if (sqlState === '22003') return new StorageError('update-id-range', `${detail}: update ids above 2^63 - 1 do not fit PostgreSQL's bigint`, { cause: err });
  return new StorageError('io', detail, { cause: err });
}
