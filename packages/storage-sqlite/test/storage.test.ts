// SqliteStorage on its own (no server), beyond the storage contract's
// conformance suite (conformance.test.ts): how the history floor shows in
// the file, and the typed errors of SQLite's limits and of the file itself.
import Database from 'better-sqlite3';
import { describe, expect, it } from 'vitest';
import { kinds } from '@syncstate-ts/core';
import { SqliteStorage, StorageError } from '@syncstate-ts/storage-sqlite';
import { commitMap, createMap, hex, loadMap, masterMap, openStorage, perTest } from './helpers/setup.js';

const { dbPath } = perTest('storage');

describe('bounded history', () => {
  it('the floor deletes the oldest rows from the file; a request from before them gets the full map', async () => {
    const path = dbPath();
    let storage = openStorage(path);
    const map = await masterMap([
      ['a', '0'],
      ['b', '0'],
    ]);
    const hash = map.hash()!;
    await createMap(storage, map);
    for (let i = 1; i <= 100; i++) {
      map.set(i % 2 === 0 ? 'a' : 'b', `v${i}`);
      // As the server does with maxHistory 10: entries ending at or below n - 10 may go.
      await commitMap(storage, map, BigInt(i - 1), i > 10 ? BigInt(i - 10) : undefined);
    }
    await storage.close(); // applies the trims still pending
    const rows = new Database(path, { readonly: true });
    const seqs = rows.prepare('SELECT from_id, upto_id FROM history ORDER BY seq').all() as Array<{ from_id: number; upto_id: number }>;
    rows.close();
    expect(seqs.map((r) => r.upto_id)).toEqual(Array.from({ length: 10 }, (_, i) => 91 + i));

    storage = openStorage(path);
    const back = (await loadMap(storage, hash))!;
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
  it('close is idempotent', async () => {
    const storage = openStorage(dbPath());
    await storage.close();
    await storage.close();
    expect(() => storage.hashes()).toThrow(expect.objectContaining({ code: 'closed' }));
  });

  it('update ids SQLite cannot hold are refused, and nothing of the map is stored', async () => {
    const storage = openStorage(dbPath());
    const map = await masterMap([['a', '0']]);
    const hash = map.hash()!;
    const far = { hash, keys: ['a'], values: ['far'], updateId: 1n << 63n, history: [] };
    await expect(storage.create(hash, hex(hash), far)).rejects.toMatchObject({ code: 'update-id-range' });
    expect(storage.hashes()).toEqual([]);
    await storage.close();
  });

  it('another kind of key or value than the file was written with is refused', async () => {
    const path = dbPath();
    await openStorage(path).close();
    expect(() => new SqliteStorage({ path, key: kinds.bytes, value: kinds.string })).toThrow(
      expect.objectContaining({ name: 'StorageError', code: 'kind-mismatch', message: expect.stringMatching(/key_kind string/) }),
    );
  });

  it('a second storage on the same file is refused while the first is open', async () => {
    const path = dbPath();
    const first = openStorage(path);
    let error: unknown;
    try {
      openStorage(path);
    } catch (err) {
      error = err;
    }
    expect(error).toBeInstanceOf(StorageError);
    expect(error).toMatchObject({ code: 'locked' });
    await first.close();
    await openStorage(path).close(); // free again
  });
});
