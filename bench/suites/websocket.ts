// The WebSocket carrier (issue #15) against TLS, on one `syncstate serve`
// (the CLI with its defaults: SQLite, the rustls transport for TLS) with a
// WebSocket port (`--ws-port`, plain ws:// on loopback).
//
// 1. GetUpdateId requests/s and p50/p99 at 1, 16 and 64 clients, each client
//    one request at a time:
//    - WebSocket: one persistent WebSocket per client (WebSocketRemote over
//      the `ws` package);
//    - TLS as users run it, one connection per request: the Rust crate's own
//      TcpStateRemote (fixtures `bench remote`, Nagle on, two writes, TLS
//      resumption as rustls does it, a thread per client) and our
//      TcpStateRemote.
//    Our clients run in GENERATORS processes (load-client.ts), the clients
//    split between them: one Node thread for all would take turns with the
//    server instead of running beside it.
//    Each cell runs WebSocket, Rust client, ours, twice, and keeps each one's
//    run with more requests/s. Ratios: WebSocket against each TLS client.
// 2. From an event to a subscribed client: SUBSCRIBERS WebSocket connections
//    subscribe to one map; one more sends Set events one at a time; for each
//    event and subscriber, the time from just before sending it to the
//    arrival of the Update (the push), and to the moment `watch` (by pushes)
//    yields the change. Measured from the send, it bounds the time from the
//    event being applied from above. Against `watch` of TcpStateRemote
//    polling at its default interval (DEFAULT_WATCH_INTERVAL_MS).
//
// The load generators share the machine's cores with the server (2 on the
// reference machine): their CPU is part of every number.
import { spawn } from 'node:child_process';
import { setMaxListeners } from 'node:events';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createInterface } from 'node:readline';
import { setTimeout as sleep } from 'node:timers/promises';
import { fileURLToPath } from 'node:url';
import WebSocket from 'ws';
import { t } from '@syncstate-ts/codec';
import { Event, kinds, StateMap } from '@syncstate-ts/core';
import { DEFAULT_WATCH_INTERVAL_MS, TcpStateRemote, WebSocketRemote, type WebSocketConstructor } from '@syncstate-ts/remote';
import { freePort } from '@syncstate-ts/testkit/ports';
import type { BenchRecord, RemoteResult } from '../harness.ts';
import {
  cliBin,
  createKeyValueMap,
  higherIsBetterThanBaseline,
  lowerIsBetterThanBaseline,
  runRustBench,
  sourceLoader,
  startChild,
  stopper,
} from '../harness.ts';

const PAIRS = 1000;
const CONCURRENCY = [1, 16, 64];
const WARMUP_MS = 300;
const DURATION_MS = 1500;
const ROUNDS = 2;
/** Load generator processes for our clients (one per core of the reference machine). */
const GENERATORS = 2;
const loadClient = fileURLToPath(new URL('../load-client.ts', import.meta.url));

const SUBSCRIBERS = 16;
const PUSH_EVENTS = 300;
const WATCH_EVENTS = 100;
const POLL_EVENTS = 10;

const NodeWebSocket = WebSocket as unknown as WebSocketConstructor;
const kvSet = t.enumOf({ Set: t.tuple(t.string, t.string) });
const setEvent = (key: string, value: string): Event<unknown> => new Event(kvSet, { type: 'Set', value: [key, value] }) as Event<unknown>;

interface Load {
  rps: number;
  p50Us: number;
  p99Us: number;
}

function percentile(sorted: readonly number[], p: number): number {
  return sorted[Math.min(sorted.length - 1, Math.max(0, Math.ceil(p * sorted.length) - 1))]!;
}

/**
 * `clients` of ours (load-client.ts), each sending GetUpdateId one at a time,
 * split over GENERATORS processes; requests completed in the measured window count.
 */
async function generators(clients: number, args: (clientsOfOne: number) => string[]): Promise<Load> {
  const count = Math.min(GENERATORS, clients);
  const children = Array.from({ length: count }, (_, i) => {
    const share = Math.floor(clients / count) + (i < clients % count ? 1 : 0);
    const child = spawn(process.execPath, [...sourceLoader, loadClient, ...args(share), String(WARMUP_MS), String(DURATION_MS)], { stdio: ['pipe', 'pipe', 'inherit'] });
    const lines = createInterface({ input: child.stdout });
    const next = (): Promise<string> =>
      new Promise((resolve, reject) => {
        lines.once('line', resolve);
        child.once('exit', (code) => reject(new Error(`load-client.ts exited (${code})`)));
      });
    return { child, next };
  });
  // All connected first, then measured over the same moments.
  for (const ready of await Promise.all(children.map((c) => c.next()))) if (ready !== 'ready') throw new Error(`load-client.ts said ${ready}`);
  const outputs = children.map((c) => c.next());
  for (const { child } of children) child.stdin.end('go\n');
  const results = (await Promise.all(outputs)).map((line) => JSON.parse(line) as { elapsedMs: number; timesMs: number[] });
  const times = results.flatMap((r) => r.timesMs).sort((a, b) => a - b);
  const rps = results.reduce((sum, r) => sum + (r.timesMs.length * 1000) / r.elapsedMs, 0);
  return { rps, p50Us: percentile(times, 0.5) * 1000, p99Us: percentile(times, 0.99) * 1000 };
}

/** Called by the clients' callbacks after each update they record: wakes `until`. */
let wake: (() => void) | undefined;
const notify = (): void => wake?.();

/** Resolves once `check()` holds, looking again each time a client records something; fails after 10 s. */
async function until(check: () => boolean, failure: string): Promise<void> {
  const deadline = Date.now() + 10_000;
  while (!check()) {
    const left = deadline - Date.now();
    if (left <= 0) throw new Error(`${failure} within 10 s`);
    await new Promise<void>((resolve) => {
      const timer = setTimeout(resolve, left);
      wake = () => {
        clearTimeout(timer);
        resolve();
      };
    });
    wake = undefined;
  }
}

const best = (runs: Load[]): Load => runs.reduce((a, b) => (b.rps > a.rps ? b : a));
const clients = (c: number): string => `${c} client${c === 1 ? '' : 's'}`;

export async function run(): Promise<BenchRecord[]> {
  const data = mkdtempSync(join(tmpdir(), 'syncstate-bench-websocket-'));
  const stops: Array<() => Promise<void>> = [];
  const open: Array<WebSocketRemote<string, string>> = [];
  try {
    const wsPort = await freePort();
    const serve = await startChild(
      process.execPath,
      [...sourceLoader, cliBin, 'serve', '--data', data, '--port', '0', '--transport', 'rustls', '--ws-port', String(wsPort), '--ws-plain', '--log-level', 'warn'],
      /^listening on 127\.0\.0\.1:(\d+)$/,
    );
    stops.push(stopper(serve.child));
    const port = Number(serve.match[1]);
    const caPath = join(data, 'cert.pem');
    const ca = readFileSync(caPath, 'utf8');
    const password = readFileSync(join(data, 'password'), 'utf8').trim();
    const url = `ws://127.0.0.1:${wsPort}/`;
    const { hash } = await createKeyValueMap(port, ca, password, PAIRS);
    // Without --tokens the server's password is the one (full-access) token.
    const wsRemote = (): WebSocketRemote<string, string> => {
      const remote = new WebSocketRemote({ url, token: password, key: kinds.string, value: kinds.string, WebSocket: NodeWebSocket });
      open.push(remote);
      return remote;
    };
    const tlsRemote = (): TcpStateRemote<string, string> => new TcpStateRemote({ port, tls: { ca }, password, key: kinds.string, value: kinds.string });

    const hashHex = Buffer.from(hash).toString('hex');
    const wsLoad = (c: number): Promise<Load> => generators(c, (n) => ['websocket', url, password, hashHex, String(n)]);
    const tsTlsLoad = (c: number): Promise<Load> => generators(c, (n) => ['tls', String(port), caPath, password, hashHex, String(n)]);
    const rustTlsLoad = (c: number): Load => {
      const args = ['remote', '--port', String(port), '--ca', caPath, '--password', password, '--request', 'get-update-id', '--pairs', String(PAIRS)];
      args.push('--concurrency', String(c), '--warmup-ms', String(WARMUP_MS), '--duration-ms', String(DURATION_MS));
      const r = runRustBench<RemoteResult>(args);
      if (r.errors > 0 || r.requests === 0) throw new Error(`Rust client c=${c}: ${r.errors} errors, first: ${r.firstError}`);
      return r;
    };

    // Warm-up, discarded: the server's request paths on both carriers.
    await wsLoad(16);
    rustTlsLoad(16);

    const records: BenchRecord[] = [];
    for (const c of CONCURRENCY) {
      const runs: [Load[], Load[], Load[]] = [[], [], []];
      for (let round = 0; round < ROUNDS; round++) {
        runs[0].push(await wsLoad(c));
        runs[1].push(rustTlsLoad(c));
        runs[2].push(await tsTlsLoad(c));
      }
      const [ws, rust, ours] = runs.map(best) as [Load, Load, Load];
      const name = `websocket GetUpdateId, ${clients(c)}`;
      records.push(higherIsBetterThanBaseline(`${name}: req/s, one WebSocket per client vs TLS per request (Rust client)`, 'req/s', ws.rps, rust.rps));
      records.push(lowerIsBetterThanBaseline(`${name}: p50, WebSocket vs TLS per request (Rust client)`, 'ms', ws.p50Us / 1000, rust.p50Us / 1000));
      records.push(lowerIsBetterThanBaseline(`${name}: p99, WebSocket vs TLS per request (Rust client)`, 'ms', ws.p99Us / 1000, rust.p99Us / 1000));
      records.push(higherIsBetterThanBaseline(`${name}: req/s, one WebSocket per client vs TLS per request (our client)`, 'req/s', ws.rps, ours.rps));
      records.push(lowerIsBetterThanBaseline(`${name}: p99, WebSocket vs TLS per request (our client)`, 'ms', ws.p99Us / 1000, ours.p99Us / 1000));
    }

    // Section 2 on this server (durable: each event is a SQLite commit before its push), with the
    // polling baseline, then on one keeping maps in memory (`--memory`: no commit to wait for).
    const durable = await pushLatency(hash, wsRemote, tlsRemote);
    const memoryPort = await freePort();
    const memoryServe = await startChild(
      process.execPath,
      [...sourceLoader, cliBin, 'serve', '--data', data, '--memory', '--port', '0', '--transport', 'rustls', '--ws-port', String(memoryPort), '--ws-plain', '--log-level', 'warn'],
      /^listening on 127\.0\.0\.1:(\d+)$/,
    );
    stops.push(stopper(memoryServe.child));
    await createKeyValueMap(Number(memoryServe.match[1]), ca, password, PAIRS);
    const inMemory = await pushLatency(hash, () => {
      const remote = new WebSocketRemote({ url: `ws://127.0.0.1:${memoryPort}/`, token: password, key: kinds.string, value: kinds.string, WebSocket: NodeWebSocket });
      open.push(remote);
      return remote;
    });
    const poll = durable.poll!;
    console.log(`  samples: push ${durable.push.samples} + ${inMemory.push.samples}, watch ${durable.watch.samples}, polling ${poll.samples}`);
    const vs = `vs TLS watch polling every ${DEFAULT_WATCH_INTERVAL_MS} ms`;
    for (const [label, run] of [['SQLite (serve default)', durable], ['--memory', inMemory]] as const) {
      const name = `websocket push, ${label}: event sent → Update at ${SUBSCRIBERS} subscribers`;
      records.push(lowerIsBetterThanBaseline(`${name}: p50, ${vs}`, 'ms', run.push.p50, poll.p50));
      records.push(lowerIsBetterThanBaseline(`${name}: p99, ${vs}`, 'ms', run.push.p99, poll.p99));
    }
    records.push(lowerIsBetterThanBaseline(`websocket watch by pushes, SQLite: event sent → change yielded: p50, ${vs}`, 'ms', durable.watch.p50, poll.p50));
    records.push(lowerIsBetterThanBaseline(`websocket watch by pushes, SQLite: event sent → change yielded: p99, ${vs}`, 'ms', durable.watch.p99, poll.p99));
    return records;
  } finally {
    for (const r of open) r.close();
    await Promise.all(stops.map((stop) => stop()));
    rmSync(data, { recursive: true, force: true });
  }
}

interface Latency {
  p50: number;
  p99: number;
  samples: number;
}

/**
 * Section 2 on one server: event → push, event → watch's change (pushes), and
 * with `tlsRemote`, event → watch's change (TLS polling). Milliseconds.
 */
async function pushLatency(
  hash: Uint8Array,
  wsRemote: () => WebSocketRemote<string, string>,
  tlsRemote?: () => TcpStateRemote<string, string>,
): Promise<{ push: Latency; watch: Latency; poll: Latency | undefined }> {
  const key = 'key-7';
  const sender = wsRemote();
  const mapOf = (remote: WebSocketRemote<string, string> | TcpStateRemote<string, string>): StateMap<string, string> => {
    const map = new StateMap({ key: kinds.string, value: kinds.string, remote });
    for (let i = 0; i < PAIRS; i++) map.push(`key-${i}`, `value-${i}`);
    return map;
  };
  let sentAt = 0;
  let expected = 0n;

  // Pushes: the Update message itself, SUBSCRIBERS connections subscribed and nothing else going on.
  const pushTimes: number[] = [];
  /** Each Update's arrival minus the arrival of the sender's EventInProcess (negative: the push came first). */
  const afterAck: number[] = [];
  let arrivals: number[] = [];
  const pushedIds = new Array<bigint>(SUBSCRIBERS).fill(0n);
  const subscriptions = await Promise.all(
    Array.from({ length: SUBSCRIBERS }, async (_, i) =>
      wsRemote().subscribe(hash, (id) => {
        if (id === expected && pushedIds[i]! < id) arrivals.push(performance.now());
        pushedIds[i] = id;
        notify();
      }),
    ),
  );
  expected = await sender.getUpdateId(hash);
  for (let n = 0; n < PUSH_EVENTS; n++) {
    expected += 1n;
    sentAt = performance.now();
    await sender.sendEvent(setEvent(key, `push-${n}`), hash);
    const ackAt = performance.now();
    await until(() => pushedIds.every((id) => id >= expected), `event ${n}: not every subscriber heard of it`);
    for (const at of arrivals) {
      pushTimes.push(at - sentAt);
      afterAck.push(at - ackAt);
    }
    arrivals = [];
  }
  for (const s of subscriptions) s.unsubscribe();

  // `watch` by pushes: the push, then the GetDiff that brings the change.
  const watchTimes: number[] = [];
  const stopWatching = new AbortController();
  setMaxListeners(4 * SUBSCRIBERS, stopWatching.signal); // one per watcher and its calls
  const watchedIds = new Array<bigint>(SUBSCRIBERS).fill(expected);
  const watchers = await Promise.all(
    Array.from({ length: SUBSCRIBERS }, async (_, i) => {
      const remote = wsRemote();
      const map = mapOf(remote);
      await map.freeze();
      await remote.sync(map);
      // In an object: an async function returning the loop's promise would wait for the loop.
      return {
        done: (async () => {
          for await (const change of remote.watch(map, { signal: stopWatching.signal })) {
            if (change.toUpdateId === expected) watchTimes.push(performance.now() - sentAt);
            watchedIds[i] = change.toUpdateId;
            notify();
          }
        })(),
      };
    }),
  );
  await sleep(200); // the watchers have subscribed
  for (let n = 0; n < WATCH_EVENTS; n++) {
    expected += 1n;
    sentAt = performance.now();
    await sender.sendEvent(setEvent(key, `watch-${n}`), hash);
    await until(() => watchedIds.every((id) => id >= expected), `event ${n}: not every watcher yielded it`);
  }
  stopWatching.abort();
  await Promise.allSettled(watchers.map((w) => w.done));

  const stats = (times: number[]): Latency => {
    times.sort((a, b) => a - b);
    return { p50: percentile(times, 0.5), p99: percentile(times, 0.99), samples: times.length };
  };
  const ack = stats(afterAck);
  console.log(`  Update arrival relative to the sender's acknowledgement: p50 ${ack.p50.toFixed(3)} ms, p99 ${ack.p99.toFixed(3)} ms`);
  if (tlsRemote === undefined) return { push: stats(pushTimes), watch: stats(watchTimes), poll: undefined };

  // Polling: TcpStateRemote.watch at its default interval, the way to follow a map over TLS.
  const pollTimes: number[] = [];
  const stopPolling = new AbortController();
  setMaxListeners(4 * SUBSCRIBERS, stopPolling.signal);
  const polledIds = new Array<bigint>(SUBSCRIBERS).fill(expected);
  const pollers = await Promise.all(
    Array.from({ length: SUBSCRIBERS }, async (_, i) => {
      const remote = tlsRemote();
      const map = mapOf(remote);
      await map.freeze();
      await remote.sync(map);
      // Started at different moments, as independent clients are.
      await sleep((i * DEFAULT_WATCH_INTERVAL_MS) / SUBSCRIBERS);
      return {
        done: (async () => {
          for await (const change of remote.watch(map, { signal: stopPolling.signal })) {
            if (change.toUpdateId === expected) pollTimes.push(performance.now() - sentAt);
            polledIds[i] = change.toUpdateId;
            notify();
          }
        })(),
      };
    }),
  );
  for (let n = 0; n < POLL_EVENTS; n++) {
    expected += 1n;
    sentAt = performance.now();
    await sender.sendEvent(setEvent(key, `poll-${n}`), hash);
    await until(() => polledIds.every((id) => id >= expected), `event ${n}: not every poller yielded it`);
    await sleep(Math.random() * 200); // events at no fixed phase of the polls
  }
  stopPolling.abort();
  await Promise.allSettled(pollers.map((p) => p.done));

  return { push: stats(pushTimes), watch: stats(watchTimes), poll: stats(pollTimes) };
}
