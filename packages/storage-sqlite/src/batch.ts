// Group commit: writes requested in the same turn of the event loop share
// one transaction, hence one sync to disk. The registry serves each map one
// event at a time, so a map never has two writes in flight; writes of
// different maps coalesce. With several writes in a batch each runs in its
// own savepoint, so one failing write is undone alone; a failing COMMIT
// fails them all. Nothing resolves before COMMIT has returned.

import type { Connection, Statement } from './connection.js';
import { fromSqlite } from './errors.js';

/** Runs inside the transaction; returns what to do once it is durable (update in-memory state). */
export type Write = () => (() => void) | undefined;

/** Work done inside a batch's transaction before the writes (trims); its failures are swallowed. */
export interface Housekeeping {
  pending(): boolean;
  run(): void;
}

interface Task {
  write: Write;
  resolve: () => void;
  reject: (err: unknown) => void;
}

interface Done {
  task: Task;
  after: (() => void) | undefined;
}

export class GroupCommit {
  readonly #db: Connection;
  readonly #housekeeping: Housekeeping;
  readonly #sql: Record<'begin' | 'commit' | 'rollback' | 'savepoint' | 'release' | 'undo', Statement>;
  #pending: Task[] = [];
  #scheduled: NodeJS.Immediate | undefined;
  #transactions = 0;
  #held = 0;

  /** With synchronous=FULL, SQLite has synced the WAL when COMMIT returns. */
  constructor(db: Connection, housekeeping: Housekeeping) {
    this.#db = db;
    this.#housekeeping = housekeeping;
    this.#sql = {
      begin: db.prepare('BEGIN IMMEDIATE'),
      commit: db.prepare('COMMIT'),
      rollback: db.prepare('ROLLBACK'),
      savepoint: db.prepare('SAVEPOINT w'),
      release: db.prepare('RELEASE w'),
      undo: db.prepare('ROLLBACK TO w'),
    };
  }

  /** Resolves once `write` is committed (on disk); rejects with a StorageError and leaves nothing of it. */
  run(write: Write): Promise<void> {
    return new Promise<void>((resolve, reject) => {
      this.#pending.push({ write, resolve, reject });
      if (this.#held === 0) this.#scheduled ??= setImmediate(() => this.flush());
    });
  }

  /**
   * Starts no transaction until the returned release is called: writes wait
   * meanwhile. node:sqlite runs a backup's steps on another thread, and it
   * fails a backup whose first step meets one of our transactions (StepOptions.quiesce).
   */
  hold(): () => void {
    this.#held++;
    let released = false;
    return () => {
      if (released) return;
      released = true;
      this.#held--;
      if (this.#held === 0 && (this.#pending.length > 0 || this.#housekeeping.pending())) {
        this.#scheduled ??= setImmediate(() => this.flush());
      }
    };
  }

  get pending(): number {
    return this.#pending.length;
  }

  /** Transactions committed so far. */
  get transactions(): number {
    return this.#transactions;
  }

  /** Commits everything pending now (also used by close and by housekeeping-only flushes). */
  flush(): void {
    if (this.#scheduled !== undefined) clearImmediate(this.#scheduled);
    this.#scheduled = undefined;
    if (this.#held > 0) return; // the release flushes
    const tasks = this.#pending;
    this.#pending = [];
    const failed: Array<{ task: Task; err: unknown }> = [];
    let done: Done[] = [];
    let queue = tasks.slice();
    const begin = (): boolean => {
      try {
        this.#sql.begin.run();
        return true;
      } catch (err) {
        const e = fromSqlite(err, 'starting a transaction');
        for (const t of queue) t.reject(e);
        for (const f of failed) f.task.reject(f.err);
        return false;
      }
    };

    if (!begin()) return;
    // Housekeeping first: if it costs the transaction, the writes still get theirs.
    if (this.#housekeeping.pending() && !this.#guarded(() => this.#housekeeping.run()) && !this.#db.inTransaction && !begin()) return;
    const guard = tasks.length > 1;
    while (queue.length > 0) {
      const task = queue.shift()!;
      const outcome = this.#try(task, guard);
      if (outcome.ok) {
        done.push({ task, after: outcome.after });
        continue;
      }
      failed.push({ task, err: outcome.err });
      if (!this.#db.inTransaction) {
        // SQLite rolled the whole transaction back (SQLITE_FULL, I/O errors):
        // the writes before this one are gone too; run them again in a new one.
        queue = [...done.map((d) => d.task), ...queue];
        done = [];
        if (queue.length > 0 && !begin()) return;
      }
    }
    if (this.#db.inTransaction) {
      try {
        this.#sql.commit.run();
        this.#transactions++;
      } catch (err) {
        if (this.#db.inTransaction) this.#sql.rollback.run();
        const e = fromSqlite(err, 'committing');
        for (const d of done) failed.push({ task: d.task, err: e });
        done = [];
      }
    }
    for (const { task, after } of done) {
      after?.();
      task.resolve();
    }
    for (const { task, err } of failed) task.reject(err);
  }

  /** Runs one write, in a savepoint when others share the transaction. */
  #try(task: Task, guard: boolean): { ok: true; after: (() => void) | undefined } | { ok: false; err: unknown } {
    let after: (() => void) | undefined;
    let error: unknown;
    const ok = guard
      ? this.#guarded(() => (after = task.write()), (err) => (error = err))
      : this.#unguarded(() => (after = task.write()), (err) => (error = err));
    return ok ? { ok: true, after } : { ok: false, err: fromSqlite(error, 'storing') };
  }

  /** Runs `fn` in a savepoint; on failure undoes it (when the transaction survived) and returns false. */
  #guarded(fn: () => void, onError?: (err: unknown) => void): boolean {
    this.#sql.savepoint.run();
    try {
      fn();
      this.#sql.release.run();
      return true;
    } catch (err) {
      onError?.(err);
      if (this.#db.inTransaction) {
        this.#sql.undo.run();
        this.#sql.release.run();
      }
      return false;
    }
  }

  /** A batch's only write: on failure the whole transaction is rolled back. */
  #unguarded(fn: () => void, onError: (err: unknown) => void): boolean {
    try {
      fn();
      return true;
    } catch (err) {
      onError(err);
      if (this.#db.inTransaction) this.#sql.rollback.run();
      return false;
    }
  }
}
