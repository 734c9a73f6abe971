// The two SQLite bindings (src/driver.ts): which one a storage chooses, the
// same settings and the same file on both, and nothing loaded or printed by
// importing the package. CI's Node 24 run has both bindings; Node 20 has
// better-sqlite3 only.
import { execFileSync } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
import { availableDrivers } from '@syncstate-ts/storage-sqlite';
import { chooseDriver, nodeSqliteIsQuiet } from '../src/driver.js';
import { openDatabase } from '../src/open.js';
import { drivers, expectsNodeSqlite, openRaw } from './helpers/drivers.js';
import { commitMap, createMap, hex, loadMap, masterMap, openStorage, perTest } from './helpers/setup.js';

const { folder, dbPath } = perTest('drivers');

describe('the bindings this Node has', () => {
  it('better-sqlite3 (installed in the workspace) loads, and node:sqlite from Node 22.16', () => {
    expect(drivers).toContain('better-sqlite3');
    expect(drivers.includes('node:sqlite')).toBe(expectsNodeSqlite());
    expect(availableDrivers()).toEqual(drivers);
  });

  it("'auto' takes node:sqlite where it loads without a warning (Node 24.15 on), else better-sqlite3 if it loads, else node:sqlite", () => {
    expect(nodeSqliteIsQuiet('24.15.0')).toBe(true);
    expect(nodeSqliteIsQuiet('24.14.1')).toBe(false);
    expect(nodeSqliteIsQuiet('22.22.0')).toBe(false);
    expect(nodeSqliteIsQuiet('25.9.0')).toBe(false);
    expect(nodeSqliteIsQuiet('26.0.0')).toBe(true);
    const expected = nodeSqliteIsQuiet() && drivers.includes('node:sqlite') ? 'node:sqlite' : drivers.includes('better-sqlite3') ? 'better-sqlite3' : 'node:sqlite';
    expect(chooseDriver('auto').name).toBe(expected);
    expect(openStorage(dbPath()).driver).toBe(expected);
  });

  it('a binding that does not load is refused with a typed error naming what to install', () => {
    if (drivers.includes('node:sqlite')) return expect(chooseDriver('node:sqlite').name).toBe('node:sqlite');
    expect(() => openStorage(dbPath(), { driver: 'node:sqlite' })).toThrow(
      expect.objectContaining({ name: 'StorageError', code: 'no-driver', message: expect.stringMatching(/node:sqlite.*Node 22\.16/) }),
    );
  });

  it('importing the package loads no binding and prints nothing; opening loads one, quietly where Node allows', () => {
    const probe = fileURLToPath(new URL('./helpers/import-probe.ts', import.meta.url));
    const out = execFileSync('npx', ['tsx', '--conditions=@syncstate-ts/source', probe, folder()], {
      cwd: fileURLToPath(new URL('../', import.meta.url)),
      encoding: 'utf8',
    });
    const got = JSON.parse(out.trim().split('\n').pop()!) as {
      before: string[];
      afterImport: { loaded: string[]; warnings: string[] };
      driver: string;
      afterOpen: { loaded: string[]; warnings: string[] };
    };
    expect(got.before).toEqual([]);
    expect(got.afterImport).toEqual({ loaded: [], warnings: [] });
    expect(got.driver).toBe(chooseDriver('auto').name);
    expect(got.afterOpen.loaded).toContain(got.driver);
    // Where node:sqlite warns, 'auto' does not load it while better-sqlite3 loads: Node's warning only comes without one.
    const warns = got.driver === 'node:sqlite' && !nodeSqliteIsQuiet();
    expect(got.afterOpen.warnings).toEqual(warns ? ['ExperimentalWarning: SQLite is an experimental feature and might change at any time'] : []);
  });
});

describe.each(drivers)('%s', (driver) => {
  it('opens a storage with the same durability settings: WAL, synchronous FULL (or NORMAL), exclusive lock, 16 MB cache', () => {
    for (const synchronous of ['full', 'normal'] as const) {
      const db = openDatabase({
        driver: chooseDriver(driver),
        path: dbPath(),
        readOnly: false,
        synchronous,
        maxPageCount: undefined,
        check: true,
        keyKind: 'string',
        valueKind: 'string',
      });
      const pragmas = Object.fromEntries(
        ['journal_mode', 'synchronous', 'locking_mode', 'cache_size', 'wal_autocheckpoint', 'journal_size_limit', 'page_size'].map((p) => [
          p,
          db.value(`PRAGMA ${p}`),
        ]),
      );
      db.close();
      expect(pragmas).toEqual({
        journal_mode: 'wal',
        synchronous: synchronous === 'full' ? 2 : 1,
        locking_mode: 'exclusive',
        cache_size: -16000,
        wal_autocheckpoint: 256,
        journal_size_limit: 67108864,
        page_size: 4096,
      });
    }
  });

  it('integers are stored as SQLite integers (both bindings bind a JS number as a real)', async () => {
    const path = dbPath();
    const storage = openStorage(path, { driver });
    const map = await masterMap([['a', '1'], ['b', '2']]);
    await createMap(storage, map);
    map.set('a', '3');
    await commitMap(storage, map, 0n);
    await storage.close();
    const db = openRaw(driver, path, { readOnly: true });
    const types = db
      .prepare<[], string>(
        `SELECT DISTINCT t FROM (
           SELECT typeof(id) t FROM maps UNION ALL SELECT typeof(update_id) FROM maps UNION ALL SELECT typeof(pair_count) FROM maps
           UNION ALL SELECT typeof(map_id) FROM pairs UNION ALL SELECT typeof(slot) FROM pairs
           UNION ALL SELECT typeof(seq) FROM history UNION ALL SELECT typeof(from_id) FROM history UNION ALL SELECT typeof(upto_id) FROM history)`,
        { pluck: true },
      )
      .all();
    db.close();
    expect(types).toEqual(['integer']);
  });
});

const pairs = drivers.flatMap((a) => drivers.map((b) => [a, b] as const));

describe.each(pairs)('a file written through %s', (writer, reader) => {
  it(`reads back through ${reader} with the same answers`, async () => {
    const path = dbPath();
    let storage = openStorage(path, { driver: writer });
    const map = await masterMap(Array.from({ length: 50 }, (_, i) => [`k${i}`, `v${i}`] as [string, string]));
    await createMap(storage, map);
    for (let i = 0; i < 20; i++) {
      map.set(`k${(i * 7) % 50}`, `w${i}`);
      await commitMap(storage, map, map.getUpdateId() - 1n);
    }
    await storage.close();
    storage = openStorage(path, { driver: reader });
    const back = (await loadMap(storage, map.hash()!))!;
    await storage.close();
    expect(hex(back.hash()!)).toBe(hex(map.hash()!));
    expect(back.getUpdateId()).toBe(20n);
    for (let from = 0n; from <= 20n; from++) {
      expect(back.getDiff(from, 20n)).toEqual(map.getDiff(from, 20n));
    }
  });
});
