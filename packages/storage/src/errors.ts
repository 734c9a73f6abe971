/**
 * The error every store rejects with: a `code` for programs (kebab-case,
 * like every error code of syncstate-ts), a message for people, and the
 * underlying error, if any, as `cause`.
 */
import { SyncstateError } from '@syncstate-ts/codec';

export type StorageErrorCode =
  // The contract's own (contract.ts):
  | 'closed'
  | 'unknown-map'
  | 'duplicate-map'
  | 'out-of-order'
  // What a store's medium reports:
  | 'not-sqlite'
  | 'foreign-database'
  | 'corrupt'
  | 'newer-schema'
  | 'kind-mismatch'
  | 'read-only'
  | 'disk-full'
  | 'locked'
  | 'io'
  | 'update-id-range'
  | 'sqlite'
  // No SQLite binding loads (neither node:sqlite nor better-sqlite3):
  | 'no-driver'
  // A restore would overwrite a store that holds maps (or a file that is not a store):
  | 'not-empty';

/** Base class of every store's errors (a SyncstateError of @syncstate-ts/codec). */
export class StorageError extends SyncstateError<StorageErrorCode> {
  override name = 'StorageError';
}
