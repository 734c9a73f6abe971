// @syncstate-ts/storage-sqlite: what durability costs the server. The Rust
// crate keeps everything in memory and has no counterpart, so each record
// compares the durable storage (ts) with a baseline (see BenchRecord):
// the same server code on the in-memory storage, or the same map before the
// restart.
//
// Events go through the server's own request path (ProtocolHandler.respond,
// no sockets), from clients that each wait for the answer before sending
// the next event, as syncstate clients do. On the durable storage an Event
// is answered only once its hook's changes are committed (fsynced), so one
// client pays a commit per event; events of many clients queued back to back
// share one commit (the registry's group commit). In memory the answer comes
// before the hook runs, as on the Rust server.
// (a) single-key events, one map, 1 client and 16 clients;
// (b) single-key events spread over 16 maps, 16 clients: the maps' commits
//     share transactions too;
// (c) 100-key events (one SetMany each), one map, 16 clients;
// (d) GetDiff after a restart, map of 10,000 keys with 10,000 updates of
//     history: the first request (opens the file, loads the map) against
//     the same request on the server before the restart; then per-request
//     latency after the restart against before it.
// (e) The two SQLite bindings (issue #14), where this Node has both (CI's
//     Node 24; Node 20 has better-sqlite3 only): node:sqlite against
//     better-sqlite3 under the same SqliteStorage, for (a) with 1 and 16
//     clients and (b); the Init of a 1,000,000-pair map through the request
//     path (decoded, frozen, stored in parts: answered once durable); and
//     loading that map after a restart (storage.load). Runs alternate between
//     the bindings (A B A B) and each keeps its best.
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { decodeResponse, encode, encodeRequestWrapper, t, type Request } from '@syncstate-ts/codec';
import { encodeInitData, kinds, StateMap } from '@syncstate-ts/core';
import { storedMapOf } from '@syncstate-ts/storage';
import { type MapStorage, ProtocolHandler } from '@syncstate-ts/server';
import { openPostgresStorage } from '@syncstate-ts/storage-postgres';
import { availableDrivers, SqliteStorage, type SqliteDriverName } from '@syncstate-ts/storage-sqlite';
import { startPostgres, type TestPostgres } from '@syncstate-ts/testkit/postgres';
import type { BenchRecord } from '../harness.ts';
import { higherIsBetterThanBaseline, lowerIsBetterThanBaseline } from '../harness.ts';

const PASSWORD = new TextEncoder().encode('bench');
const event = t.enumOf({ Set: t.tuple(t.string, t.string), SetMany: t.vec(t.tuple(t.string, t.string)) });
type Ev = typeof event extends { read(r: never): infer E } ? E : never;

function handler(storage: MapStorage<string, string> | undefined): ProtocolHandler<string, string, Ev> {
  return new ProtocolHandler<string, string, Ev>({
    password: PASSWORD,
    key: kinds.string,
    value: kinds.string,
    event,
    hooks: [
      (map, e) => {
        if (e.type === 'Set') map.set(...e.value);
        else {
          const m = map.beginModification();
          for (const [k, v] of e.value) m.set(k, v);
          m.commit();
        }
      },
    ],
    ...(storage === undefined ? {} : { storage }),
    limits: { maxPendingEventsPerMap: Infinity },
  });
}

async function ask(h: ProtocolHandler<string, string, Ev>, request: Request): Promise<Uint8Array> {
  const answer = await h.respond(encodeRequestWrapper({ password: PASSWORD, request }));
  if (answer === null) throw new Error(`${request.type} was refused`);
  return answer;
}

async function frozen(name: string, keys: number, master: boolean): Promise<StateMap<string, string>> {
  const map = new StateMap({ key: kinds.string, value: kinds.string });
  for (let i = 0; i < keys; i++) map.push(`${name}-${i}`, `v${i}`);
  map.setMaster(master);
  await map.freeze();
  return map;
}

function folder(): { path: string; done: () => void } {
  const dir = mkdtempSync(join(tmpdir(), 'syncstate-bench-storage-'));
  return { path: join(dir, 'maps.db'), done: () => rmSync(dir, { recursive: true, force: true }) };
}

/** Commits per second: `commits` events of `keysPerCommit` sets, round-robin over `maps` maps, all applied and stored. */
type Store = 'sqlite' | 'postgres' | 'memory';
let postgres: TestPostgres | undefined;

async function commitRate(store: Store, maps: number, keysPerCommit: number, commits: number, clients: number, driver?: SqliteDriverName): Promise<number> {
  const dir = folder();
  const h = handler(
    store === 'sqlite'
      ? new SqliteStorage({ path: dir.path, key: kinds.string, value: kinds.string, ...(driver === undefined ? {} : { driver }) })
      : store === 'postgres'
        ? await openPostgresStorage({ connectionString: await postgres!.database(), key: kinds.string, value: kinds.string })
        : undefined,
  );
  try {
    const hashes: Uint8Array[] = [];
    for (let m = 0; m < maps; m++) {
      const map = await frozen(`m${m}`, 100, false);
      await ask(h, { type: 'Init', hash: map.hash()!, initData: encodeInitData(map) });
      hashes.push(map.hash()!);
    }
    const payload = (i: number): Uint8Array => {
      const m = i % maps;
      if (keysPerCommit === 1) return encode(event, { type: 'Set', value: [`m${m}-${i % 100}`, `x${i}`] });
      const pairs: Array<[string, string]> = [];
      for (let k = 0; k < keysPerCommit; k++) pairs.push([`m${m}-${k % 100}`, `x${i}-${k}`]);
      return encode(event, { type: 'SetMany', value: pairs });
    };
    const run = async (n: number): Promise<number> => {
      const t0 = process.hrtime.bigint();
      let next = 0;
      const client = async (): Promise<void> => {
        for (let i = next++; i < n; i = next++) await ask(h, { type: 'Event', hash: hashes[i % maps]!, eventData: payload(i) });
      };
      await Promise.all(Array.from({ length: clients }, client));
      await Promise.all(hashes.map((hash) => ask(h, { type: 'GetUpdateId', hash })));
      return n / (Number(process.hrtime.bigint() - t0) / 1e9);
    };
    await run(Math.min(200, commits)); // warm-up
    return Math.max(await run(commits), await run(commits));
  } finally {
    await h.close();
    dir.done();
  }
}

/** Mean microseconds of `f` over `n` calls. */
async function meanUs(n: number, f: () => Promise<unknown>): Promise<number> {
  const t0 = process.hrtime.bigint();
  for (let i = 0; i < n; i++) await f();
  return Number(process.hrtime.bigint() - t0) / 1e3 / n;
}

async function restartLatency(): Promise<{ firstMs: number; warmFirstMs: number; afterUs: number; beforeUs: number }> {
  const dir = folder();
  const KEYS = 10_000;
  const UPDATES = 10_000;
  try {
    // Build the stored map directly (10,000 events through fsyncs would take seconds).
    const master = await frozen('big', KEYS, true);
    for (let j = 0; j < UPDATES; j++) master.set(`big-${(j * 7919) % KEYS}`, `u${j}`);
    const hash = master.hash()!;
    const hex = Buffer.from(hash).toString('hex');
    const writer = new SqliteStorage({ path: dir.path, key: kinds.string, value: kinds.string });
    await writer.create(hash, hex, await storedMapOf(master));
    await writer.close();
    const n = BigInt(UPDATES);
    const request: Request = { type: 'GetDiff', hash, fromUpdateId: n - 10n, uptoUpdateId: n };

    // Before the restart: the server holds the map in memory.
    const warm = handler(new SqliteStorage({ path: dir.path, key: kinds.string, value: kinds.string }));
    await ask(warm, request);
    let t0 = process.hrtime.bigint();
    await ask(warm, request);
    const warmFirstMs = Number(process.hrtime.bigint() - t0) / 1e6;
    await meanUs(2000, () => ask(warm, request)); // JIT warm-up
    const beforeUs = await meanUs(2000, () => ask(warm, request));
    await warm.close();

    // The restart: open the file, and the first request loads the map.
    t0 = process.hrtime.bigint();
    const cold = handler(new SqliteStorage({ path: dir.path, key: kinds.string, value: kinds.string }));
    await ask(cold, request);
    const firstMs = Number(process.hrtime.bigint() - t0) / 1e6;
    await meanUs(2000, () => ask(cold, request));
    const afterUs = await meanUs(2000, () => ask(cold, request));
    await cold.close();
    return { firstMs, warmFirstMs, afterUs, beforeUs };
  } finally {
    dir.done();
  }
}

/** (e) A 1,000,000-pair map: its Init through the request path on a new file (ms to InitSuccess), then its load on a reopened storage (ms). */
async function bigMap(driver: SqliteDriverName, map: StateMap<string, string>, initData: Uint8Array): Promise<{ initMs: number; loadMs: number }> {
  const dir = folder();
  try {
    const h = handler(new SqliteStorage({ path: dir.path, key: kinds.string, value: kinds.string, driver }));
    let t0 = process.hrtime.bigint();
    const answer = decodeResponse(await ask(h, { type: 'Init', hash: map.hash()!, initData }));
    const initMs = Number(process.hrtime.bigint() - t0) / 1e6;
    if (answer.type !== 'InitSuccess') throw new Error(`the big Init (${driver}) answered ${answer.type}`);
    await h.close();
    const storage = new SqliteStorage({ path: dir.path, key: kinds.string, value: kinds.string, driver });
    t0 = process.hrtime.bigint();
    const stored = await storage.load(map.hash()!, Buffer.from(map.hash()!).toString('hex'));
    const loadMs = Number(process.hrtime.bigint() - t0) / 1e6;
    if (stored?.keys.length !== map.size) throw new Error(`the big map loaded with ${stored?.keys.length} pairs`);
    await storage.close();
    return { initMs, loadMs };
  } finally {
    dir.done();
  }
}

/** (e) Best of two alternating runs per binding: [node:sqlite, better-sqlite3]. */
async function alternate(f: (driver: SqliteDriverName) => Promise<number>, better: 'higher' | 'lower'): Promise<[number, number]> {
  const best = { 'node:sqlite': better === 'higher' ? 0 : Infinity, 'better-sqlite3': better === 'higher' ? 0 : Infinity };
  for (let round = 0; round < 2; round++) {
    for (const driver of ['node:sqlite', 'better-sqlite3'] as const) {
      const v = await f(driver);
      best[driver] = better === 'higher' ? Math.max(best[driver], v) : Math.min(best[driver], v);
    }
  }
  return [best['node:sqlite'], best['better-sqlite3']];
}

async function bindings(): Promise<BenchRecord[]> {
  const here = availableDrivers();
  if (here.length < 2) {
    console.log(`(e) node:sqlite against better-sqlite3: not measured, Node ${process.version} has only ${here.join(', ')}`);
    return [];
  }
  const one = await alternate((d) => commitRate('sqlite', 1, 1, 1000, 1, d), 'higher');
  const group = await alternate((d) => commitRate('sqlite', 1, 1, 4000, 16, d), 'higher');
  const spread = await alternate((d) => commitRate('sqlite', 16, 1, 8000, 16, d), 'higher');
  const big = new StateMap({ key: kinds.string, value: kinds.string });
  for (let i = 0; i < 1_000_000; i++) big.push(`key-${i}`, `value-${i}`);
  big.setMaster(true);
  await big.freeze();
  const initData = encodeInitData(big);
  const runs: Record<SqliteDriverName, Array<{ initMs: number; loadMs: number }>> = { 'node:sqlite': [], 'better-sqlite3': [] };
  await alternate(async (d) => {
    runs[d].push(await bigMap(d, big, initData));
    return 0;
  }, 'higher');
  const bestOf = (d: SqliteDriverName, k: 'initMs' | 'loadMs'): number => Math.min(...runs[d].map((r) => r[k]));
  const vs = 'node:sqlite (vs better-sqlite3)';
  return [
    higherIsBetterThanBaseline(`storage single-key events, 1 map, 1 client: ${vs}`, 'ops/s', one[0], one[1]),
    higherIsBetterThanBaseline(`storage single-key events, 1 map, 16 clients (group commit): ${vs}`, 'ops/s', group[0], group[1]),
    higherIsBetterThanBaseline(`storage single-key events, 16 maps, 16 clients: ${vs}`, 'ops/s', spread[0], spread[1]),
    lowerIsBetterThanBaseline(`storage Init of a 1M-pair map: ${vs}`, 'ms', bestOf('node:sqlite', 'initMs'), bestOf('better-sqlite3', 'initMs')),
    lowerIsBetterThanBaseline(`storage load of a 1M-pair map after a restart: ${vs}`, 'ms', bestOf('node:sqlite', 'loadMs'), bestOf('better-sqlite3', 'loadMs')),
  ];
}

export async function run(): Promise<BenchRecord[]> {
  const one = [await commitRate('sqlite', 1, 1, 1000, 1), await commitRate('memory', 1, 1, 20_000, 1)];
  const single = [await commitRate('sqlite', 1, 1, 4000, 16), await commitRate('memory', 1, 1, 20_000, 16)];
  const spread = [await commitRate('sqlite', 16, 1, 8000, 16), await commitRate('memory', 16, 1, 20_000, 16)];
  const batched = [await commitRate('sqlite', 1, 100, 2000, 16), await commitRate('memory', 1, 100, 5000, 16)];
  // The same events on PostgreSQL (one server; `cluster` measures several, through TLS).
  postgres = await startPostgres();
  let pg: number[];
  try {
    pg = [
      await commitRate('postgres', 1, 1, 500, 1),
      await commitRate('postgres', 1, 1, 8000, 16),
      await commitRate('postgres', 16, 1, 8000, 16),
      await commitRate('postgres', 1, 1, 8000, 64),
    ];
  } finally {
    await postgres.stop();
  }
  const restart = await restartLatency();
  const drivers = await bindings();
  return [
    higherIsBetterThanBaseline('storage single-key events, 1 map, 1 client (durable vs in memory)', 'ops/s', one[0]!, one[1]!),
    higherIsBetterThanBaseline('storage single-key events, 1 map, 16 clients (durable vs in memory)', 'ops/s', single[0]!, single[1]!),
    higherIsBetterThanBaseline('storage single-key events, 16 maps, 16 clients (durable vs in memory)', 'ops/s', spread[0]!, spread[1]!),
    higherIsBetterThanBaseline('storage 100-key events, 1 map, 16 clients (durable vs in memory)', 'ops/s', batched[0]!, batched[1]!),
    higherIsBetterThanBaseline('storage single-key events, 1 map, 1 client: PostgreSQL (vs SQLite)', 'ops/s', pg[0]!, one[0]!),
    higherIsBetterThanBaseline('storage single-key events, 1 map, 16 clients: PostgreSQL (vs SQLite)', 'ops/s', pg[1]!, single[0]!),
    higherIsBetterThanBaseline('storage single-key events, 16 maps, 16 clients: PostgreSQL (vs SQLite)', 'ops/s', pg[2]!, spread[0]!),
    higherIsBetterThanBaseline('storage single-key events, 1 map, 64 clients: PostgreSQL (vs 16 clients)', 'ops/s', pg[3]!, pg[1]!),
    lowerIsBetterThanBaseline(
      'storage first GetDiff after restart, 10k keys (vs before restart)',
      'ms',
      restart.firstMs,
      restart.warmFirstMs,
    ),
    lowerIsBetterThanBaseline('storage GetDiff after restart (vs before restart)', 'us', restart.afterUs, restart.beforeUs),
    ...drivers,
  ];
}
