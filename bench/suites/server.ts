// Our server (`syncstate serve`, the CLI with its defaults) against the Rust
// TcpStateServer (fixtures `server` mode), under one load generator for
// both: fixtures/src/bench_server.rs, Rust threads with rustls, one TLS
// connection per request as every syncstate client does. Same certificate
// (ECDSA P-256), password and map on both servers, run one after the other,
// cell by cell, on the same machine. The servers and the generator share its
// cores (2 on the reference machine): the generator's own CPU is part of
// every number, equally for both servers. Every server gets the same
// discarded warm-up load first.
//
// Workloads: GetUpdateId, and GetDiff(0 → 10) of a 1,000-pair map that has
// had 10 updates (~20 KB answer: what a new client downloads), each with 1,
// 16 and 64 concurrent clients: requests/s, p50 and p99 latency. Then the TLS
// handshake's share of a request (1 client, GetUpdateId), with full
// handshakes and with TLS 1.3 session resumption (rustls' default client
// cache, which Rust `TcpStateRemote`s sharing a ClientConfig use).
// `syncstate serve` uses the rustls transport by default (TLS natively, on a
// thread pool); for context the same server on node:tls (`--transport node`)
// runs GetUpdateId under the same load.
//
// That generator is friendlier than the clients people run (TCP_NODELAY, one
// write per frame). So the goals are measured with the clients people run:
// the crate's own `TcpStateRemote` through its public API (fixtures
// `bench remote`: Nagle on, two writes per request, TLS resumption as rustls
// does it) for GetUpdateId (`Remote::init` of a known map), Event
// (`send_event`) and GetDiff (`fetch_updates(0, 1)`) at 1, 16 and 64 clients;
// and our TypeScript client (`TcpStateRemote` of @syncstate-ts/remote), one
// request at a time, against the Rust client on the same server.
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { t } from '@syncstate-ts/codec';
import { Event, kinds } from '@syncstate-ts/core';
import { TcpStateRemote } from '@syncstate-ts/remote';
import type { BenchRecord, RemoteResult } from '../harness.ts';
import { cliBin, createKeyValueMap, fixturesBinary, higherIsBetter, lowerIsBetter, runRustBench, sourceLoader, startChild, stopper } from '../harness.ts';

const PAIRS = 1000;
const UPDATES = 10;
const CONCURRENCY = [1, 16, 64];
const WARMUP_MS = 300;
const DURATION_MS = 1500;
/** Once per server and workload, before any cell. */
const SERVER_WARMUP_MS = 1500;
/** Each cell runs ours, Rust, ours, Rust and keeps each server's better run: background load on a shared machine hits both alike. */
const ROUNDS = 2;

interface LoadResult {
  requests: number;
  errors: number;
  firstError: string | null;
  resumed: number;
  rps: number;
  p50Us: number;
  p99Us: number;
  meanUs: number;
  connectMeanUs: number;
  handshakeMeanUs: number;
  exchangeMeanUs: number;
}


type RealRequest = 'get-update-id' | 'event' | 'get-diff';
const REAL_REQUESTS: Array<[RealRequest, string]> = [
  ['get-update-id', 'GetUpdateId'],
  ['get-diff', 'GetDiff(0, 1)'],
  ['event', 'Event'],
];
/** Sequential requests of our TypeScript client per server, after as many discarded. */
const TS_CLIENT_REQUESTS = 1000;

interface Target {
  name: 'ts' | 'rust';
  port: number;
  hash: string;
}

/** Creates the 1,000-pair map and applies UPDATES Set events; returns its hash. */
async function prepareMap(port: number, ca: string, password: string): Promise<string> {
  const { remote, hash } = await createKeyValueMap(port, ca, password, PAIRS);
  // The built-in Set of `syncstate serve` and the fixture server's KvEvent::Set are the same variant 0.
  const kvSet = t.enumOf({ Set: t.tuple(t.string, t.string) });
  for (let j = 0; j < UPDATES; j++) {
    await remote.sendEvent(new Event(kvSet, { type: 'Set', value: [`key-${(j * 97) % PAIRS}`, `updated-${j}`] }), hash);
  }
  for (let tries = 0; (await remote.getUpdateId(hash)) < BigInt(UPDATES); tries++) {
    if (tries > 100) throw new Error('the events were not applied');
    await sleep(20);
  }
  const diff = await remote.fetchUpdates(0n, BigInt(UPDATES), hash);
  if (diff.size !== PAIRS) throw new Error(`GetDiff(0, ${UPDATES}) answered ${diff.size} pairs, expected ${PAIRS}`);
  return Buffer.from(hash).toString('hex');
}

function load(
  target: Target,
  caPath: string,
  password: string,
  request: 'get-update-id' | 'get-diff',
  concurrency: number,
  resume = false,
  durationMs = DURATION_MS,
): LoadResult {
  const args = ['server', '--port', String(target.port), '--ca', caPath, '--password', password, '--hash', target.hash, '--request', request];
  if (request === 'get-diff') args.push('--from', '0', '--upto', String(UPDATES));
  args.push('--concurrency', String(concurrency), '--warmup-ms', String(WARMUP_MS), '--duration-ms', String(durationMs));
  if (resume) args.push('--resume');
  const result = runRustBench<LoadResult>(args);
  if (result.errors > 0 || result.requests === 0) {
    throw new Error(`${target.name} ${request} c=${concurrency}: ${result.errors} errors of ${result.requests + result.errors}, first: ${result.firstError}`);
  }
  return result;
}

function clients(c: number): string {
  return `${c} client${c === 1 ? '' : 's'}`;
}

/** The crate's own client (`TcpStateRemote` through its public API) as the load. */
function realClientLoad(target: Target, caPath: string, password: string, request: RealRequest, concurrency: number): RemoteResult {
  const args = ['remote', '--port', String(target.port), '--ca', caPath, '--password', password, '--request', request, '--pairs', String(PAIRS)];
  args.push('--concurrency', String(concurrency), '--warmup-ms', String(WARMUP_MS), '--duration-ms', String(DURATION_MS));
  const result = runRustBench<RemoteResult>(args);
  if (result.errors > 0 || result.requests === 0) {
    throw new Error(`${target.name} real client ${request} c=${concurrency}: ${result.errors} errors of ${result.requests + result.errors}, first: ${result.firstError}`);
  }
  return result;
}

/** Our TypeScript client, one GetUpdateId at a time: p50 and p99 in µs. */
async function tsClientLatency(target: Target, ca: string, password: string): Promise<{ p50Us: number; p99Us: number }> {
  const remote = new TcpStateRemote({ port: target.port, tls: { ca }, password, key: kinds.string, value: kinds.string });
  const hash = Uint8Array.from(Buffer.from(target.hash, 'hex'));
  const times: number[] = [];
  for (let i = 0; i < 2 * TS_CLIENT_REQUESTS; i++) {
    const t0 = process.hrtime.bigint();
    await remote.getUpdateId(hash);
    if (i >= TS_CLIENT_REQUESTS) times.push(Number(process.hrtime.bigint() - t0) / 1000);
  }
  times.sort((a, b) => a - b);
  const at = (p: number): number => times[Math.min(times.length - 1, Math.ceil(p * times.length) - 1)]!;
  return { p50Us: at(0.5), p99Us: at(0.99) };
}

export async function run(): Promise<BenchRecord[]> {
  const data = mkdtempSync(join(tmpdir(), 'syncstate-bench-server-'));
  const targets: Target[] = [];
  const stops: Array<() => Promise<void>> = [];
  try {
    // Our server as users run it: `syncstate serve` with its defaults (durable storage, the rustls
    // transport: named here so that a missing addon fails the run instead of measuring node:tls), logging warnings only.
    const serve = (...flags: string[]) =>
      startChild(
        process.execPath,
        [...sourceLoader, cliBin, 'serve', '--data', data, '--port', '0', '--log-level', 'warn', ...flags],
        /^listening on 127\.0\.0\.1:(\d+)$/,
      );
    const ours = await serve('--transport', 'rustls');
    const caPath = join(data, 'cert.pem');
    const ca = readFileSync(caPath, 'utf8');
    const password = readFileSync(join(data, 'password'), 'utf8').trim();
    const oursPort = Number(ours.match[1]);
    stops.push(stopper(ours.child));
    targets.push({ name: 'ts', port: oursPort, hash: await prepareMap(oursPort, ca, password) });

    // The Rust server with the very same certificate, key and password.
    const rust = await startChild(
      fixturesBinary,
      ['server', '--cert', caPath, '--key', join(data, 'key.pem'), '--password', password, '--port', '0'],
      /^\{"port":(\d+)\}$/,
    );
    const rustPort = Number(rust.match[1]);
    stops.push(stopper(rust.child));
    targets.push({ name: 'rust', port: rustPort, hash: await prepareMap(rustPort, ca, password) });
    const [ts, rs] = targets as [Target, Target];
    if (ts.hash !== rs.hash) throw new Error('the two servers hold different maps');

    // Context: the same server on node:tls. In memory (the first one holds the data folder's
    // database); these requests read memory on both.
    const nodeTls = await serve('--transport', 'node', '--memory');
    stops.push(stopper(nodeTls.child));
    const nodePort = Number(nodeTls.match[1]);
    const onNode: Target = { name: 'ts', port: nodePort, hash: await prepareMap(nodePort, ca, password) };

    // Warm-up, discarded: a few seconds of both workloads on every server before the first cell, so
    // that the first cells do not measure our JIT compiling the request path (nor cold caches on either).
    for (const target of [ts, rs, onNode]) {
      for (const request of ['get-update-id', 'get-diff'] as const) load(target, caPath, password, request, 16, false, SERVER_WARMUP_MS);
    }

    /** Interleaved rounds; each server's run with the most requests/s. */
    const cell = (request: 'get-update-id' | 'get-diff', c: number, resume = false): [LoadResult, LoadResult] => {
      const runs: [LoadResult[], LoadResult[]] = [[], []];
      for (let round = 0; round < ROUNDS; round++) {
        runs[0].push(load(ts, caPath, password, request, c, resume));
        runs[1].push(load(rs, caPath, password, request, c, resume));
      }
      const top = (list: LoadResult[]): LoadResult => list.reduce((x, y) => (y.rps > x.rps ? y : x));
      return [top(runs[0]), top(runs[1])];
    };

    const records: BenchRecord[] = [];
    const rustUpdateId = new Map<number, LoadResult>();
    for (const [request, label] of [
      ['get-update-id', 'GetUpdateId'],
      ['get-diff', `GetDiff 1,000 pairs`],
    ] as const) {
      for (const c of CONCURRENCY) {
        const [a, b] = cell(request, c);
        if (request === 'get-update-id') rustUpdateId.set(c, b);
        const name = `server ${label}, ${clients(c)}`;
        records.push(higherIsBetter(`${name}: req/s`, 'req/s', a.rps, b.rps));
        records.push(lowerIsBetter(`${name}: p50`, 'ms', a.p50Us / 1000, b.p50Us / 1000));
        records.push(lowerIsBetter(`${name}: p99`, 'ms', a.p99Us / 1000, b.p99Us / 1000));
      }
    }

    for (const c of CONCURRENCY) {
      const a = Array.from({ length: ROUNDS }, () => load(onNode, caPath, password, 'get-update-id', c)).reduce((x, y) => (y.rps > x.rps ? y : x));
      const b = rustUpdateId.get(c)!;
      const name = `server on node:tls (--transport node), GetUpdateId, ${clients(c)}`;
      records.push(higherIsBetter(`${name}: req/s`, 'req/s', a.rps, b.rps));
      records.push(lowerIsBetter(`${name}: p99`, 'ms', a.p99Us / 1000, b.p99Us / 1000));
    }

    // The clients people run. Event cells come last: they change the maps the other cells read.
    for (const [request, label] of REAL_REQUESTS) {
      for (const c of CONCURRENCY) {
        const runs: [RemoteResult[], RemoteResult[]] = [[], []];
        for (let round = 0; round < ROUNDS; round++) {
          runs[0].push(realClientLoad(ts, caPath, password, request, c));
          runs[1].push(realClientLoad(rs, caPath, password, request, c));
        }
        const [a, b] = runs.map((list) => list.reduce((x, y) => (y.rps > x.rps ? y : x))) as [RemoteResult, RemoteResult];
        const name = `server Rust client (TcpStateRemote) ${label}, ${clients(c)}`;
        records.push(higherIsBetter(`${name}: req/s`, 'req/s', a.rps, b.rps));
        records.push(lowerIsBetter(`${name}: p50`, 'ms', a.p50Us / 1000, b.p50Us / 1000));
        records.push(lowerIsBetter(`${name}: p99`, 'ms', a.p99Us / 1000, b.p99Us / 1000));
      }
    }
    // node:tls (with TCP_QUICKACK from the addon, as `serve --transport node` sets it) under the real client.
    for (const [request, label] of REAL_REQUESTS) {
      for (const c of [1, 16]) {
        const a = realClientLoad(onNode, caPath, password, request, c);
        const b = realClientLoad(rs, caPath, password, request, c);
        const name = `server on node:tls, Rust client (TcpStateRemote) ${label}, ${clients(c)}`;
        records.push(higherIsBetter(`${name}: req/s`, 'req/s', a.rps, b.rps));
        records.push(lowerIsBetter(`${name}: p50`, 'ms', a.p50Us / 1000, b.p50Us / 1000));
        records.push(lowerIsBetter(`${name}: p99`, 'ms', a.p99Us / 1000, b.p99Us / 1000));
      }
    }
    // Our TypeScript client against the Rust client, each server in turn: `rust` is the Rust client's figure.
    for (const target of [ts, rs]) {
      const ours = await tsClientLatency(target, ca, password);
      const theirs = realClientLoad(target, caPath, password, 'get-update-id', 1);
      const name = `server TypeScript client vs Rust client, GetUpdateId, 1 client, ${target.name === 'ts' ? 'our' : 'the Rust'} server`;
      records.push(lowerIsBetter(`${name}: p50`, 'ms', ours.p50Us / 1000, theirs.p50Us / 1000));
      records.push(lowerIsBetter(`${name}: p99`, 'ms', ours.p99Us / 1000, theirs.p99Us / 1000));
    }

    for (const resume of [false, true]) {
      const [a, b] = cell('get-update-id', 1, resume);
      if (resume && (a.resumed === 0 || b.resumed === 0)) throw new Error('TLS sessions were not resumed');
      const kind = resume ? 'resumed' : 'full';
      const share = (r: LoadResult): number => (100 * r.handshakeMeanUs) / r.meanUs;
      records.push(lowerIsBetter(`server TLS handshake (${kind}), 1 client: mean`, 'ms', a.handshakeMeanUs / 1000, b.handshakeMeanUs / 1000));
      records.push(lowerIsBetter(`server TLS handshake (${kind}), 1 client: share of request`, '%', share(a), share(b)));
      records.push(higherIsBetter(`server GetUpdateId, TLS ${kind}, 1 client: req/s`, 'req/s', a.rps, b.rps));
    }
    return records;
  } finally {
    await Promise.all(stops.map((stop) => stop()));
    rmSync(data, { recursive: true, force: true });
  }
}
