// SqliteStorage on its own (no server): what is stored comes back exactly,
// history bounds apply to the file, and misuse gets typed errors.
import { join } from 'node:path';
import Database from 'better-sqlite3';
import { afterEach, describe, expect, it } from 'vitest';
import { Diff, encodeDiffEntries, kinds, type StateMap } from '@syncstate/core';
import { SqliteStorage, StorageError } from '@syncstate/storage-sqlite';
import { hex, masterMap, tempDir } from './helpers/setup.js';

const cleanups: Array<() => void> = [];
afterEach(() => {
  for (const c of cleanups.splice(0)) c();
});

function dbPath(): string {
  const { dir, cleanup } = tempDir('storage');
  cleanups.push(cleanup);
  return join(dir, 'maps.db');
}

function open(path: string, extra: { readOnly?: boolean } = {}): SqliteStorage<string, string> {
  return new SqliteStorage({ path, key: kinds.string, value: kinds.string, ...extra });
}

/** What the server does after an event: hand over the changes since `from`. */
async function append(storage: SqliteStorage<string, string>, map: StateMap<string, string>, from: bigint): Promise<void> {
  const hash = map.hash()!;
  await storage.append(hash, hex(hash), [map.getDiff(from, map.getUpdateId())]);
}

/** Every answer of a map, as bytes: getDiff over a grid (encoded pairs and ids), the full diff. */
function answers(map: StateMap<string, string>): string[] {
  const n = map.getUpdateId();
  const ids = [0n, 1n, 2n, n / 2n, n - 2n, n - 1n, n, n + 1n, (1n << 64n) - 1n].filter((x) => x >= 0n);
  const out: string[] = [];
  const enc = (d: Diff<string, string>) =>
    `${d.isFull} ${d.fromUpdateId} ${d.uptoUpdateId} ${hex(encodeDiffEntries(d, kinds.string, kinds.string))}`;
  for (const f of ids) for (const u of ids) out.push(`${f}->${u}: ${enc(map.getDiff(f, u))}`);
  for (let f = 0n; f <= n; f++) out.push(`${f}->${n}: ${enc(map.getDiff(f, n))}`);
  out.push(`full: ${enc(map.fullDiff())}`);
  return out;
}

describe('round trip', () => {
  it('a map, its sets, batches and empty commits come back with byte-identical answers', async () => {
    const path = dbPath();
    let storage = open(path);
    const map = await masterMap([
      ['b', '1'],
      ['a', '2'],
      ['\u{1F600}', ''],
    ]);
    const hash = map.hash()!;
    expect(await storage.load(hash, hex(hash))).toBeUndefined();
    await storage.create(hash, hex(hash), map);
    expect(await storage.load(hash, hex(hash))).toBe(map); // the object it holds
    for (let i = 0; i < 40; i++) {
      const from = map.getUpdateId();
      if (i % 5 === 0) map.beginModification().commit(); // an empty commit
      else if (i % 3 === 0) map.beginModification().set('a', `a${i}`).set('b', `b${i}`).commit();
      else {
        map.set('\u{1F600}', `x${i}`);
        map.set('b', `y${i}`); // two updates in one event
      }
      await append(storage, map, from);
    }
    const before = answers(map);
    await storage.close();

    storage = open(path);
    expect(storage.hashes()).toEqual([hex(hash)]);
    const restored = (await storage.load(hash, hex(hash)))!;
    expect(restored).not.toBe(map);
    expect(restored.hash()).toEqual(hash);
    expect(restored.isMaster).toBe(true);
    expect(restored.historySize).toBe(map.historySize);
    expect(answers(restored)).toEqual(before);
    // It goes on where it stopped.
    restored.set('a', 'after');
    await append(storage, restored, map.getUpdateId());
    await storage.close();
    storage = open(path);
    const again = (await storage.load(hash, hex(hash)))!;
    expect(again.getUpdateId()).toBe(map.getUpdateId() + 1n);
    expect(again.get('a')).toBe('after');
    await storage.close();
  });

  it('writes of several maps in one turn share a transaction and all land', async () => {
    const path = dbPath();
    let storage = open(path);
    const maps = await Promise.all(Array.from({ length: 8 }, (_, i) => masterMap([[`k${i}`, '0']])));
    await Promise.all(maps.map((m) => storage.create(m.hash()!, hex(m.hash()!), m)));
    for (let round = 0; round < 5; round++) {
      await Promise.all(
        maps.map((m, i) => {
          m.set(`k${i}`, `r${round}`);
          return append(storage, m, m.getUpdateId() - 1n);
        }),
      );
    }
    await storage.close();
    storage = open(path);
    for (const [i, m] of maps.entries()) {
      const back = (await storage.load(m.hash()!, hex(m.hash()!)))!;
      expect([back.getUpdateId(), back.get(`k${i}`)]).toEqual([5n, 'r4']);
    }
    await storage.close();
  });

  it('a map that moved without history entries is stored from its values (the merged changes as history)', async () => {
    const path = dbPath();
    let storage = open(path);
    const map = await masterMap([
      ['a', '0'],
      ['b', '0'],
    ]);
    const hash = map.hash()!;
    await storage.create(hash, hex(hash), map);
    map.applyDiff(new Diff([['b', 'jumped']], false, 0n, 3n)); // a remote's diff: no history entry
    await storage.append(hash, hex(hash), [new Diff([['b', 'jumped']], false, 0n, 3n)]);
    await storage.close();
    storage = open(path);
    const back = (await storage.load(hash, hex(hash)))!;
    expect([back.getUpdateId(), back.get('b')]).toEqual([3n, 'jumped']);
    // From the oldest entry (the freeze diff) through the stored changes: the map at 3.
    expect(back.getDiff(0n, 3n).entries).toEqual([
      ['a', '0'],
      ['b', 'jumped'],
    ]);
    await storage.close();
  });
});

describe('bounded history', () => {
  it('trim deletes the oldest rows; a request from before them gets the full map', async () => {
    const path = dbPath();
    let storage = open(path);
    const map = await masterMap([
      ['a', '0'],
      ['b', '0'],
    ]);
    const hash = map.hash()!;
    await storage.create(hash, hex(hash), map);
    for (let i = 1; i <= 100; i++) {
      map.set(i % 2 === 0 ? 'a' : 'b', `v${i}`);
      await append(storage, map, BigInt(i - 1));
      // As the server does with maxHistory 10: entries ending at or below n - 10 may go.
      if (i > 10) await storage.trim(hash, hex(hash), BigInt(i - 10));
    }
    await storage.close(); // applies the trims still pending
    const rows = new Database(path, { readonly: true });
    const seqs = rows.prepare('SELECT from_id, upto_id FROM history ORDER BY seq').all() as Array<{ from_id: number; upto_id: number }>;
    rows.close();
    expect(seqs.map((r) => r.upto_id)).toEqual(Array.from({ length: 10 }, (_, i) => 91 + i));

    storage = open(path);
    const back = (await storage.load(hash, hex(hash)))!;
    expect(back.historySize).toBe(10);
    expect(back.getDiff(95n, 100n).entries).toEqual(map.getDiff(95n, 100n).entries);
    const before = back.getDiff(50n, 100n);
    expect([before.isFull, before.fromUpdateId, before.uptoUpdateId]).toEqual([true, 0n, 100n]);
    expect(before.entries).toEqual([
      ['a', 'v100'],
      ['b', 'v99'],
    ]);
    await storage.close();
  });
});

describe('typed errors', () => {
  it('append for a map it does not hold, a second create, writes after close', async () => {
    const path = dbPath();
    const storage = open(path);
    const map = await masterMap([['a', '0']]);
    const hash = map.hash()!;
    await expect(storage.append(hash, hex(hash), [])).rejects.toMatchObject({ name: 'StorageError', code: 'unknown-map' });
    await storage.create(hash, hex(hash), map);
    await expect(storage.create(hash, hex(hash), map)).rejects.toMatchObject({ code: 'duplicate-map' });
    await storage.close();
    await storage.close(); // idempotent
    await expect(storage.create(hash, hex(hash), map)).rejects.toMatchObject({ code: 'closed' });
    await expect(storage.load(hash, hex(hash))).rejects.toMatchObject({ code: 'closed' });
  });

  it('update ids SQLite cannot hold are refused, and nothing of the map is stored', async () => {
    const path = dbPath();
    const storage = open(path);
    const map = await masterMap([['a', '0']]);
    map.applyDiff(new Diff([['a', 'far']], false, 0n, 1n << 63n));
    await expect(storage.create(map.hash()!, hex(map.hash()!), map)).rejects.toMatchObject({ code: 'update-id-range' });
    expect(storage.hashes()).toEqual([]);
    await storage.close();
  });

  it('another kind of key or value than the file was written with is refused', async () => {
    const path = dbPath();
    await open(path).close();
    expect(() => new SqliteStorage({ path, key: kinds.bytes, value: kinds.string })).toThrow(
      expect.objectContaining({ name: 'StorageError', code: 'kind-mismatch', message: expect.stringMatching(/key_kind string/) }),
    );
  });

  it('a second storage on the same file is refused while the first is open', async () => {
    const path = dbPath();
    const first = open(path);
    let error: unknown;
    try {
      open(path);
    } catch (err) {
      error = err;
    }
    expect(error).toBeInstanceOf(StorageError);
    expect(error).toMatchObject({ code: 'locked' });
    await first.close();
    await open(path).close(); // free again
  });
});
