// Several `syncstate serve --storage postgres://...` on one PostgreSQL
// (started here, a real one) serve the same maps: a load balancer may send
// any request to any of them. Real Rust clients (the crate's TcpStateRemote,
// through the fixture program) and TypeScript clients send events for the
// same map through different servers at once; then:
// - update ids run 1..N without gaps, one Set each: every event applied
//   once (each has its own value), none twice, and every acknowledged one;
// - every server answers GetDiff(0, N) with the same pairs;
// - an event acknowledged by one server is seen by the next read on another;
// - a server SIGKILLed mid-stream, or a PostgreSQL restart, loses nothing
//   acknowledged, and the others (and the restarted database) carry on;
// - Inits of one map racing on three servers create it once;
// - through a real load balancer (HAProxy, round-robin), each read on the
//   other server than the event before it, clients see one map;
// - `serve --workers N` runs N processes on one port.
import { setTimeout as sleep } from 'node:timers/promises';
import { execFileSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { kinds, StateMap } from '@syncstate-ts/core';
import { TcpStateRemote } from '@syncstate-ts/remote';
import { startHaproxy } from '@syncstate-ts/testkit/haproxy';
import { startPostgres, type TestPostgres } from '@syncstate-ts/testkit/postgres';
import { RustClient } from '@syncstate-ts/testkit/rust';
import { encode } from '@syncstate-ts/codec';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { kvEvent } from '../src/kv.js';
import { runCli, type ServeProcess, startServe, tempDir } from './helpers/cli.js';

let postgres: TestPostgres;
const dir = tempDir('cluster');
beforeAll(async () => {
  postgres = await startPostgres();
});
afterAll(async () => {
  await postgres.stop();
  dir.remove();
});

interface Cluster {
  servers: ServeProcess[];
  pem: string;
  password: string;
  remote(i: number): TcpStateRemote<string, string>;
  start(i: number): Promise<void>;
  stop(): Promise<void>;
}

async function cluster(n: number): Promise<Cluster> {
  const url = await postgres.database();
  const data = `data-${Math.random().toString(36).slice(2)}`;
  const args = ['--port', '0', '--storage', url, '--data', data, '--log-level', 'error'];
  const servers: ServeProcess[] = [];
  // The first run makes the data folder's certificate and password; the others share them.
  for (let i = 0; i < n; i++) servers.push(await startServe(args, { cwd: dir.path }));
  const pem = readFileSync(join(dir.path, data, 'cert.pem'), 'utf8');
  const password = readFileSync(join(dir.path, data, 'password'), 'utf8').trim();
  return {
    servers,
    pem,
    password,
    remote: (i) =>
      new TcpStateRemote({ port: servers[i]!.port, tls: { ca: pem }, password, key: kinds.string, value: kinds.string, connectTimeoutMs: 2000 }),
    start: async (i) => {
      servers[i] = await startServe(['--port', String(servers[i]!.port), ...args.slice(2)], { cwd: dir.path });
    },
    stop: async () => {
      await Promise.all(servers.map((s) => s.stop()));
    },
  };
}

const KEYS = 4000;
const keys = Array.from({ length: KEYS }, (_, i) => `e${i}`);
const set = (i: number): Uint8Array => encode(kvEvent, { type: 'Set', value: [`e${i}`, `v${i}`] });

/** Streams Set events (one key each) through every server from TS and Rust clients until `stop` resolves; returns the acknowledged ones. */
async function stream(c: Cluster, hash: Uint8Array, rust: RustClient[], stop: Promise<void>, first: { next: number }): Promise<number[]> {
  const acknowledged: number[] = [];
  let running = true;
  void stop.then(() => (running = false));
  const ts = async (server: number): Promise<void> => {
    const remote = c.remote(server);
    while (running && first.next < KEYS) {
      const i = first.next++;
      if (await remote.sendEvent(set(i), hash).then(() => true, () => false)) acknowledged.push(i);
    }
  };
  const rs = async (client: RustClient): Promise<void> => {
    while (running && first.next < KEYS) {
      const i = first.next++;
      const sent = await client.send({ op: 'send_event', id: 'r', event: { Set: [`e${i}`, `v${i}`] } });
      if ('ok' in sent) acknowledged.push(i);
    }
  };
  await Promise.all([...c.servers.map((_, s) => ts(s)), ...rust.map(rs)]);
  return acknowledged;
}

/** Checks the map on every running server: same id, same pairs, ids 1..N one Set each, each event once, every acknowledged one there. */
async function check(c: Cluster, hash: Uint8Array, acknowledged: readonly number[], running: readonly number[]): Promise<bigint> {
  const ids = await Promise.all(running.map((s) => c.remote(s).getUpdateId(hash)));
  expect(new Set(ids).size, `update ids of servers ${running.join(', ')}: ${ids.join(', ')}`).toBe(1);
  const n = ids[0]!;
  const full = await Promise.all(running.map((s) => c.remote(s).fetchUpdates(0n, n, hash)));
  for (const diff of full.slice(1)) expect(diff.entries).toEqual(full[0]!.entries);
  const applied = new Map<string, bigint>();
  const remote = c.remote(running[0]!);
  for (let id = 1n; id <= n; id++) {
    // GetDiff(0, 1) answers the whole map (a request from 0 gets the freeze entry too): its one changed pair is the update.
    const step = await remote.fetchUpdates(id - 1n, id, hash);
    const pairs = id === 1n ? step.entries.filter(([, v]) => v !== '0') : step.entries;
    expect([step.uptoUpdateId, pairs.length], `update ${id}`).toEqual([id, 1]);
    const [k, v] = pairs[0]!;
    expect(applied.has(k), `${k} applied twice (update ids ${applied.get(k)} and ${id})`).toBe(false);
    expect(v).toBe(`v${k.slice(1)}`);
    applied.set(k, id);
  }
  const lost = acknowledged.filter((i) => !applied.has(`e${i}`));
  expect(lost, 'acknowledged events missing').toEqual([]);
  return n;
}

async function initMap(c: Cluster, rust: RustClient[]): Promise<Uint8Array> {
  const map = new StateMap({ key: kinds.string, value: kinds.string, remote: c.remote(0) });
  for (const k of keys) map.push(k, '0');
  await map.freeze();
  for (const r of rust) {
    await r.ok({ op: 'new', id: 'r', pairs: keys.map((k) => [k, '0']) });
    await r.ok({ op: 'freeze', id: 'r' }); // InitSuccess from another server: the map exists
  }
  return map.hash()!;
}

/** Three servers, a Rust client on each, the map created through them all; stops everything after `test`. */
async function withClusterAndMap(test: (c: Cluster, rust: RustClient[], hash: Uint8Array) => Promise<void>): Promise<void> {
  const c = await cluster(3);
  const rust = c.servers.map((s) => RustClient.start({ port: s.port, rootCert: c.pem, password: c.password }));
  try {
    await test(c, rust, await initMap(c, rust));
  } finally {
    await Promise.all(rust.map((r) => r.close()));
    await c.stop();
  }
}

describe('three servers on one PostgreSQL', () => {
  it('serve one map from TS and Rust clients at once: contiguous ids, each event once, the same answers everywhere, read-your-writes', { timeout: 120_000 }, async () => {
    await withClusterAndMap(async (c, rust, hash) => {
      const cursor = { next: 0 };
      // Meanwhile: an event acknowledged by server s is visible to the very next read on server s + 1.
      const visibility = (async () => {
        for (let round = 0; round < 30; round++) {
          const s = round % 3;
          const i = KEYS - 1 - round;
          await c.remote(s).sendEvent(set(i), hash);
          const other = c.remote((s + 1) % 3);
          const id = await other.getUpdateId(hash);
          const seen = new Map((await other.fetchUpdates(0n, id, hash)).entries);
          expect(seen.get(`e${i}`), `event acknowledged by server ${s}, read on server ${(s + 1) % 3}`).toBe(`v${i}`);
        }
      })();
      const acknowledged = await stream(c, hash, rust, sleep(2500), cursor);
      await visibility;
      expect(acknowledged.length).toBeGreaterThan(100);
      const n = await check(c, hash, [...acknowledged, ...Array.from({ length: 30 }, (_, r) => KEYS - 1 - r)], [0, 1, 2]);
      expect(n).toBe(BigInt(acknowledged.length + 30));
    });
  });

  it('a server killed with SIGKILL mid-stream, then a PostgreSQL restart mid-stream: nothing acknowledged is lost, the others carry on', { timeout: 120_000 }, async () => {
    await withClusterAndMap(async (c, rust, hash) => {
      const cursor = { next: 0 };
      // 1. SIGKILL server 1 while everyone streams; it held or wanted the map's lock at some point.
      const killed = stream(c, hash, rust, sleep(1500), cursor);
      await sleep(400 + Math.random() * 600);
      c.servers[1]!.child.kill('SIGKILL');
      const acknowledged = await killed;
      await check(c, hash, acknowledged, [0, 2]);
      await c.start(1);
      await check(c, hash, acknowledged, [0, 1, 2]);

      // 2. Restart PostgreSQL while everyone streams: requests in flight fail, later ones succeed.
      const restarted = stream(c, hash, rust, sleep(3000), cursor);
      await sleep(500);
      await postgres.restart({ downMs: 300 });
      const more = await restarted;
      const after = await c.remote(0).sendEvent(set(KEYS - 1), hash).then(() => [KEYS - 1], () => []);
      expect(after, 'an event after the restart').toEqual([KEYS - 1]);
      await check(c, hash, [...acknowledged, ...more, ...after], [0, 1, 2]);
    });
  });

  it('behind a real TCP load balancer (HAProxy, round-robin): TS and Rust clients see one consistent map', { timeout: 90_000 }, async () => {
    const c = await cluster(2);
    const balancer = await startHaproxy(c.servers.map((s) => s.port));
    const rust = RustClient.start({ port: balancer.port, rootCert: c.pem, password: c.password });
    try {
      const through = new TcpStateRemote({ port: balancer.port, tls: { ca: c.pem }, password: c.password, key: kinds.string, value: kinds.string });
      const map = new StateMap({ key: kinds.string, value: kinds.string, remote: through });
      for (const k of keys) map.push(k, '0');
      await map.freeze();
      const hash = map.hash()!;
      await rust.ok({ op: 'new', id: 'r', pairs: keys.map((k) => [k, '0']) });
      await rust.ok({ op: 'freeze', id: 'r' });
      const acknowledged: number[] = [];
      for (let i = 0; i < 120; i++) {
        // Alternate clients; round-robin alternates servers: every read may land on the other server.
        if (i % 2 === 0) {
          await through.sendEvent(set(i), hash);
        } else {
          const sent = await rust.send({ op: 'send_event', id: 'r', event: { Set: [`e${i}`, `v${i}`] } });
          expect(sent, `Rust event ${i}`).toHaveProperty('ok');
        }
        acknowledged.push(i);
        expect(await through.getUpdateId(hash), `read after event ${i}`).toBe(BigInt(i + 1));
      }
      // The Rust client syncs its own map through the balancer to the same state.
      await rust.ok({ op: 'set_update_id', id: 'r', target: '120' });
      const got = await rust.ok<{ pairs: Array<[string, string]> }>({ op: 'get', id: 'r' });
      const values = new Map(got.pairs);
      for (const i of acknowledged) expect(values.get(`e${i}`)).toBe(`v${i}`);
      await check(c, hash, acknowledged, [0, 1]);
    } finally {
      await rust.close();
      await balancer.stop();
      await c.stop();
    }
  });

  it('Inits of one map racing on three servers create it once; every client gets InitSuccess', { timeout: 60_000 }, async () => {
    const c = await cluster(3);
    try {
      for (let round = 0; round < 5; round++) {
        const maps = c.servers.map((_, s) => {
          const map = new StateMap({ key: kinds.string, value: kinds.string, remote: c.remote(s) });
          for (let k = 0; k < 300; k++) map.push(`race-${round}-${k}`, String(k));
          return map;
        });
        await Promise.all(maps.map((m) => m.freeze())); // each rejects unless its Init got InitSuccess
        const hash = maps[0]!.hash()!;
        for (let s = 0; s < 3; s++) expect(await c.remote(s).getUpdateId(hash)).toBe(0n);
      }
    } finally {
      await c.stop();
    }
  });
});

describe('serve --workers', () => {
  it('runs N processes on one port over PostgreSQL, restarts a killed one, and stops them all', { timeout: 90_000 }, async () => {
    const url = await postgres.database();
    const serve = await startServe(['--port', '0', '--storage', url, '--workers', '2', '--data', 'workers', '--log-level', 'error'], { cwd: dir.path });
    const workers = (): number[] =>
      execFileSync('pgrep', ['-P', String(serve.child.pid)], { encoding: 'utf8' }).trim().split('\n').filter(Boolean).map(Number);
    try {
      expect(workers()).toHaveLength(2);
      const pem = readFileSync(join(dir.path, 'workers', 'cert.pem'), 'utf8');
      const password = readFileSync(join(dir.path, 'workers', 'password'), 'utf8').trim();
      const remote = (): TcpStateRemote<string, string> =>
        new TcpStateRemote({ port: serve.port, tls: { ca: pem }, password, key: kinds.string, value: kinds.string });
      const map = new StateMap({ key: kinds.string, value: kinds.string, remote: remote() });
      for (const k of keys.slice(0, 10)) map.push(k, '0');
      await map.freeze();
      const hash = map.hash()!;
      // Many connections: the kernel spreads them over both workers; each answers from the shared maps.
      for (let i = 0; i < 40; i++) await remote().sendEvent(set(i % 10), hash);
      expect(await remote().getUpdateId(hash)).toBe(40n);

      const [victim] = workers();
      process.kill(victim!, 'SIGKILL');
      // Connections the kernel had already queued on the killed worker's socket are reset with it;
      // once it is gone, the other worker (and then its replacement) answers everything.
      await waitUntil(() => !workers().includes(victim!));
      for (let i = 0; i < 10; i++) expect(await remote().getUpdateId(hash)).toBe(40n);
      await waitUntil(() => workers().length === 2 && !workers().includes(victim!));
      await remote().sendEvent(set(0), hash);
      expect(await remote().getUpdateId(hash)).toBe(41n);
    } finally {
      const stopped = await serve.stop();
      expect(stopped.code).toBe(0);
    }
    expect(() => workers()).toThrow(); // pgrep finds no child: the workers are gone
  });

  it('without a shared storage it refuses, saying why', async () => {
    const result = await runCli(['serve', '--port', '0', '--workers', '2', '--data', 'no-shared'], { cwd: dir.path });
    expect(result.code).toBe(2);
    expect(result.stderr).toMatch(/--workers needs --storage postgres:\/\//);
  });
});

async function waitUntil(condition: () => boolean, timeoutMs = 20_000): Promise<void> {
  const end = Date.now() + timeoutMs;
  while (!condition()) {
    if (Date.now() > end) throw new Error('timed out waiting');
    await sleep(100);
  }
}
