// What the storage asks of an SQLite binding (driver.ts chooses one; the
// driver-*.ts files put node:sqlite and better-sqlite3 behind it).

export type SqliteDriverName = 'node:sqlite' | 'better-sqlite3';
export type SqlValue = null | number | bigint | string | Uint8Array;

export interface Statement<P extends unknown[] = SqlValue[], R = unknown> {
  run(...params: P): { changes: number };
  get(...params: P): R | undefined;
  all(...params: P): R[];
}

export interface StatementOptions {
  /** Integer columns as bigint (update ids are u64s). */
  bigints?: boolean;
  /** Rows as their first column's value. */
  pluck?: boolean;
}

/** sqlite3_backup_step's largest step (a step of this size copies everything at once). */
export const MAX_PAGES_PER_STEP = 0x7fff_ffff;

export interface StepOptions {
  /** Pages copied per step; the event loop runs between steps. */
  pagesPerStep: number;
  /** After each step. */
  progress?: (copied: number, total: number) => void;
  /**
   * Stops the owner's transactions until the returned release is called.
   * A binding that steps on another thread (node:sqlite) calls it before
   * each copy starts and releases it after the copy's first step: SQLite
   * answers a step BUSY while the connection is inside a write transaction,
   * and node:sqlite takes a BUSY first step for a failure.
   */
  quiesce?: () => () => void;
}

export interface Connection {
  readonly driver: SqliteDriverName;
  prepare<P extends unknown[] = SqlValue[], R = unknown>(sql: string, options?: StatementOptions): Statement<P, R>;
  exec(sql: string): void;
  /** The first column of the first row `sql` returns (a PRAGMA's value); undefined for no row. */
  value(sql: string): unknown;
  readonly inTransaction: boolean;
  /**
   * SQLite's online backup of the main database into the file `to` (created,
   * or overwritten), a few pages per step. Writes made through this
   * connection meanwhile are carried into the copy by SQLite, so it ends
   * as the database is when the last step runs; when they add pages faster
   * than the steps copy them, the steps grow, so that the copy ends.
   */
  backup(to: string, options: StepOptions): Promise<void>;
  close(): void;
}

export interface Driver {
  readonly name: SqliteDriverName;
  open(path: string, options: { readOnly: boolean; timeoutMs: number }): Connection;
}

/** Runs `fn` in BEGIN IMMEDIATE ... COMMIT; rolls back if it throws. */
export function inTransaction<T>(db: Connection, fn: () => T): T {
  db.exec('BEGIN IMMEDIATE');
  try {
    const result = fn();
    db.exec('COMMIT');
    return result;
  } catch (err) {
    if (db.inTransaction) db.exec('ROLLBACK');
    throw err;
  }
}
