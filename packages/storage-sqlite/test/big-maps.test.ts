// Big maps (PARTS_MIN_PAIRS pairs and more) are stored in parts and loaded
// in slices: they come back exactly, their changes survive restarts and
// crashes, a creation cut short is never served and is cleaned up, and other
// maps are served while a big one loads.
import { existsSync, statSync } from 'node:fs';
import Database from 'better-sqlite3';
import { describe, expect, it } from 'vitest';
import { encode } from '@syncstate-ts/codec';
import { Diff, encodeDiffEntries, kinds, StateMap } from '@syncstate-ts/core';
import { TcpStateRemote } from '@syncstate-ts/remote';
import { CorruptDatabaseError, StorageError } from '@syncstate-ts/storage-sqlite';
import { startChildServer } from './helpers/process.js';
import { commitMap, createMap, eventBytes, hex, loadMap, masterMap, openStorage, PASSWORD, perTest, serverFiles, storeNew } from './helpers/setup.js';

const { defer, folder, dbPath } = perTest('big');

/** 20,000 pairs with 60-byte values: about 1.5 MB, several parts. */
function bigPairs(n = 20_000, tag = ''): Array<[string, string]> {
  return Array.from({ length: n }, (_, i) => [`key-${i}${tag}`, `value-${i}-${'x'.repeat(50)}`]);
}

function answers(map: StateMap<string, string>): string[] {
  const n = map.getUpdateId();
  const ids = [...new Set([0n, 1n, 2n, n / 2n, n - 1n, n, n + 1n])].filter((id) => id >= 0n);
  const out: string[] = [];
  const enc = (d: Diff<string, string>) => `${d.isFull} ${d.fromUpdateId} ${d.uptoUpdateId} ${hex(encodeDiffEntries(d, kinds.string, kinds.string))}`;
  for (const f of ids) for (const u of ids) out.push(`${f}->${u}: ${enc(map.getDiff(f, u))}`);
  out.push(`full: ${enc(map.fullDiff())}`);
  return out;
}

/** The answers of the map stored under `hash`, from the file opened anew. */
async function reopenedAnswers(path: string, hash: Uint8Array): Promise<string[]> {
  const storage = openStorage(path);
  try {
    return answers((await loadMap(storage, hash))!);
  } finally {
    await storage.close();
  }
}

function rows(path: string, sql: string): unknown[] {
  const db = new Database(path, { readonly: true });
  try {
    return db.prepare(sql).pluck().all();
  } finally {
    db.close();
  }
}

describe('a big map', () => {
  it('is stored in parts, its freeze entry once, its changes as rows; it comes back with byte-identical answers', async () => {
    const path = dbPath();
    const { storage: writer, map } = await storeNew(path, bigPairs());
    const hash = map.hash()!;
    for (let i = 0; i < 12; i++) {
      const from = map.getUpdateId();
      if (i % 4 === 0) map.beginModification().set(`key-${i}`, `batch-${i}`).set('key-19999', `last-${i}`).commit();
      else if (i % 4 === 1) map.beginModification().commit(); // an empty commit
      else map.set(`key-${(i * 997) % 20_000}`, `set-${i}`);
      await commitMap(writer, map, from);
    }
    const before = answers(map);
    await writer.close();

    expect(Number(rows(path, 'SELECT count(*) FROM parts')[0])).toBeGreaterThan(3);
    expect(rows(path, 'SELECT length(pairs) FROM history WHERE seq = 0')).toEqual([0]); // the parts' pairs
    expect(Number(rows(path, 'SELECT count(*) FROM pairs')[0])).toBe(new Set(['key-0', 'key-4', 'key-8', 'key-19999', ...[2, 3, 6, 7, 10, 11].map((i) => `key-${(i * 997) % 20_000}`)]).size);

    const storage = openStorage(path);
    expect(storage.hashes()).toEqual([hex(hash)]);
    expect(await storage.peek(hash, hex(hash))).toEqual({ updateId: map.getUpdateId() });
    const back = (await loadMap(storage, hash))!;
    expect(answers(back)).toEqual(before);
    // It goes on: a key changed before changes again (its row is updated), and a new one.
    const from = back.getUpdateId();
    back.beginModification().set('key-0', 'again').set('key-5', 'new').commit();
    await commitMap(storage, back, from);
    const after = answers(back);
    await storage.close();
    expect(await reopenedAnswers(path, hash)).toEqual(after);
  });

  it('trimmed past its freeze entry, reads its values from the parts and the changed rows', async () => {
    const path = dbPath();
    const { storage, map } = await storeNew(path, bigPairs());
    const hash = map.hash()!;
    for (let i = 1; i <= 20; i++) {
      map.set(`key-${i}`, `v${i}`);
      await commitMap(storage, map, BigInt(i - 1), i === 20 ? 15n : undefined);
    }
    map.trimHistory(15n);
    const before = answers(map);
    await storage.close();
    expect(rows(path, 'SELECT upto_id FROM history ORDER BY seq')).toEqual([16, 17, 18, 19, 20]);
    expect(await reopenedAnswers(path, hash)).toEqual(before);
  });

  it('loads once for concurrent loads, and other maps are served while it loads', async () => {
    const path = dbPath();
    const { storage: writer, map: big } = await storeNew(path, bigPairs(60_000));
    await writer.close();

    const storage = openStorage(path);
    const order: string[] = [];
    const hash = big.hash()!;
    const first = storage.load(hash, hex(hash)).then((m) => (order.push('big'), m));
    const second = storage.load(hash, hex(hash));
    const small = await masterMap([['s', '1']]);
    await createMap(storage, small);
    small.set('s', '2');
    await commitMap(storage, small, 0n);
    order.push('small');
    expect(await first).toBe(await second); // one read for both
    expect(order).toEqual(['small', 'big']);
    await storage.close();
  });

  it('whose parts are damaged is refused when loaded', async () => {
    const path = dbPath();
    const { storage: writer, map } = await storeNew(path, bigPairs());
    await writer.close();
    const db = new Database(path);
    db.prepare('UPDATE parts SET pairs = ? WHERE part = 1').run(Buffer.from([0xfc, 1, 2]));
    db.close();
    const storage = openStorage(path);
    await expect(loadMap(storage, map.hash()!)).rejects.toThrow(CorruptDatabaseError);
    await storage.close();
  });

  it('written a row per pair (before parts) loads page by page', async () => {
    const path = dbPath();
    const storage = openStorage(path);
    await storage.close();
    const map = await masterMap(bigPairs(5000));
    map.set('key-7', 'changed');
    // The layout every map had before: a maps row, a pairs row per key, the history as blobs.
    const db = new Database(path);
    const bincode = (s: string) => encode(kinds.string.schema, s);
    db.transaction(() => {
      db.prepare('INSERT INTO maps (hash, update_id, is_master, pair_count) VALUES (?, 1, 1, 5000)').run(map.hash()!);
      const pair = db.prepare('INSERT INTO pairs VALUES (1, ?, ?, ?)');
      let slot = 0;
      for (const [k, v] of map.entries()) pair.run(bincode(k), slot++, bincode(v));
      let seq = 0;
      for (const e of map.historyEntries()) {
        db.prepare('INSERT INTO history VALUES (1, ?, ?, ?, ?)').run(seq++, e.fromUpdateId, e.uptoUpdateId, encodeDiffEntries(e, kinds.string, kinds.string));
      }
    })();
    db.close();
    const reopened = openStorage(path);
    expect(answers((await loadMap(reopened, map.hash()!))!)).toEqual(answers(map));
    await reopened.close();
  });
});

describe('a big map whose creation was cut short', () => {
  it('closing the storage meanwhile rejects the creation; nothing of it is served or left', async () => {
    const path = dbPath();
    let storage = openStorage(path);
    const kept = await masterMap([['k', 'v']]);
    await createMap(storage, kept);
    const map = await masterMap(bigPairs(100_000));
    const creating = createMap(storage, map).then(
      () => 'stored',
      (err: unknown) => err,
    );
    // Close once some of its parts are committed (the write-ahead log, checkpointed at 1 MiB, has grown), most likely before the last.
    const wal = (): number => (existsSync(`${path}-wal`) ? statSync(`${path}-wal`).size : 0);
    for (let i = 0; i < 2000 && wal() < 512 << 10; i++) await new Promise((resolve) => setTimeout(resolve, 2));
    await storage.close();
    const outcome = await creating;
    storage = openStorage(path);
    if (outcome === 'stored') {
      // The close came after the last commit: the map is whole.
      expect(answers((await loadMap(storage, map.hash()!))!)).toEqual(answers(map));
    } else {
      expect(outcome).toBeInstanceOf(StorageError);
      expect(storage.hashes()).toEqual([hex(kept.hash()!)]);
      expect(await loadMap(storage, map.hash()!)).toBeUndefined();
      await storage.close();
      expect(rows(path, 'SELECT count(*) FROM parts')).toEqual([0]);
      expect(rows(path, 'SELECT DISTINCT map_id FROM history')).toEqual([1]);
      expect(rows(path, "SELECT name FROM meta WHERE name LIKE 'creating %'")).toEqual([]);
    }
    await storage.close();
  });

  it('rows a crash left are not served, and the next read-write open deletes them', async () => {
    const path = dbPath();
    const { storage: writer, map: kept } = await storeNew(path, bigPairs(5000, '-kept'));
    await writer.close();
    // What create.ts writes before its last transaction: the record, parts and history, no maps row.
    const db = new Database(path);
    db.prepare("INSERT INTO meta (name, value) VALUES ('creating 9', 'x')").run();
    db.prepare('INSERT INTO parts VALUES (9, 0, ?)').run(encodeDiffEntries(new Diff([['a', 'b']]), kinds.string, kinds.string));
    db.prepare("INSERT INTO history VALUES (9, 0, 0, 0, X'')").run();
    db.close();

    let storage = openStorage(path, { readOnly: true });
    expect(storage.hashes()).toEqual([hex(kept.hash()!)]);
    await storage.close();
    expect(rows(path, 'SELECT count(*) FROM parts WHERE map_id = 9')).toEqual([1]); // read-only: untouched

    storage = openStorage(path);
    expect(answers((await loadMap(storage, kept.hash()!))!)).toEqual(answers(kept));
    // The next map gets a new id, past the leftovers'.
    const next = await masterMap(bigPairs(5000, '-next'));
    await createMap(storage, next);
    await storage.close();
    expect(rows(path, 'SELECT count(*) FROM parts WHERE map_id = 9')).toEqual([0]);
    expect(rows(path, "SELECT count(*) FROM meta WHERE name LIKE 'creating %'")).toEqual([0]);
    expect(await reopenedAnswers(path, next.hash()!)).toEqual(answers(next));
  });
});

describe('a server with a big map', () => {
  it('killed after acknowledging changes, restarts with them', async () => {
    const files = await serverFiles(folder());
    let server = await startChildServer(files);
    defer(() => server.kill());
    let r = new TcpStateRemote({ port: server.port, tls: { ca: files.pem }, password: PASSWORD, key: kinds.string, value: kinds.string });
    const map = new StateMap({ key: kinds.string, value: kinds.string, remote: r });
    for (const [k, v] of bigPairs(10_000)) map.push(k, v);
    await map.freeze(); // Init
    const hash = map.hash()!;
    await r.sendEvent(eventBytes({ type: 'Set', value: ['key-3', 'acknowledged'] }), hash);
    for (let i = 0; i < 300 && (await r.getUpdateId(hash)) !== 1n; i++) await new Promise((ok) => setTimeout(ok, 10));
    expect(await r.getUpdateId(hash)).toBe(1n); // a read stores what came before it
    await server.kill();

    server = await startChildServer(files);
    r = new TcpStateRemote({ port: server.port, tls: { ca: files.pem }, password: PASSWORD, key: kinds.string, value: kinds.string });
    expect(await r.getUpdateId(hash)).toBe(1n);
    const diff = await r.fetchUpdates(0n, 1n, hash);
    expect(diff.entries.find(([k]) => k === 'key-3')).toEqual(['key-3', 'acknowledged']);
    expect(diff.size).toBe(10_000);
    await server.stop();
  });
});
