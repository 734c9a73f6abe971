// Group commit (src/batch.ts): writes of one turn share a transaction; a
// failing write fails alone, whether SQLite undid only its statement or the
// whole transaction; in-memory updates run only for committed writes. On
// each SQLite binding this Node has.
import { describe, expect, it } from 'vitest';
import { StorageFullError } from '@syncstate-ts/storage-sqlite';
import { GroupCommit } from '../src/batch.js';
import { drivers, openRaw } from './helpers/drivers.js';

function setup(driver: (typeof drivers)[number], maxPageCount?: number) {
  const db = openRaw(driver, ':memory:');
  db.exec('CREATE TABLE t (name TEXT PRIMARY KEY, data BLOB)');
  if (maxPageCount !== undefined) db.exec(`PRAGMA max_page_count = ${maxPageCount}`);
  let trims = 0;
  const commits = new GroupCommit(db, { pending: () => trims > 0, run: () => void trims-- });
  const insert = db.prepare('INSERT INTO t (name, data) VALUES (?, ?)');
  const names = () => db.prepare('SELECT name FROM t ORDER BY name', { pluck: true }).all();
  return { db, commits, insert, names, syncs: () => commits.transactions, addTrim: () => void trims++, trims: () => trims };
}

describe.each(drivers)('GroupCommit (%s)', (driver) => {
  it('writes of one turn commit together, with one transaction, and run their after-commit steps', async () => {
    const s = setup(driver);
    const applied: string[] = [];
    const write = (name: string) => () => {
      s.insert.run(name, null);
      return () => void applied.push(name);
    };
    await Promise.all(['a', 'b', 'c'].map((n) => s.commits.run(write(n))));
    expect(s.names()).toEqual(['a', 'b', 'c']);
    expect(applied).toEqual(['a', 'b', 'c']);
    expect(s.syncs()).toBe(1);
    await s.commits.run(write('d'));
    expect(s.syncs()).toBe(2);
  });

  it('a throwing write is undone alone; its after-commit step never runs', async () => {
    const s = setup(driver);
    const applied: string[] = [];
    const results = await Promise.allSettled([
      s.commits.run(() => {
        s.insert.run('a', null);
        return () => void applied.push('a');
      }),
      s.commits.run(() => {
        s.insert.run('b', null);
        throw new Error('boom');
      }),
      s.commits.run(() => {
        s.insert.run('a', null); // duplicate key: SQLITE_CONSTRAINT
        return () => void applied.push('dup');
      }),
      s.commits.run(() => {
        s.insert.run('c', null);
        return () => void applied.push('c');
      }),
    ]);
    expect(results.map((r) => r.status)).toEqual(['fulfilled', 'rejected', 'rejected', 'fulfilled']);
    expect(s.names()).toEqual(['a', 'c']);
    expect(applied).toEqual(['a', 'c']);
    expect((results[2] as PromiseRejectedResult).reason).toMatchObject({ name: 'StorageError', code: 'sqlite' });
  });

  it('a full database fails only the write that did not fit', async () => {
    const s = setup(driver, 8);
    const small = (name: string) => () => {
      s.insert.run(name, new Uint8Array(10));
      return undefined;
    };
    const results = await Promise.allSettled([
      s.commits.run(small('a')),
      s.commits.run(() => {
        s.insert.run('big', new Uint8Array(200_000));
        return undefined;
      }),
      s.commits.run(small('b')),
    ]);
    expect(results.map((r) => r.status)).toEqual(['fulfilled', 'rejected', 'fulfilled']);
    expect((results[1] as PromiseRejectedResult).reason).toBeInstanceOf(StorageFullError);
    expect(s.names()).toEqual(['a', 'b']);
  });

  it('housekeeping runs inside the next transaction, and alone on flush', async () => {
    const s = setup(driver);
    s.addTrim();
    s.commits.flush();
    expect([s.syncs(), s.trims()]).toEqual([1, 0]);
    s.addTrim();
    await s.commits.run(() => undefined);
    expect([s.syncs(), s.trims()]).toEqual([2, 0]);
  });
});
