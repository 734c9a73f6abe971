// Files from older schema versions are migrated; files that are not ours,
// from a newer version, or damaged are refused with a typed error and left
// exactly as they were.
import { existsSync, readFileSync, writeFileSync } from 'node:fs';
import Database from 'better-sqlite3';
import { encode } from '@syncstate-ts/codec';
import { describe, expect, it } from 'vitest';
import { encodeDiffEntries, kinds, type StateMap } from '@syncstate-ts/core';
import {
  APPLICATION_ID,
  CorruptDatabaseError,
  ForeignFileError,
  SCHEMA_VERSION,
  SchemaVersionError,
  StorageReadOnlyError,
} from '@syncstate-ts/storage-sqlite';
import { commitMap, createMap, hex, loadMap, masterMap, openStorage, perTest } from './helpers/setup.js';

const { dbPath } = perTest('schema');

/** The first layout, as version 1 of the package wrote it (see src/schema.ts). */
const V1_SCHEMA = `
  PRAGMA application_id = ${APPLICATION_ID};
  PRAGMA user_version = 1;
  CREATE TABLE maps (hash BLOB PRIMARY KEY, update_id INTEGER NOT NULL, is_master INTEGER NOT NULL) WITHOUT ROWID;
  CREATE TABLE pairs (hash BLOB NOT NULL, slot INTEGER NOT NULL, key BLOB NOT NULL, value BLOB NOT NULL,
                      PRIMARY KEY (hash, slot)) WITHOUT ROWID;
  CREATE TABLE history (hash BLOB NOT NULL, seq INTEGER NOT NULL, from_id INTEGER NOT NULL, upto_id INTEGER NOT NULL,
                        pairs BLOB NOT NULL, PRIMARY KEY (hash, seq)) WITHOUT ROWID;
`;

/** Writes `maps` into a version 1 file with plain SQL. */
function writeV1(path: string, maps: StateMap<string, string>[]): void {
  const db = new Database(path);
  db.exec(V1_SCHEMA);
  const bincode = (text: string) => encode(kinds.string.schema, text);
  for (const map of maps) {
    const hash = map.hash()!;
    db.prepare('INSERT INTO maps VALUES (?, ?, 1)').run(hash, map.getUpdateId());
    let slot = 0;
    for (const [k, v] of map.entries()) db.prepare('INSERT INTO pairs VALUES (?, ?, ?, ?)').run(hash, slot++, bincode(k), bincode(v));
    let seq = 0;
    for (const e of map.historyEntries()) {
      db.prepare('INSERT INTO history VALUES (?, ?, ?, ?, ?)').run(hash, seq++, e.fromUpdateId, e.uptoUpdateId, encodeDiffEntries(e, kinds.string, kinds.string));
    }
  }
  db.close();
}

function sample(map: StateMap<string, string>): string[] {
  const n = map.getUpdateId();
  const out: string[] = [];
  for (let f = 0n; f <= n + 1n; f++) {
    for (const u of [0n, f, n, n + 1n]) {
      const d = map.getDiff(f, u);
      out.push(`${f}->${u} ${d.isFull} ${d.fromUpdateId} ${d.uptoUpdateId} ${hex(encodeDiffEntries(d, kinds.string, kinds.string))}`);
    }
  }
  return out;
}

/** Asserts `fn` throws `type` and leaves the file (and its folder's -wal) as it was. */
function refusedUnchanged(path: string, fn: () => unknown, type: new (...args: never[]) => Error, message: RegExp): Error {
  const before = readFileSync(path);
  let error: unknown;
  try {
    fn();
  } catch (err) {
    error = err;
  }
  expect(error).toBeInstanceOf(type);
  expect((error as Error).message).toMatch(message);
  expect(readFileSync(path).equals(before)).toBe(true);
  expect(existsSync(`${path}-wal`)).toBe(false);
  return error as Error;
}

describe('migration', () => {
  it('opens a version 1 file written by hand-written SQL, migrates it, and serves the same answers', async () => {
    const path = dbPath();
    const a = await masterMap([
      ['x', '1'],
      ['y', '2'],
      ['\u{1F600}', 'smile'],
    ]);
    for (let i = 0; i < 12; i++) (i % 4 === 0 ? a.beginModification().set('x', `b${i}`).commit() : a.set('y', `s${i}`));
    const b = await masterMap([['only', 'one']]);
    writeV1(path, [a, b]);

    // Read-only cannot migrate: refused, untouched.
    refusedUnchanged(path, () => openStorage(path, { readOnly: true }), StorageReadOnlyError, /schema version 1.*read-write once/);

    const storage = openStorage(path);
    for (const map of [a, b]) {
      const back = (await loadMap(storage, map.hash()!))!;
      expect([...back.entries()]).toEqual([...map.entries()]);
      expect(sample(back)).toEqual(sample(map));
    }
    // And it goes on in the new layout.
    const back = (await loadMap(storage, a.hash()!))!;
    back.set('x', 'after');
    await commitMap(storage, back, 12n);
    await storage.close();

    const db = new Database(path, { readonly: true });
    expect(db.pragma('user_version', { simple: true })).toBe(SCHEMA_VERSION);
    expect(db.prepare("SELECT name FROM sqlite_schema WHERE type = 'table' ORDER BY name").pluck().all()).toEqual(['history', 'maps', 'meta', 'pairs']);
    expect(db.prepare('SELECT name, value FROM meta ORDER BY name').all()).toEqual([
      { name: 'key_kind', value: 'string' },
      { name: 'value_kind', value: 'string' },
    ]);
    db.close();
    const reopened = openStorage(path);
    expect((await loadMap(reopened, a.hash()!))!.get('x')).toBe('after');
    await reopened.close();
  });

  it('a migration that fails leaves the version 1 file as it was', () => {
    const path = dbPath();
    const db = new Database(path);
    db.exec(V1_SCHEMA.replace(/CREATE TABLE history[\s\S]*$/, '')); // a v1 file missing its history table
    db.close();
    const before = readFileSync(path);
    expect(() => openStorage(path)).toThrow(/history/);
    expect(readFileSync(path).equals(before)).toBe(true);
    const check = new Database(path, { readonly: true });
    expect(check.pragma('user_version', { simple: true })).toBe(1);
    expect(check.prepare("SELECT count(*) FROM sqlite_schema WHERE name = 'maps'").pluck().get()).toBe(1);
    check.close();
  });

  it('a file from a newer version is refused', () => {
    const path = dbPath();
    const db = new Database(path);
    db.exec(`PRAGMA application_id = ${APPLICATION_ID}; PRAGMA user_version = ${SCHEMA_VERSION + 1}; CREATE TABLE future (x);`);
    db.close();
    const err = refusedUnchanged(path, () => openStorage(path), SchemaVersionError, /schema version 3.*knows up to 2/);
    expect(err).toMatchObject({ code: 'newer-schema', version: SCHEMA_VERSION + 1 });
  });
});

describe('refusing what is not ours', () => {
  it('a file that is not SQLite', () => {
    const path = dbPath();
    writeFileSync(path, 'maps: {"a": 1}\n'.repeat(100));
    const err = refusedUnchanged(path, () => openStorage(path), ForeignFileError, /not an SQLite database; refusing to touch it/);
    expect(err).toMatchObject({ code: 'not-sqlite' });
  });

  it("another application's SQLite database, with or without tables", () => {
    for (const sql of [`CREATE TABLE users (id INTEGER PRIMARY KEY, name TEXT); INSERT INTO users VALUES (1, 'ann');`, 'PRAGMA application_id = 42;']) {
      const path = dbPath();
      const db = new Database(path);
      db.exec(sql);
      db.close();
      const err = refusedUnchanged(path, () => openStorage(path), ForeignFileError, /another application.*refusing to touch it/);
      expect(err).toMatchObject({ code: 'foreign-database' });
    }
  });

  it('our application id without our tables is damaged', () => {
    const path = dbPath();
    const db = new Database(path);
    db.exec(`PRAGMA application_id = ${APPLICATION_ID}; PRAGMA user_version = ${SCHEMA_VERSION}; CREATE TABLE maps (x);`);
    db.close();
    refusedUnchanged(path, () => openStorage(path), CorruptDatabaseError, /lacks the tables meta, pairs, history/);
  });

  it('a file with damaged pages is refused at open', async () => {
    const path = dbPath();
    const storage = openStorage(path);
    const map = await masterMap(Array.from({ length: 400 }, (_, i) => [`key-${i}`, `value-${i}`] as [string, string]));
    await createMap(storage, map);
    await storage.close();
    const bytes = readFileSync(path);
    const page = 4096;
    expect(bytes.length).toBeGreaterThan(6 * page);
    bytes.fill(0xa5, 4 * page, 4 * page + 200); // a b-tree page header and cells
    writeFileSync(path, bytes);
    refusedUnchanged(path, () => openStorage(path), CorruptDatabaseError, /damaged/);
  });

  it('rows that do not decode are reported when the map is loaded', async () => {
    const path = dbPath();
    let storage = openStorage(path);
    const map = await masterMap([['k', 'v']]);
    await createMap(storage, map);
    await storage.close();
    const db = new Database(path);
    db.prepare('UPDATE pairs SET value = ?').run(Buffer.from([0xfc, 1, 2])); // a varint marker with too few bytes
    db.close();
    storage = openStorage(path);
    await expect(loadMap(storage, map.hash()!)).rejects.toMatchObject({
      name: 'CorruptDatabaseError',
      code: 'corrupt',
      message: expect.stringMatching(/does not read back/),
    });
    await storage.close();
  });

  it('an empty (0-byte) file is refused, not recreated: update ids would be handed out again', () => {
    const path = dbPath();
    writeFileSync(path, '');
    for (const readOnly of [false, true]) {
      expect(() => openStorage(path, { readOnly })).toThrow(
        expect.objectContaining({ name: 'CorruptDatabaseError', code: 'corrupt', message: expect.stringMatching(/empty \(0 bytes\).*not recreated.*backup.*delete it/) }),
      );
    }
    expect(readFileSync(path).length).toBe(0); // untouched
  });
});
