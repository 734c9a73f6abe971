// Opens a storage file: refuses what is not ours (before SQLite may write a
// byte to it), creates a fresh file, migrates an older one, and sets the
// durability pragmas. Every setting the storage relies on is set here, not
// left to a binding's build defaults (better-sqlite3 and node:sqlite differ
// in cache size and WAL synchronous default).

import { closeSync, existsSync, openSync, readSync, statSync } from 'node:fs';
import { type Connection, type Driver, inTransaction } from './connection.js';
import {
  CorruptDatabaseError,
  ForeignFileError,
  fromSqlite,
  SchemaVersionError,
  sqliteCode,
  StorageError,
  StorageReadOnlyError,
} from './errors.js';
import { APPLICATION_ID, CURRENT_SCHEMA, MIGRATIONS, REQUIRED_TABLES, SCHEMA_VERSION } from './schema.js';

export interface OpenOptions {
  driver: Driver;
  path: string;
  readOnly: boolean;
  synchronous: 'full' | 'normal';
  maxPageCount: number | undefined;
  check: boolean;
  keyKind: string;
  valueKind: string;
}

const MAGIC = 'SQLite format 3\0';

/** Pages of cache (negative: KiB): better-sqlite3's build default, set for node:sqlite (2 MiB by default) too. */
const CACHE_KIB = 16_000;

export function openDatabase(o: OpenOptions): Connection {
  checkHeader(o.path, o.readOnly);
  let db: Connection;
  try {
    db = o.driver.open(o.path, { readOnly: o.readOnly, timeoutMs: 1000 });
  } catch (err) {
    throw openFailure(err, o);
  }
  try {
    // One process owns a storage: a second server on the same file would
    // reuse update ids. EXCLUSIVE also keeps WAL's index in process memory.
    if (!o.readOnly) db.exec('PRAGMA locking_mode = EXCLUSIVE');
    db.exec(`PRAGMA cache_size = -${CACHE_KIB}`);
    const state = inspect(db, o.path);
    if (o.check && state !== 'fresh') quickCheck(db, o.path);
    if (state === 'fresh' || state < SCHEMA_VERSION) {
      if (o.readOnly) {
        throw new StorageReadOnlyError(`${o.path} has schema version ${state}; open it read-write once to migrate it`);
      }
      // Before WAL: in rollback-journal mode a failed migration leaves the file byte for byte as it was.
      const from = state === 'fresh' ? 0 : state;
      inTransaction(db, () => (from === 0 ? create(db) : migrate(db, from)));
    }
    if (!o.readOnly) {
      if (db.value('PRAGMA journal_mode = WAL') !== 'wal') {
        throw new StorageError('io', `${o.path}: SQLite refused WAL mode`);
      }
      // FULL: every commit is on the disk (fsync of the WAL) before a client can see it.
      db.exec(`PRAGMA synchronous = ${o.synchronous === 'full' ? 'FULL' : 'NORMAL'}`);
      db.exec('PRAGMA journal_size_limit = 67108864');
      // A checkpoint runs inside the commit that crosses the threshold, on the
      // event loop: at SQLite's default 1000 pages (4 MiB) it took ~20 ms
      // (measured while storing a million pairs); at 256 pages, ~9 ms, same total.
      db.exec('PRAGMA wal_autocheckpoint = 256');
      if (o.maxPageCount !== undefined) db.exec(`PRAGMA max_page_count = ${o.maxPageCount}`);
    }
    checkKinds(db, o);
    // Take the write lock now (EXCLUSIVE keeps it): a second owner fails at open, not at its first write.
    if (!o.readOnly) db.exec('BEGIN IMMEDIATE; COMMIT');
    return db;
  } catch (err) {
    db.close();
    throw openFailure(err, o);
  }
}

function openFailure(err: unknown, o: OpenOptions): unknown {
  const code = sqliteCode(err) ?? '';
  if (o.readOnly && existsSync(`${o.path}-wal`) && /CANTOPEN|IOERR|BUSY/.test(code)) {
    return new StorageReadOnlyError(
      `${o.path} has a write-ahead log left by a run that did not close cleanly, and reading it needs write access ` +
        'to the folder; open it read-write once to recover it',
      { cause: err },
    );
  }
  // The header said SQLite, so a file SQLite cannot read is a damaged one.
  if (code.startsWith('SQLITE_NOTADB')) return new CorruptDatabaseError(`${o.path} is damaged: ${(err as Error).message}`, { cause: err });
  return fromSqlite(err, `opening ${o.path}`);
}

/** Refuses a file that is not SQLite before SQLite opens it (it would not overwrite it, but say less). */
export function checkHeader(path: string, readOnly: boolean): void {
  let size: number;
  try {
    size = statSync(path).size;
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'ENOENT' && !readOnly) return; // a new file
    throw new StorageError('io', `cannot open ${path}: ${(err as Error).message}`, { cause: err });
  }
  if (size === 0) {
    // SQLite would take it as a new database and hand out update ids again;
    // a file we create is never empty (the schema is written at once).
    throw new CorruptDatabaseError(
      `${path} exists but is empty (0 bytes): whatever maps it held are gone, and it is not recreated silently ` +
        '(update ids would be handed out again); restore it from a backup, or delete it to start with no maps',
    );
  }
  const head = Buffer.alloc(MAGIC.length);
  const fd = openSync(path, 'r');
  try {
    readSync(fd, head, 0, head.length, 0);
  } finally {
    closeSync(fd);
  }
  if (head.toString('latin1') !== MAGIC) {
    throw new ForeignFileError('not-sqlite', `${path} is not an SQLite database; refusing to touch it`);
  }
}

/** 'fresh' for an empty SQLite file, else our schema version; throws for anything else. */
export function inspect(db: Connection, path: string): 'fresh' | number {
  const appId = Number(db.value('PRAGMA application_id'));
  const version = Number(db.value('PRAGMA user_version'));
  const tables = db.prepare<[], string>("SELECT name FROM sqlite_schema WHERE type = 'table'", { pluck: true }).all().sort();
  if (appId === 0 && version === 0 && tables.length === 0) return 'fresh';
  if (appId !== APPLICATION_ID) {
    const id = `0x${(appId >>> 0).toString(16).padStart(8, '0')}`;
    throw new ForeignFileError(
      'foreign-database',
      `${path} is an SQLite database of another application (application_id ${id}, tables: ${tables.join(', ') || 'none'}); refusing to touch it`,
    );
  }
  if (version > SCHEMA_VERSION) throw new SchemaVersionError(version, SCHEMA_VERSION);
  if (version < 1) throw new CorruptDatabaseError(`${path} carries our application_id but no schema version`);
  if (version === SCHEMA_VERSION) {
    const missing = REQUIRED_TABLES.filter((t) => !tables.includes(t));
    if (missing.length > 0) throw new CorruptDatabaseError(`${path} lacks the tables ${missing.join(', ')}`);
  }
  return version;
}

function quickCheck(db: Connection, path: string): void {
  const rows = db.prepare<[], string>('PRAGMA quick_check(5)', { pluck: true }).all();
  if (rows.length !== 1 || rows[0] !== 'ok') throw new CorruptDatabaseError(`${path} is damaged: ${rows.join('; ')}`);
}

function create(db: Connection): void {
  db.exec(CURRENT_SCHEMA);
  db.exec(`PRAGMA application_id = ${APPLICATION_ID}`);
  db.exec(`PRAGMA user_version = ${SCHEMA_VERSION}`);
}

function migrate(db: Connection, from: number): void {
  for (let v = from; v < SCHEMA_VERSION; v++) {
    const m = MIGRATIONS[v - 1];
    if (m === undefined || m.from !== v) throw new StorageError('sqlite', `no migration from schema version ${v}`);
    m.up(db);
    db.exec(`PRAGMA user_version = ${v + 1}`);
  }
}

/** Rows hold bincode of the kinds they were written with: another kind would misread them. */
function checkKinds(db: Connection, o: OpenOptions): void {
  const get = db.prepare<[string], string>('SELECT value FROM meta WHERE name = ?', { pluck: true });
  for (const [name, kind] of [
    ['key_kind', o.keyKind],
    ['value_kind', o.valueKind],
  ] as const) {
    const stored = get.get(name);
    if (stored === undefined) {
      if (!o.readOnly) db.prepare('INSERT INTO meta (name, value) VALUES (?, ?)').run(name, kind);
    } else if (stored !== kind) {
      throw new StorageError('kind-mismatch', `${o.path} holds ${name} ${stored}; this storage was given ${kind}`);
    }
  }
}
