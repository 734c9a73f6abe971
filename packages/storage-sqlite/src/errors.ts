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

/** Turns an error thrown by better-sqlite3 into the matching StorageError (others pass through). */
export function fromSqlite(err: unknown, doing: string): unknown {
  if (err instanceof StorageError) return err;
  const code = sqliteCode(err);
  if (code === undefined) return err;
  const detail = `${doing}: ${(err as Error).message} (${code})`;
  if (code.startsWith('SQLITE_FULL')) return new StorageFullError(`${detail}; the change was not stored`, { cause: err });
  if (code.startsWith('SQLITE_READONLY') || code === 'SQLITE_PERM' || code === 'SQLITE_AUTH') {
    return new StorageReadOnlyError(`${detail}; the change was not stored`, { cause: err });
  }
  if (code.startsWith('SQLITE_CORRUPT')) return new CorruptDatabaseError(`${detail}: the file is damaged`, { cause: err });
  if (code === 'SQLITE_NOTADB') return new ForeignFileError('not-sqlite', detail, { cause: err });
  if (code.startsWith('SQLITE_BUSY') || code.startsWith('SQLITE_LOCKED')) {
    return new StorageError('locked', `${detail}: another process holds the database`, { cause: err });
  }
  if (code.startsWith('SQLITE_IOERR') || code.startsWith('SQLITE_CANTOPEN')) return new StorageError('io', detail, { cause: err });
  return new StorageError('sqlite', detail, { cause: err });
}

function sqliteCode(err: unknown): string | undefined {
  if (typeof err !== 'object' || err === null) return undefined;
  const code = (err as { code?: unknown }).code;
  return typeof code === 'string' && code.startsWith('SQLITE_') ? code : undefined;
}
