// Backups (online, from a storage that keeps committing, and of a file no
// process holds) and restores, on each SQLite binding this Node has. A
// backup is the database at one commit: every map in it answers as the
// original did at the update id the backup holds. A restore is refused,
// with the target untouched, for anything but a valid storage, for a target
// a process holds, and for a target with maps unless asked to replace it.
import { existsSync, readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { encodeDiffEntries, kinds, type StateMap } from '@syncstate-ts/core';
import { backupSqliteStore, restoreSqliteStore, SCHEMA_VERSION, type SqliteDriverName, type SqliteStorage } from '@syncstate-ts/storage-sqlite';
import { drivers, openRaw } from './helpers/drivers.js';
import { commitMap, createMap, hex, loadMap, masterMap, openStorage, perTest } from './helpers/setup.js';

const { defer, folder } = perTest('backup');

/** Every GetDiff answer of `map` from an earlier id to `upto` or to the next id, encoded: what a client could ask for. */
function answers(map: StateMap<string, string>, upto: bigint): string[] {
  const out: string[] = [];
  for (let from = 0n; from < upto; from++) {
    for (const to of [from + 1n, upto]) {
      const d = map.getDiff(from, to);
      out.push(`${from}->${to} ${d.isFull} ${d.fromUpdateId} ${d.uptoUpdateId} ${hex(encodeDiffEntries(d, kinds.string, kinds.string))}`);
    }
  }
  return out;
}

/** A storage in a new folder with `count` maps of 300 pairs, each with a few updates. */
async function populated(driver: SqliteDriverName, count: number): Promise<{ dir: string; storage: SqliteStorage<string, string>; maps: StateMap<string, string>[] }> {
  const dir = folder();
  const storage = openStorage(join(dir, 'maps.db'), { driver });
  defer(() => storage.close());
  const maps: StateMap<string, string>[] = [];
  for (let m = 0; m < count; m++) {
    const map = await masterMap(Array.from({ length: 300 }, (_, i) => [`m${m}-k${i}`, `v${i}`] as [string, string]));
    await createMap(storage, map);
    for (let u = 0; u < 3; u++) {
      map.set(`m${m}-k${u}`, `u${u}`);
      await commitMap(storage, map, map.getUpdateId() - 1n);
    }
    maps.push(map);
  }
  return { dir, storage, maps };
}

/** Opens a backup or a restored file and checks each map against the original up to the update id it holds. */
async function expectSameAsOriginal(path: string, driver: SqliteDriverName, maps: StateMap<string, string>[], atLeast: bigint[]): Promise<bigint[]> {
  const copy = openStorage(path, { driver, readOnly: true });
  const ids: bigint[] = [];
  try {
    expect(copy.hashes().sort()).toEqual(maps.map((m) => hex(m.hash()!)).sort());
    for (const [i, original] of maps.entries()) {
      const back = (await loadMap(copy, original.hash()!))!;
      const id = back.getUpdateId();
      expect(id).toBeGreaterThanOrEqual(atLeast[i]!);
      expect(id).toBeLessThanOrEqual(original.getUpdateId());
      expect(answers(back, id)).toEqual(answers(original, id));
      ids.push(id);
    }
  } finally {
    await copy.close();
  }
  return ids;
}

function leftovers(dir: string): string[] {
  return readdirSync(dir).filter((f) => f.endsWith('.partial') || f.endsWith('.restore') || f.includes('.partial-') || f.includes('.restore-'));
}

describe.each(drivers)('%s', (driver) => {
  it('an online backup while every map keeps committing is the database at one commit, every map as it was at its id', async () => {
    const { dir, storage, maps } = await populated(driver, 8);
    const before = maps.map((m) => m.getUpdateId());
    let writing = true;
    let rounds = 0;
    const writer = (async () => {
      while (writing) {
        await Promise.all(
          maps.map(async (map, m) => {
            map.set(`m${m}-k${rounds % 300}`, `r${rounds}`);
            await commitMap(storage, map, map.getUpdateId() - 1n);
          }),
        );
        rounds++;
      }
    })();
    let steps = 0;
    // One page per step: the copy spans many turns of the event loop, with commits between them.
    const result = await storage.backup(join(dir, 'copy.db'), { pagesPerStep: 1, onProgress: () => steps++ });
    writing = false;
    await writer;
    expect(steps).toBeGreaterThan(10);
    expect(rounds).toBeGreaterThan(0);
    expect(result).toMatchObject({ path: join(dir, 'copy.db'), maps: 8 });
    expect(result.bytes).toBe(readFileSync(join(dir, 'copy.db')).length);
    // A standalone file: no write-ahead log beside it, and its header says rollback journal (byte 18 = 1).
    expect(existsSync(join(dir, 'copy.db-wal'))).toBe(false);
    expect(readFileSync(join(dir, 'copy.db'))[18]).toBe(1);
    const ids = await expectSameAsOriginal(join(dir, 'copy.db'), driver, maps, before);
    // Each round's commits of all the maps share one transaction: a copy at a commit boundary has every map at the same id.
    expect(new Set(ids).size).toBe(1);
    expect(leftovers(dir)).toEqual([]);
  });

  it('a copy that writes outpace ends all the same (its steps grow), and is still the database at one commit', { timeout: 120_000 }, async () => {
    // Commits of 2,000 changed values each add pages faster than steps of 8 pages copy them; with
    // node:sqlite, whose steps run on another thread, each copy also starts while commits keep coming.
    for (let round = 0; round < 3; round++) {
      const dir = folder();
      const storage = openStorage(join(dir, 'maps.db'), { driver });
      defer(() => storage.close());
      const map = await masterMap(Array.from({ length: 3000 }, (_, i) => [`k${i}`, `v${i}`] as [string, string]));
      await createMap(storage, map);
      let writing = true;
      const writer = (async () => {
        for (let n = 0; writing; n++) {
          const from = map.getUpdateId();
          const change = map.beginModification();
          for (let i = 0; i < 2000; i++) change.set(`k${(i + n * 7) % 3000}`, `n${n}-${i}`);
          change.commit();
          await commitMap(storage, map, from);
        }
      })();
      await new Promise((resolve) => setTimeout(resolve, 20));
      const result = await storage.backup(join(dir, 'copy.db'), { pagesPerStep: 8 });
      writing = false;
      await writer;
      expect(result.maps).toBe(1);
      await expectSameAsOriginal(join(dir, 'copy.db'), driver, [map], [1n]);
      expect(leftovers(dir)).toEqual([]);
    }
  });

  it('closing the storage during a backup stops it: the backup rejects, no partial file is left, the storage closes cleanly', async () => {
    const { dir, storage, maps } = await populated(driver, 6);
    let closing: Promise<void> | undefined;
    const backup = storage.backup(join(dir, 'copy.db'), {
      pagesPerStep: 1,
      onProgress: (copied) => {
        if (copied === 3) closing = storage.close();
      },
    });
    await expect(backup).rejects.toMatchObject({ name: 'StorageError', code: 'closed' });
    await closing;
    expect(existsSync(join(dir, 'copy.db'))).toBe(false);
    expect(leftovers(dir)).toEqual([]);
    await expectSameAsOriginal(join(dir, 'maps.db'), driver, maps, maps.map((m) => m.getUpdateId()));
  });

  it('a file no process holds is backed up; one a storage holds is refused as locked', async () => {
    const { dir, storage, maps } = await populated(driver, 2);
    const source = join(dir, 'maps.db');
    await expect(backupSqliteStore(source, join(dir, 'copy.db'), { driver })).rejects.toMatchObject({ code: 'locked' });
    expect(existsSync(join(dir, 'copy.db'))).toBe(false);
    await storage.close();
    const result = await backupSqliteStore(source, join(dir, 'copy.db'), { driver });
    expect(result.maps).toBe(2);
    await expectSameAsOriginal(join(dir, 'copy.db'), driver, maps, maps.map((m) => m.getUpdateId()));
    // Over itself, or over a database another storage holds: refused, nothing written.
    await expect(backupSqliteStore(source, source, { driver })).rejects.toMatchObject({ code: 'io', message: expect.stringMatching(/over itself/) });
    const held = openStorage(join(dir, 'copy.db'), { driver });
    const bytes = readFileSync(join(dir, 'copy.db'));
    await expect(backupSqliteStore(source, join(dir, 'copy.db'), { driver })).rejects.toMatchObject({ code: 'locked' });
    expect(readFileSync(join(dir, 'copy.db')).equals(bytes)).toBe(true);
    expect(held.hashes()).toHaveLength(2);
    await held.close();
    expect(leftovers(dir)).toEqual([]);
  });

  it('restores into a missing file, refuses to overwrite maps unless asked, then replaces them through SQLite', async () => {
    const a = await populated(driver, 3);
    const backupA = (await a.storage.backup(join(a.dir, 'a.db'))).path;
    const b = await populated(driver, 1);
    const backupB = (await b.storage.backup(join(b.dir, 'b.db'))).path;
    const target = join(folder(), 'maps.db');

    const first = await restoreSqliteStore({ from: backupA, to: target, key: kinds.string, value: kinds.string, driver });
    expect(first.replaced).toBe('nothing');
    expect(first.maps.map((m) => m.hash).sort()).toEqual(a.maps.map((m) => hex(m.hash()!)).sort());
    expect(first.maps.every((m) => m.updateId === 3n)).toBe(true);
    await expectSameAsOriginal(target, driver, a.maps, [3n, 3n, 3n]);

    const bytes = readFileSync(target);
    await expect(restoreSqliteStore({ from: backupB, to: target, key: kinds.string, value: kinds.string, driver })).rejects.toMatchObject({
      name: 'StorageError',
      code: 'not-empty',
      message: expect.stringMatching(/holds 3 map/),
    });
    expect(readFileSync(target).equals(bytes)).toBe(true);

    const second = await restoreSqliteStore({ from: backupB, to: target, key: kinds.string, value: kinds.string, driver, replace: true });
    expect(second.replaced).toBe('store');
    await expectSameAsOriginal(target, driver, b.maps, [3n]);
    expect(leftovers(dirOf(target))).toEqual([]);
    for (const suffix of ['-wal', '-journal']) expect(existsSync(`${target}${suffix}`)).toBe(false);
  });

  it('is refused while a storage holds the target, even with replace', async () => {
    const a = await populated(driver, 1);
    const backup = (await a.storage.backup(join(a.dir, 'a.db'))).path;
    const target = join(folder(), 'maps.db');
    const held = openStorage(target, { driver });
    await expect(restoreSqliteStore({ from: backup, to: target, key: kinds.string, value: kinds.string, driver, replace: true })).rejects.toMatchObject({
      code: 'locked',
    });
    expect(held.hashes()).toEqual([]);
    await held.close();
    expect(leftovers(dirOf(target))).toEqual([]);
  });

  it('refuses a backup that is not a valid storage, leaving the target as it was', async () => {
    const a = await populated(driver, 2);
    const good = (await a.storage.backup(join(a.dir, 'good.db'))).path;
    const dir = folder();
    const target = join(dir, 'maps.db');
    await restoreSqliteStore({ from: good, to: target, key: kinds.string, value: kinds.string, driver });
    const bytes = readFileSync(target);
    const goodBytes = readFileSync(good);

    const bad = (name: string, content: Uint8Array | string): string => {
      const path = join(a.dir, name);
      writeFileSync(path, content);
      return path;
    };
    // Pages after the first three overwritten with bytes that are no b-tree page.
    const damaged = Buffer.from(goodBytes);
    damaged.fill(0x5a, 3 * 4096, Math.min(damaged.length, 12 * 4096));
    const foreign = join(a.dir, 'foreign.db');
    const db = openRaw(driver, foreign);
    db.exec('PRAGMA application_id = 1234; CREATE TABLE notes (body TEXT)');
    db.close();
    const newer = bad('newer.db', goodBytes);
    const raw = openRaw(driver, newer);
    raw.exec(`PRAGMA user_version = ${SCHEMA_VERSION + 1}`);
    raw.close();

    const cases: Array<[string, string, object]> = [
      ['not SQLite', bad('text.db', 'just some text, not a database'), { name: 'ForeignFileError', code: 'not-sqlite' }],
      ['empty', bad('empty.db', ''), { name: 'CorruptDatabaseError', code: 'corrupt' }],
      ['truncated', bad('half.db', goodBytes.subarray(0, Math.floor(goodBytes.length / 2))), { name: 'CorruptDatabaseError' }],
      ['damaged pages', bad('damaged.db', damaged), { name: 'CorruptDatabaseError', code: 'corrupt' }],
      ['another application', foreign, { name: 'ForeignFileError', code: 'foreign-database' }],
      ['a newer schema', newer, { name: 'SchemaVersionError', code: 'newer-schema' }],
    ];
    for (const [what, from, error] of cases) {
      await expect(restoreSqliteStore({ from, to: target, key: kinds.string, value: kinds.string, driver, replace: true }), what).rejects.toMatchObject(error);
      expect(readFileSync(target).equals(bytes), what).toBe(true);
    }
    // Other kinds than the target's server uses.
    await expect(restoreSqliteStore({ from: good, to: target, key: kinds.bytes, value: kinds.string, driver, replace: true })).rejects.toMatchObject({
      code: 'kind-mismatch',
    });
    expect(readFileSync(target).equals(bytes)).toBe(true);
    expect(leftovers(dir)).toEqual([]);
  });

  it('replaces a target that is not a storage only when asked', async () => {
    const a = await populated(driver, 1);
    const backup = (await a.storage.backup(join(a.dir, 'a.db'))).path;
    const dir = folder();
    const target = join(dir, 'maps.db');
    writeFileSync(target, 'notes, not maps');
    await expect(restoreSqliteStore({ from: backup, to: target, key: kinds.string, value: kinds.string, driver })).rejects.toMatchObject({
      code: 'not-empty',
      message: expect.stringMatching(/not a syncstate storage/),
    });
    expect(readFileSync(target, 'utf8')).toBe('notes, not maps');
    const done = await restoreSqliteStore({ from: backup, to: target, key: kinds.string, value: kinds.string, driver, replace: true });
    expect(done.replaced).toBe('other-file');
    await expectSameAsOriginal(target, driver, a.maps, [3n]);
  });
});

function dirOf(path: string): string {
  return join(path, '..');
}
