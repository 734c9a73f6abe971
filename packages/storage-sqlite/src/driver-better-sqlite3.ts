// better-sqlite3 behind the storage's Connection (connection.ts). Only its types
// are imported here: driver.ts loads the module itself, when asked for.

import type Database from 'better-sqlite3';
import { type Connection, type Driver, MAX_PAGES_PER_STEP, type SqlValue, type Statement, type StatementOptions, type StepOptions } from './connection.js';

export function betterSqlite3Driver(Sqlite: typeof Database): Driver {
  return {
    name: 'better-sqlite3',
    open(path, { readOnly, timeoutMs }) {
      return new BetterSqlite3Connection(new Sqlite(path, { readonly: readOnly, fileMustExist: readOnly, timeout: timeoutMs }));
    },
  };
}

class BetterSqlite3Connection implements Connection {
  readonly driver = 'better-sqlite3';
  readonly #db: Database.Database;

  constructor(db: Database.Database) {
    this.#db = db;
  }

  prepare<P extends unknown[] = SqlValue[], R = unknown>(sql: string, options: StatementOptions = {}): Statement<P, R> {
    const statement = this.#db.prepare<P, R>(sql);
    if (options.bigints === true) statement.safeIntegers();
    if (options.pluck === true) statement.pluck();
    // better-sqlite3's run/get/all already have the shape of Statement (its run also returns lastInsertRowid).
    return statement as unknown as Statement<P, R>;
  }

  exec(sql: string): void {
    this.#db.exec(sql);
  }

  value(sql: string): unknown {
    return this.#db.prepare(sql).pluck().get();
  }

  get inTransaction(): boolean {
    return this.#db.inTransaction;
  }

  async backup(to: string, options: StepOptions): Promise<void> {
    // Steps run on this thread, between the event loop's turns (setImmediate), never inside
    // one of our transactions: no need to quiesce.
    let pages = options.pagesPerStep;
    let before = Number.POSITIVE_INFINITY;
    await this.#db.backup(to, {
      progress: ({ totalPages, remainingPages }) => {
        options.progress?.(totalPages - remainingPages, totalPages);
        // Commits between steps add pages: a copy that loses ground takes bigger steps, so that it ends.
        if (remainingPages >= before) pages = Math.min(pages * 2, MAX_PAGES_PER_STEP);
        before = remainingPages;
        return pages;
      },
    });
  }

  close(): void {
    this.#db.close();
  }
}
