// node:sqlite behind the storage's Connection (connection.ts). The module object
// is handed in by driver.ts, which loads it when first asked for; the types
// below are the part of its API we use (@types/node 20 has none).

import { type Connection, type Driver, MAX_PAGES_PER_STEP, type SqlValue, type Statement, type StatementOptions, type StepOptions } from './connection.js';

interface NodeStatementSync {
  run(...params: unknown[]): { changes: number | bigint };
  get(...params: unknown[]): unknown;
  all(...params: unknown[]): unknown[];
  setReadBigInts(enabled: boolean): void;
  setReturnArrays(enabled: boolean): void;
}

interface NodeDatabaseSync {
  prepare(sql: string): NodeStatementSync;
  exec(sql: string): void;
  close(): void;
  readonly isTransaction: boolean;
  enableDefensive?(enabled: boolean): void;
}

export interface NodeSqliteModule {
  DatabaseSync: new (path: string, options?: { readOnly?: boolean; timeout?: number }) => NodeDatabaseSync;
  StatementSync: { prototype: object };
  backup(
    source: NodeDatabaseSync,
    path: string,
    options?: { rate?: number; progress?: (p: { totalPages: number; remainingPages: number }) => void },
  ): Promise<number>;
}

export function nodeSqliteDriver(sqlite: NodeSqliteModule): Driver {
  return {
    name: 'node:sqlite',
    open(path, { readOnly, timeoutMs }) {
      const db = new sqlite.DatabaseSync(path, { readOnly, timeout: timeoutMs });
      // As better-sqlite3 opens every database: no writes to the schema table and the like
      // (Node 22 has no enableDefensive; nothing the storage does needs it).
      db.enableDefensive?.(true);
      return new NodeSqliteConnection(sqlite, db);
    },
  };
}

class NodeSqliteConnection implements Connection {
  readonly driver = 'node:sqlite';
  readonly #sqlite: NodeSqliteModule;
  readonly #db: NodeDatabaseSync;

  constructor(sqlite: NodeSqliteModule, db: NodeDatabaseSync) {
    this.#sqlite = sqlite;
    this.#db = db;
  }

  prepare<P extends unknown[] = SqlValue[], R = unknown>(sql: string, options: StatementOptions = {}): Statement<P, R> {
    const statement = this.#db.prepare(sql);
    if (options.bigints === true) statement.setReadBigInts(true);
    if (options.pluck !== true) return new Rows<P, R>(statement);
    statement.setReturnArrays(true);
    return new FirstColumn<P, R>(statement);
  }

  exec(sql: string): void {
    this.#db.exec(sql);
  }

  value(sql: string): unknown {
    const statement = this.#db.prepare(sql);
    statement.setReturnArrays(true);
    return (statement.get() as unknown[] | undefined)?.[0];
  }

  get inTransaction(): boolean {
    return this.#db.isTransaction;
  }

  async backup(to: string, options: StepOptions): Promise<void> {
    // node:sqlite runs each step on libuv's thread pool (hence quiesce), all of the same size.
    // Commits between steps add pages: a copy that takes twice the steps the
    // database had pages for when it began is losing ground, and starts again
    // with bigger steps (at worst one step for everything), so that it ends.
    for (let pages = options.pagesPerStep; ; pages = Math.min(pages * 16, MAX_PAGES_PER_STEP)) {
      let steps = 0;
      let first: number | undefined;
      let losing = false;
      const release = options.quiesce?.();
      try {
        await this.#sqlite.backup(this.#db, to, {
          rate: pages,
          progress: ({ totalPages, remainingPages }) => {
            release?.();
            options.progress?.(totalPages - remainingPages, totalPages);
            steps++;
            first ??= totalPages;
            if (pages < MAX_PAGES_PER_STEP && steps > 2 * Math.ceil(first / pages) + 8) {
              losing = true;
              throw new Error('the copy is losing ground to the writes');
            }
          },
        });
        return;
      } catch (err) {
        if (!losing) throw err;
      } finally {
        release?.();
      }
    }
  }

  close(): void {
    this.#db.close();
  }
}

class Rows<P extends unknown[], R> implements Statement<P, R> {
  readonly #statement: NodeStatementSync;

  constructor(statement: NodeStatementSync) {
    this.#statement = statement;
  }

  run(...params: P): { changes: number } {
    return { changes: Number(this.#statement.run(...params).changes) };
  }

  get(...params: P): R | undefined {
    return this.#statement.get(...params) as R | undefined;
  }

  all(...params: P): R[] {
    return this.#statement.all(...params) as R[];
  }
}

class FirstColumn<P extends unknown[], R> implements Statement<P, R> {
  readonly #statement: NodeStatementSync;

  constructor(statement: NodeStatementSync) {
    this.#statement = statement;
  }

  run(...params: P): { changes: number } {
    return { changes: Number(this.#statement.run(...params).changes) };
  }

  get(...params: P): R | undefined {
    return (this.#statement.get(...params) as R[] | undefined)?.[0];
  }

  all(...params: P): R[] {
    return (this.#statement.all(...params) as R[][]).map((row) => row[0]!);
  }
}
