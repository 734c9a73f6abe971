// Backups and restores of a storage file (the copy itself: copy.ts).
//
// Backup: from a SqliteStorage while it serves (its file is locked
// EXCLUSIVE, so only its own connection can read it), or from a file no
// process holds, which is locked for the copy.
//
// Restore: the backup is copied beside the target and opened there as a
// storage (refused unless it is one: not SQLite, another application, a
// newer schema, other kinds, damage), every map loaded, and only then does
// it replace the target. A target that is a store is overwritten through
// SQLite (the backup API into it: one journaled transaction, so a crash
// leaves the old file or the new one, never a mix), once this process has
// held its lock, which a serving process never gives up; a missing target
// gets the file by link(2), which fails rather than replace a file that
// appeared meanwhile.

import { existsSync, linkSync, statSync } from 'node:fs';
import { dirname, resolve } from 'node:path';
import type { Kind } from '@syncstate-ts/core';
import { type BackupOptions, type BackupResult, copyNew, copyThrough, isSqliteFile, lockDatabase, removeDatabase, removeFile, sameFile, siblingName, syncPath } from './copy.js';
import { type Driver, MAX_PAGES_PER_STEP } from './connection.js';
import { chooseDriver, type SqliteDriverChoice } from './driver.js';
import { CorruptDatabaseError, ForeignFileError, fromSqlite, StorageError } from './errors.js';
import { checkHeader, inspect } from './open.js';
import { APPLICATION_ID } from './schema.js';
import { SqliteStorage } from './storage.js';

export type { BackupOptions, BackupResult };




/**
 * Copies a storage file to `to` (replaced if it exists, atomically).
 * `from` is an open SqliteStorage (an online backup: it keeps serving, its
 * writes meanwhile end up in the copy) or the path of a file no process
 * holds (locked for the copy; StorageError 'locked' if a server holds it).
 */
export async function backupSqliteStore<K, V>(from: string | SqliteStorage<K, V>, to: string, options: BackupOptions = {}): Promise<BackupResult> {
  if (typeof from !== 'string') return from.backup(to, options);
  const path = resolve(from);
  checkHeader(path, true);
  const driver = chooseDriver(options.driver);
  // As a server opens it: the lock is ours until the copy is done, so no server starts on it meanwhile.
  const db = lockDatabase(driver, path);
  try {
    if (inspect(db, path) === 'fresh') throw new ForeignFileError('foreign-database', `${path} is an empty SQLite database, not a storage`);
    return await copyThrough(db, driver, path, to, options);
  } finally {
    db.close();
  }
}

export interface RestoreOptions<K, V> {
  /** The backup file (from backupSqliteStore, or a storage file no process holds). */
  from: string;
  /** The storage file to create or replace. */
  to: string;
  /** The kinds of the target's server; a backup of other kinds is refused ('kind-mismatch'). */
  key: Kind<K>;
  value: Kind<V>;
  /** Replace a target that holds maps, or that is not a storage at all. Default false: StorageError 'not-empty'. */
  replace?: boolean;
  driver?: SqliteDriverChoice;
}

export interface RestoreResult {
  /** The restored maps (lowercase hex hash, update id), in storage order. */
  maps: Array<{ hash: string; updateId: bigint }>;
  bytes: number;
  /** What was at `to`: nothing (or an empty file), a store without maps, a store with maps, a file that was not a store. */
  replaced: 'nothing' | 'empty-store' | 'store' | 'other-file';
}

/**
 * Puts the backup `from` in place of the storage file `to`. Refused, with
 * `to` untouched: a backup that is not a valid storage (ForeignFileError,
 * CorruptDatabaseError, SchemaVersionError, 'kind-mismatch'), a target a
 * process holds ('locked': a server is using it), a target with maps or a
 * file that is not a store, without `replace` ('not-empty').
 */
export async function restoreSqliteStore<K, V>(options: RestoreOptions<K, V>): Promise<RestoreResult> {
  const from = resolve(options.from);
  const to = resolve(options.to);
  if (from === to || sameFile(from, to)) throw new StorageError('io', `${from} is the target itself`);
  checkHeader(from, true);
  if (!existsSync(dirname(to))) throw new StorageError('io', `cannot restore into ${to}: its folder does not exist`);
  const driver = chooseDriver(options.driver);
  const open = (path: string): SqliteStorage<K, V> => new SqliteStorage({ path, key: options.key, value: options.value, driver: driver.name });

  // 1. A copy beside the target, opened as a storage there: what a server would serve.
  const staged = siblingName(to, 'restore');
  try {
    copyNew(from, staged);
    const maps = await loadEveryMap(open(staged), from);
    syncPath(staged);
    // 2. In place of the target.
    const replaced = await replaceTarget(driver, staged, to, options.replace === true);
    syncPath(dirname(to));
    // 3. It opens as a storage where it is now (and is left closed cleanly: no WAL beside it).
    await open(to).close();
    return { maps, bytes: statSync(to).size, replaced };
  } finally {
    removeDatabase(staged);
  }
}

/** Loads every map (so that a backup whose rows do not decode is refused), then closes the storage. */
async function loadEveryMap<K, V>(storage: SqliteStorage<K, V>, shown: string): Promise<RestoreResult['maps']> {
  const maps: RestoreResult['maps'] = [];
  try {
    for (const hash of storage.hashes()) {
      const map = await storage.load(Uint8Array.from(Buffer.from(hash, 'hex')), hash);
      if (map === undefined) throw new CorruptDatabaseError(`map ${hash} is listed but does not load`);
      maps.push({ hash, updateId: map.updateId });
    }
    return maps;
  } catch (err) {
    throw err instanceof StorageError ? err : new CorruptDatabaseError(`${shown} does not read back: ${(err as Error).message}`, { cause: err });
  } finally {
    await storage.close(); // back to a rollback journal: the file alone is the database
  }
}

async function replaceTarget(driver: Driver, staged: string, to: string, replace: boolean): Promise<RestoreResult['replaced']> {
  if (!existsSync(to)) {
    try {
      linkSync(staged, to);
      return 'nothing';
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code !== 'EEXIST') throw new StorageError('io', `cannot create ${to}: ${(err as Error).message}`, { cause: err });
      // Created meanwhile (a server starting?): an existing target, below.
    }
  }
  const found = examineTarget(driver, to);
  if (found.kind === 'store') {
    if (found.maps > 0 && !replace) throw new StorageError('not-empty', `${to} holds ${found.maps} map(s); restoring over them needs replace`);
    // Through SQLite: one journaled transaction on the target, which a crash rolls back.
    const source = driver.open(staged, { readOnly: true, timeoutMs: 1000 });
    // A server that took the target since examineTarget: better-sqlite3 would retry its step as long as it runs.
    const deadline = Date.now() + 2000;
    const stalled = (): void => {
      if (Date.now() > deadline) throw new StorageError('locked', `${to} was taken by another process (a server starting?); not replaced`);
    };
    try {
      await source.backup(to, { pagesPerStep: MAX_PAGES_PER_STEP, progress: stalled });
    } catch (err) {
      throw fromSqlite(err, `writing ${to}`);
    } finally {
      source.close();
    }
    return found.maps > 0 ? 'store' : 'empty-store';
  }
  if (found.kind === 'other' && !replace) throw new StorageError('not-empty', `${to} is not a syncstate storage (${found.why}); replacing it needs replace`);
  // Not a storage (no server of ours would serve it) or an empty file: the staged file takes its name.
  for (const suffix of ['-wal', '-shm', '-journal', '']) removeFile(`${to}${suffix}`);
  linkSync(staged, to);
  return found.kind === 'empty' ? 'nothing' : 'other-file';
}

type Found = { kind: 'store'; maps: number } | { kind: 'empty' } | { kind: 'other'; why: string };

/** What is at `to`, looked at while holding its lock as a server would: 'locked' when a server holds it. */
function examineTarget(driver: Driver, to: string): Found {
  if (statSync(to).size === 0) return { kind: 'empty' };
  if (!isSqliteFile(to)) return { kind: 'other', why: 'not an SQLite database' };
  let db;
  try {
    db = lockDatabase(driver, to);
  } catch (err) {
    if (err instanceof StorageError && err.code === 'locked') throw err;
    return { kind: 'other', why: (err as Error).message };
  }
  try {
    if (Number(db.value('PRAGMA application_id')) !== APPLICATION_ID) return { kind: 'other', why: 'an SQLite database of another application' };
    const hasMaps = db.value("SELECT count(*) FROM sqlite_schema WHERE type = 'table' AND name = 'maps'") === 1;
    return { kind: 'store', maps: hasMaps ? Number(db.value('SELECT count(*) FROM maps')) : 0 };
  } catch (err) {
    return { kind: 'other', why: (err as Error).message };
  } finally {
    db.close();
  }
}
