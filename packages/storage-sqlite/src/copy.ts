// Copying a storage file through SQLite's online backup API (backup.ts has
// the public functions), and the file chores around it.
//
// The copy runs a few pages per step through a connection to the source;
// writes made through that connection meanwhile are carried into the copy
// by SQLite, so it is the database as of its last step, at a commit
// boundary. It is written beside the target under a temporary name, turned
// into a standalone rollback-journal file (the copy of a WAL database says
// WAL in its header), checked, synced, and renamed into place: the target is
// never half written.

import { randomBytes } from 'node:crypto';
import { closeSync, constants, copyFileSync, existsSync, fsyncSync, openSync, readSync, renameSync, statSync, unlinkSync } from 'node:fs';
import { basename, dirname, join, resolve } from 'node:path';
import type { Connection, Driver } from './connection.js';
import type { SqliteDriverChoice } from './driver.js';
import { CorruptDatabaseError, fromSqlite, StorageError } from './errors.js';

export interface BackupOptions {
  /** Pages (4 KiB each) copied per step; the event loop runs between steps. Default 256 (1 MiB). */
  pagesPerStep?: number;
  /** Called after each step with the pages copied so far and the database's page count. */
  onProgress?: (copied: number, total: number) => void;
  /** The SQLite binding, when the source is a path (a storage uses its own). Default 'auto'. */
  driver?: SqliteDriverChoice;
}

export interface BackupResult {
  /** The backup file (absolute). */
  path: string;
  bytes: number;
  /** Maps in the backup. */
  maps: number;
}

const DEFAULT_PAGES_PER_STEP = 256;

/**
 * The backup through an open connection to `source`, into `to` (replaced
 * if it exists). `quiesce` stops the storage's own transactions while a
 * copy starts (StepOptions.quiesce says why).
 */
export async function copyThrough(
  db: Connection,
  driver: Driver,
  source: string,
  to: string,
  options: BackupOptions,
  quiesce?: () => () => void,
): Promise<BackupResult> {
  const target = resolve(to);
  refuseTarget(driver, target, source);
  const partial = siblingName(target, 'partial');
  try {
    try {
      await db.backup(partial, {
        pagesPerStep: options.pagesPerStep ?? DEFAULT_PAGES_PER_STEP,
        ...(options.onProgress === undefined ? {} : { progress: options.onProgress }),
        ...(quiesce === undefined ? {} : { quiesce }),
      });
    } catch (err) {
      throw fromSqlite(err, `copying ${source} to ${partial}`);
    }
    const maps = standalone(driver, partial);
    syncPath(partial);
    renameSync(partial, target);
    syncPath(dirname(target));
    return { path: target, bytes: statSync(target).size, maps };
  } catch (err) {
    removeDatabase(partial);
    throw err instanceof StorageError ? err : new StorageError('io', `backup to ${target} failed: ${(err as Error).message}`, { cause: err });
  }
}

/** Makes the copy a rollback-journal file, checks it, and counts its maps. */
function standalone(driver: Driver, path: string): number {
  const db = driver.open(path, { readOnly: false, timeoutMs: 1000 });
  try {
    db.exec('PRAGMA locking_mode = EXCLUSIVE');
    if (db.value('PRAGMA journal_mode = DELETE') !== 'delete') throw new StorageError('io', `${path}: SQLite kept it in WAL mode`);
    const check = db.prepare<[], string>('PRAGMA quick_check(5)', { pluck: true }).all();
    if (check.length !== 1 || check[0] !== 'ok') throw new CorruptDatabaseError(`the copy ${path} is damaged: ${check.join('; ')}`);
    return Number(db.value('SELECT count(*) FROM maps'));
  } catch (err) {
    throw fromSqlite(err, `checking the copy ${path}`);
  } finally {
    db.close();
  }
}

/** The target may not be the source, nor a database another process holds (a server's). */
function refuseTarget(driver: Driver, target: string, source: string): void {
  if (!existsSync(dirname(target))) throw new StorageError('io', `cannot write ${target}: its folder does not exist`);
  if (!existsSync(target)) return;
  if (target === resolve(source) || sameFile(target, source)) throw new StorageError('io', `refusing to write a backup of ${source} over itself`);
  if (statSync(target).isDirectory()) throw new StorageError('io', `${target} is a folder`);
  if (!isSqliteFile(target)) return;
  try {
    lockDatabase(driver, target, 0).close();
  } catch (err) {
    // A damaged file or not a database: replacing it is what was asked.
    if (err instanceof StorageError && err.code === 'locked') throw err;
  }
}

/**
 * Opens `path` and takes its lock as a server does (EXCLUSIVE, kept until
 * close): throws StorageError 'locked' if another process holds it.
 */
export function lockDatabase(driver: Driver, path: string, timeoutMs = 1000): Connection {
  let db: Connection;
  try {
    db = driver.open(path, { readOnly: false, timeoutMs });
  } catch (err) {
    throw fromSqlite(err, `opening ${path}`);
  }
  try {
    db.exec('PRAGMA locking_mode = EXCLUSIVE');
    db.exec('BEGIN IMMEDIATE; COMMIT');
    return db;
  } catch (err) {
    db.close();
    const mapped = fromSqlite(err, `locking ${path}`);
    if (mapped instanceof StorageError && mapped.code === 'locked') {
      throw new StorageError('locked', `${path} is in use by another process (a server serving it?)`, { cause: err });
    }
    throw mapped;
  }
}

/** A temporary name beside `path`, for a file that becomes `path` once complete. */
export function siblingName(path: string, what: string): string {
  return join(dirname(path), `.${basename(path)}.${process.pid}-${randomBytes(4).toString('hex')}.${what}`);
}

const MAGIC = 'SQLite format 3\0';

export function isSqliteFile(path: string): boolean {
  const head = Buffer.alloc(MAGIC.length);
  const fd = openSync(path, 'r');
  try {
    return readSync(fd, head, 0, head.length, 0) === head.length && head.toString('latin1') === MAGIC;
  } finally {
    closeSync(fd);
  }
}

/** A byte copy to a new file. */
export function copyNew(from: string, to: string): void {
  try {
    copyFileSync(from, to, constants.COPYFILE_EXCL);
  } catch (err) {
    throw new StorageError('io', `cannot copy ${from} to ${to}: ${(err as Error).message}`, { cause: err });
  }
}

export function sameFile(a: string, b: string): boolean {
  try {
    const sa = statSync(a);
    const sb = statSync(b);
    return sa.dev === sb.dev && sa.ino === sb.ino;
  } catch {
    return false;
  }
}

/** fsync of a file or a folder (a folder: so that a rename or link in it is durable). */
export function syncPath(path: string): void {
  const fd = openSync(path, 'r');
  try {
    fsyncSync(fd);
  } finally {
    closeSync(fd);
  }
}

/** Removes a database file and what SQLite keeps beside it. */
export function removeDatabase(path: string): void {
  for (const suffix of ['', '-journal', '-wal', '-shm']) removeFile(`${path}${suffix}`);
}

export function removeFile(path: string): void {
  try {
    unlinkSync(path);
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code !== 'ENOENT') throw err;
  }
}
