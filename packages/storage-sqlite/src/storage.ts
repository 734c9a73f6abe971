// SqliteStorage: @syncstate-ts/storage's contract on an embedded SQLite database.
//
// - create: a small map's row, every pair (in push order) and every history
//   entry, in one transaction; a big map in parts, over several
//   transactions, served only once complete (create.ts).
// - commit: one row per history entry, the new values of the changed keys
//   and the map's update id, in one transaction.
// - the history floor: the oldest history rows are deleted with the next
//   write (or within TRIM_DELAY_MS), as the contract allows.
// - load: reads and decodes the map's record in slices (load.ts);
//   concurrent loads of one map share the work.
// Writes of one event-loop turn share a transaction and its fsync (batch.ts).
// Work on big maps yields to the event loop every SLICE_MS, so requests
// for other maps are served meanwhile.

import { encode, toHex } from '@syncstate-ts/codec';
import { type Diff, encodeDiffEntries, type Kind, type Pace, timeSlices } from '@syncstate-ts/core';
import { checkCommit, type MapCommit, type MapStorage, type StoredMap } from '@syncstate-ts/storage';
import { type Connection, inTransaction, type SqliteDriverName } from './connection.js';
import { chooseDriver, type SqliteDriverChoice } from './driver.js';
import { GroupCommit } from './batch.js';
import { type BackupOptions, type BackupResult, copyThrough } from './copy.js';
import { createMap } from './create.js';
import { CorruptDatabaseError, fromSqlite, StorageError, StorageReadOnlyError } from './errors.js';
import { readMap } from './load.js';
import { openDatabase } from './open.js';
import { Statements } from './statements.js';

export interface SqliteStorageOptions<K, V> {
  /** The database file; created (with its schema) when missing unless readOnly. Its folder must exist. */
  path: string;
  key: Kind<K>;
  value: Kind<V>;
  /**
   * true: serve stored maps without writing (create and append reject with
   * StorageReadOnlyError). 'auto': read-write when the file and its folder
   * allow it, else read-only (see `readOnlyReason`). Default false: a file
   * that refuses writes fails the open with StorageReadOnlyError.
   */
  readOnly?: boolean | 'auto';
  /**
   * 'full' (default): each commit is fsynced before a client can see it, so
   * acknowledged changes and their update ids survive power loss too.
   * 'normal': WAL without fsync per commit; survives a process crash, not a
   * power loss (the last changes may be lost and their ids handed out again).
   */
  synchronous?: 'full' | 'normal';
  /** Cap on the file size in pages (PRAGMA max_page_count; 4 KiB pages): beyond it writes fail with StorageFullError. */
  maxPageCount?: number;
  /** Run PRAGMA quick_check at open and refuse a damaged file (default true; O(file size)). */
  check?: boolean;
  /**
   * The SQLite binding. 'auto' (default): node:sqlite where Node has it
   * without an ExperimentalWarning (24.15 and later), else better-sqlite3
   * when it is installed and its addon loads, else node:sqlite (Node 22.16
   * and later). Both give the same file, pragmas and durability.
   */
  driver?: SqliteDriverChoice;
}

/** What the storage knows of a map it created or loaded. */
interface Held {
  readonly id: number;
  readonly pairCount: number;
  /** Pairs held in parts (a big map: its changed values are rows over them); 0 for a map of rows. */
  readonly inParts: number;
  /** The stored update id. */
  storedUpto: bigint;
  /** seq of the next history row. */
  nextSeq: bigint;
}

const TRIM_DELAY_MS = 200;
/** Work on a big map yields to the event loop after this many milliseconds (as the server's registry does). */
const SLICE_MS = 5;
const MAX_ID = (1n << 63n) - 1n;

export class SqliteStorage<K, V> implements MapStorage<K, V> {
  /** A resolved write is in the WAL (and synced with synchronous 'full'): it survives a SIGKILL. */
  readonly durable = true;
  readonly path: string;
  readonly readOnly: boolean;
  /** Why a `readOnly: 'auto'` storage is read-only (the error opening it read-write gave). */
  readonly readOnlyReason: string | undefined;
  /** The SQLite binding in use. */
  readonly driver: SqliteDriverName;
  readonly #key: Kind<K>;
  readonly #value: Kind<V>;
  readonly #db: Connection;
  readonly #sql: Statements;
  readonly #commits: GroupCommit;
  readonly #held = new Map<string, Held>();
  readonly #loading = new Map<string, Promise<StoredMap<K, V> | undefined>>();
  readonly #creating = new Set<string>();
  readonly #trims = new Map<Held, bigint>();
  #trimTimer: NodeJS.Timeout | undefined;
  /** Backups in progress (close stops them first). */
  readonly #backups = new Set<Promise<unknown>>();
  /** The id of the next map created (ids are given here: a big map's rows use it before its maps row exists). */
  #nextId: number;
  #closed: Promise<void> | undefined;

  /** Opens (or creates) the file; throws ForeignFileError, CorruptDatabaseError, SchemaVersionError or StorageError. */
  constructor(options: SqliteStorageOptions<K, V>) {
    this.path = options.path;
    this.#key = options.key;
    this.#value = options.value;
    const driver = chooseDriver(options.driver);
    this.driver = driver.name;
    const open = (readOnly: boolean): Connection =>
      openDatabase({
        driver,
        path: options.path,
        readOnly,
        synchronous: options.synchronous ?? 'full',
        maxPageCount: options.maxPageCount,
        check: options.check ?? true,
        keyKind: options.key.name ?? 'unnamed',
        valueKind: options.value.name ?? 'unnamed',
      });
    let reason: string | undefined;
    let db: Connection;
    try {
      db = open(options.readOnly === true);
    } catch (err) {
      if (options.readOnly !== 'auto' || !(err instanceof StorageReadOnlyError)) throw err;
      reason = err.message;
      db = open(true);
    }
    this.#db = db;
    this.readOnly = options.readOnly === true || reason !== undefined;
    this.readOnlyReason = reason;
    this.#sql = new Statements(this.#db);
    this.#commits = new GroupCommit(this.#db, { pending: () => this.#trims.size > 0, run: () => this.#applyTrims() });
    if (!this.readOnly) this.#dropUnfinished();
    this.#nextId = this.#sql.maxId() + 1;
  }

  /** Hashes (lowercase hex) of the stored maps, in storage order. */
  hashes(): string[] {
    this.#open();
    return this.#sql.hashes().map((h) => toHex(h));
  }

  load(hash: Uint8Array, hashHex: string): Promise<StoredMap<K, V> | undefined> {
    try {
      this.#open();
    } catch (err) {
      return Promise.reject(err);
    }
    let loading = this.#loading.get(hashHex);
    if (loading === undefined) {
      loading = this.#load(hash, hashHex).finally(() => this.#loading.delete(hashHex));
      this.#loading.set(hashHex, loading);
    }
    return loading;
  }

  /** The stored update id, read from the map's row: answers while the map loads. */
  peek(hash: Uint8Array, hashHex: string): Promise<{ updateId: bigint } | undefined> {
    try {
      this.#open();
      const held = this.#held.get(hashHex);
      if (held !== undefined) return Promise.resolve({ updateId: held.storedUpto });
      const row = this.#sql.findMap(hash);
      return Promise.resolve(row === undefined ? undefined : { updateId: row.update_id });
    } catch (err) {
      return Promise.reject(fromSqlite(err, `reading map ${hashHex}`));
    }
  }

  create(hash: Uint8Array, hashHex: string, map: StoredMap<K, V>): Promise<void> {
    const refused = this.#refuseWrites();
    if (refused !== undefined) return refused;
    if (this.#held.has(hashHex) || this.#creating.has(hashHex) || this.#sql.findMap(hash) !== undefined) {
      return Promise.reject(new StorageError('duplicate-map', `map ${hashHex} is stored already`));
    }
    this.#creating.add(hashHex);
    const open = (): void => this.#open();
    const nextId = (): number => this.#nextId++;
    const context = { sql: this.#sql, commits: this.#commits, key: this.#key, value: this.#value, pace: this.#pace(), open, checkId, nextId };
    return createMap(context, hash, hashHex, map)
      .then(({ id, inParts, nextSeq }) => {
        this.#held.set(hashHex, { id, pairCount: map.keys.length, inParts, storedUpto: map.updateId, nextSeq });
      })
      .finally(() => this.#creating.delete(hashHex));
  }

  commit(_hash: Uint8Array, hashHex: string, commit: MapCommit<K, V>): Promise<void> {
    const refused = this.#refuseWrites();
    if (refused !== undefined) return refused;
    const held = this.#held.get(hashHex);
    if (held === undefined) {
      return Promise.reject(new StorageError('unknown-map', `map ${hashHex} was neither created nor loaded by this storage`));
    }
    try {
      checkCommit(hashHex, held.storedUpto, held.pairCount, commit);
      checkId(commit.updateId);
    } catch (err) {
      return Promise.reject(err);
    }
    return this.#commits.run(() => this.#commit(held, commit)).then(() => {
      if (commit.floor !== undefined) this.#trim(held, commit.floor);
    });
  }

  /** Deletes history rows at or below `upto` with the next write, or within TRIM_DELAY_MS. */
  #trim(held: Held, upto: bigint): void {
    const before = this.#trims.get(held);
    if (before === undefined || upto > before) this.#trims.set(held, upto);
    if (this.#trimTimer === undefined) {
      this.#trimTimer = setTimeout(() => {
        this.#trimTimer = undefined;
        if (this.#closed === undefined && this.#trims.size > 0) this.#commits.flush();
      }, TRIM_DELAY_MS);
      this.#trimTimer.unref();
    }
  }

  /**
   * An online backup: a copy of the file at `to` (replaced atomically if it
   * exists), taken through SQLite's backup API a few pages per step while
   * this storage goes on serving. Writes committed meanwhile are in the
   * copy; it is the database as of the last step. See backupSqliteStore.
   */
  backup(to: string, options: BackupOptions = {}): Promise<BackupResult> {
    try {
      this.#open();
    } catch (err) {
      return Promise.reject(err);
    }
    const onProgress = (copied: number, total: number): void => {
      // Closing stops the copy at its next step (the partial file is removed).
      if (this.#closed !== undefined) throw new StorageError('closed', `${this.path} was closed during the backup`);
      options.onProgress?.(copied, total);
    };
    const quiesce = (): (() => void) => this.#commits.hold();
    const running = copyThrough(this.#db, chooseDriver(this.driver), this.path, to, { ...options, onProgress }, quiesce);
    const tracked = running.catch(() => undefined);
    this.#backups.add(tracked);
    void tracked.finally(() => this.#backups.delete(tracked));
    return running;
  }

  /** Stores what is pending, then closes the file. Idempotent. */
  close(): Promise<void> {
    this.#closed ??= (async () => {
      clearTimeout(this.#trimTimer);
      await Promise.all(this.#backups);
      if (!this.readOnly && (this.#commits.pending > 0 || this.#trims.size > 0)) this.#commits.flush();
      // Back to a rollback journal (this checkpoints and removes the WAL): the
      // file alone is then the whole database, readable from a read-only folder.
      try {
        if (!this.readOnly) this.#db.exec('PRAGMA journal_mode = DELETE');
      } finally {
        this.#db.close();
      }
      this.#held.clear();
    })();
    return this.#closed;
  }

  async #load(hash: Uint8Array, hashHex: string): Promise<StoredMap<K, V> | undefined> {
    const doing = `loading map ${hashHex}`;
    let loaded;
    let row;
    try {
      row = this.#sql.findMap(hash);
      if (row === undefined) return undefined;
      const open = (): void => this.#open();
      loaded = await readMap({ sql: this.#sql, key: this.#key, value: this.#value, pace: this.#pace(), open }, row);
    } catch (err) {
      const mapped = fromSqlite(err, doing);
      if (mapped instanceof StorageError) throw mapped;
      throw new CorruptDatabaseError(`map ${hashHex} in ${this.path} does not read back: ${(err as Error).message}`, { cause: err });
    }
    const { stored, inParts, nextSeq } = loaded;
    this.#held.set(hashHex, { id: Number(row.id), pairCount: stored.keys.length, inParts, storedUpto: row.update_id, nextSeq });
    return stored;
  }

  #commit(held: Held, commit: MapCommit<K, V>): (() => void) | undefined {
    const upto = commit.updateId;
    let seq = held.nextSeq;
    for (const entry of commit.entries) this.#insertEntry(held.id, seq++, entry);
    for (const { slot, key, value } of commit.changed) {
      if (held.inParts > 0) {
        // A big map: a changed value is a row over its part's.
        this.#sql.upsertPair(held.id, this.#encodeKey(key), slot, this.#encodeValue(value));
      } else if (this.#sql.updatePair(held.id, this.#encodeKey(key), this.#encodeValue(value)) !== 1) {
        throw new StorageError('out-of-order', `commit names a key that is not in the stored map`);
      }
    }
    this.#sql.setUpdateId(held.id, upto);
    return () => {
      held.storedUpto = upto;
      held.nextSeq = seq;
    };
  }

  #insertEntry(id: number, seq: bigint, entry: Diff<K, V>): void {
    const pairs = encodeDiffEntries(entry, this.#key, this.#value);
    this.#sql.insertHistory(id, seq, checkId(entry.fromUpdateId), checkId(entry.uptoUpdateId), pairs);
  }

  #applyTrims(): void {
    const trims = [...this.#trims];
    this.#trims.clear();
    for (const [held, upto] of trims) this.#sql.trim(held.id, upto > MAX_ID ? MAX_ID : upto);
  }

  /** Deletes the rows of big maps whose creation a crash interrupted (never answered InitSuccess, so no client knows them). */
  #dropUnfinished(): void {
    const ids = this.#sql.unfinished();
    if (ids.length === 0) return;
    try {
      inTransaction(this.#db, () => {
        for (const id of ids) this.#sql.dropUnfinished(id);
      });
    } catch (err) {
      this.#db.close();
      throw fromSqlite(err, `removing the rows of ${ids.length} map(s) whose creation did not finish`);
    }
  }

  #pace(): Pace {
    return timeSlices({ sliceMs: SLICE_MS });
  }

  #refuseWrites(): Promise<never> | undefined {
    if (this.#closed !== undefined) return Promise.reject(new StorageError('closed', `${this.path} is closed`));
    if (this.readOnly) {
      const why = this.readOnlyReason === undefined ? '' : ` (${this.readOnlyReason})`;
      return Promise.reject(new StorageReadOnlyError(`${this.path} is open read-only${why}; the change was not stored`));
    }
    return undefined;
  }

  #open(): void {
    if (this.#closed !== undefined) throw new StorageError('closed', `${this.path} is closed`);
  }

  #encodeKey(k: K): Uint8Array {
    return encode(this.#key.schema, k);
  }

  #encodeValue(v: V): Uint8Array {
    return encode(this.#value.schema, v);
  }
}

/** Shorthand for `new SqliteStorage(options)`. */
export function openSqliteStorage<K, V>(options: SqliteStorageOptions<K, V>): SqliteStorage<K, V> {
  return new SqliteStorage(options);
}

function checkId(id: bigint): bigint {
  if (id > MAX_ID) throw new StorageError('update-id-range', `update id ${id} is above 2^63 - 1, which SQLite cannot store`);
  return id;
}

