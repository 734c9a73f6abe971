// @syncstate-ts/storage-sqlite: durable maps for a syncstate server, following
// @syncstate-ts/storage's contract. Maps, their update ids and history live in
// an embedded SQLite database (WAL, synchronous=FULL), so a crash or restart
// loses nothing a client has seen.

export { SqliteStorage, openSqliteStorage } from './storage.js';
export type { SqliteStorageOptions } from './storage.js';
export { backupSqliteStore, restoreSqliteStore } from './backup.js';
export type { BackupOptions, BackupResult, RestoreOptions, RestoreResult } from './backup.js';
export { availableDrivers } from './driver.js';
export type { SqliteDriverChoice } from './driver.js';
export type { SqliteDriverName } from './connection.js';
export {
  CorruptDatabaseError,
  ForeignFileError,
  SchemaVersionError,
  StorageError,
  StorageFullError,
  StorageReadOnlyError,
} from './errors.js';
export type { StorageErrorCode } from '@syncstate-ts/storage';
export { APPLICATION_ID, SCHEMA_VERSION } from './schema.js';
