// Typed errors of the SQLite storage. Every failure that reaches the server
// (and from there its log) is a StorageError (@syncstate-ts/storage) with a
// `code`; SQLite's own error, when there is one, is the `cause`.

import { StorageError } from '@syncstate-ts/storage';

export { StorageError };

/** The file is not ours: not SQLite at all, or SQLite written by something else. It is never modified. */
export class ForeignFileError extends StorageError {
  override name = 'ForeignFileError';
}

/** SQLite reports the file damaged, or our rows do not decode; nothing is written to it. */
export class CorruptDatabaseError extends StorageError {
  override name = 'CorruptDatabaseError';
  constructor(message: string, options?: { cause?: unknown }) {
    super('corrupt', message, options);
  }
}

/** Written by a newer schema than this version knows; upgrade the package rather than downgrade the file. */
export class SchemaVersionError extends StorageError {
  override name = 'SchemaVersionError';
  readonly version: number;
  constructor(version: number, supported: number) {
    super('newer-schema', `the database has schema version ${version}; this @syncstate-ts/storage-sqlite knows up to ${supported}`);
    this.version = version;
  }
}

/** The disk (or the configured maxPageCount) is full; the change was not stored. */
export class StorageFullError extends StorageError {
  override name = 'StorageFullError';
  constructor(message: string, options?: { cause?: unknown }) {
    super('disk-full', message, options);
  }
}

/** The storage was opened read-only, or the file or folder refuses writes; the change was not stored. */
export class StorageReadOnlyError extends StorageError {
  override name = 'StorageReadOnlyError';
  constructor(message: string, options?: { cause?: unknown }) {
    super('read-only', message, options);
  }
}

/** Turns an error thrown by SQLite (either binding) into the matching StorageError (others pass through). */
export function fromSqlite(err: unknown, doing: string): unknown {
  if (err instanceof StorageError) return err;
  const code = sqliteCode(err);
  if (code === undefined) return err;
  const detail = `${doing}: ${(err as Error).message} (${code})`;
  if (code.startsWith('SQLITE_FULL')) return new StorageFullError(`${detail}; the change was not stored`, { cause: err });
  if (code.startsWith('SQLITE_READONLY') || code.startsWith('SQLITE_PERM') || code.startsWith('SQLITE_AUTH')) {
    return new StorageReadOnlyError(`${detail}; the change was not stored`, { cause: err });
  }
  if (code.startsWith('SQLITE_CORRUPT')) return new CorruptDatabaseError(`${detail}: the file is damaged`, { cause: err });
  if (code.startsWith('SQLITE_NOTADB')) return new ForeignFileError('not-sqlite', detail, { cause: err });
  if (code.startsWith('SQLITE_BUSY') || code.startsWith('SQLITE_LOCKED')) {
    return new StorageError('locked', `${detail}: another process holds the database`, { cause: err });
  }
  if (code.startsWith('SQLITE_IOERR') || code.startsWith('SQLITE_CANTOPEN')) return new StorageError('io', detail, { cause: err });
  return new StorageError('sqlite', detail, { cause: err });
}

/**
 * SQLite's result code as better-sqlite3 names it (`SQLITE_BUSY`, `SQLITE_IOERR_WRITE`...).
 * node:sqlite gives the number instead (code 'ERR_SQLITE_ERROR', `errcode`):
 * named here by its primary code, the extended one in parentheses.
 */
export function sqliteCode(err: unknown): string | undefined {
  if (typeof err !== 'object' || err === null) return undefined;
  const { code, errcode } = err as { code?: unknown; errcode?: unknown };
  if (typeof code === 'string' && code.startsWith('SQLITE_')) return code;
  if (code !== 'ERR_SQLITE_ERROR' || typeof errcode !== 'number') return undefined;
  const name = PRIMARY_CODES[errcode & 0xff];
  if (name === undefined) return `SQLITE_${errcode}`;
  return errcode > 0xff ? `SQLITE_${name} (${errcode})` : `SQLITE_${name}`;
}

/** sqlite3.h's primary result codes, by number. */
const PRIMARY_CODES: Record<number, string> = {
  1: 'ERROR',
  2: 'INTERNAL',
  3: 'PERM',
  4: 'ABORT',
  5: 'BUSY',
  6: 'LOCKED',
  7: 'NOMEM',
  8: 'READONLY',
  9: 'INTERRUPT',
  10: 'IOERR',
  11: 'CORRUPT',
  12: 'NOTFOUND',
  13: 'FULL',
  14: 'CANTOPEN',
  15: 'PROTOCOL',
  16: 'EMPTY',
  17: 'SCHEMA',
  18: 'TOOBIG',
  19: 'CONSTRAINT',
  20: 'MISMATCH',
  21: 'MISUSE',
  22: 'NOLFS',
  23: 'AUTH',
  24: 'FORMAT',
  25: 'RANGE',
  26: 'NOTADB',
};
