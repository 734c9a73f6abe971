// The WebSocket carrier (issue #15) against TLS, on one `syncstate serve`
// (the CLI with its defaults: SQLite, the rustls transport for TLS) with a
// WebSocket port (`--ws-port`, plain ws:// on loopback).
//
// 1. GetUpdateId requests/s and p50/p99 at 1, 16 and 64 clients, each client
//    one request at a time:
//    - WebSocket: one persistent WebSocket per client (WebSocketRemote over
//      the `ws` package, in this process);
//    - TLS as users run it, one connection per request: the Rust crate's own
//      TcpStateRemote (fixtures `bench remote`, Nagle on, two writes, TLS
//      resumption as rustls does it) and our TcpStateRemote (in this process).
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
import { setMaxListeners } from 'node:events';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
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

/** Each client calls `call` in a loop, one at a time; requests completed in the measured window count. */
async function closedLoop(calls: ReadonlyArray<() => Promise<unknown>>): Promise<Load> {
  let measuring = false;
  let stop = false;
  const times: number[] = [];
  const loops = calls.map(async (call) => {
    while (!stop) {
      const t0 = performance.now();
      await call();
      if (measuring) times.push(performance.now() - t0);
    }
  });
  await sleep(WARMUP_MS);
  times.length = 0;
  measuring = true;
  const started = performance.now();
  await sleep(DURATION_MS);
  measuring = false;
  const elapsed = performance.now() - started;
  stop = true;
  await Promise.all(loops);
  times.sort((a, b) => a - b);
  return { rps: (times.length * 1000) / elapsed, p50Us: percentile(times, 0.5) * 1000, p99Us: percentile(times, 0.99) * 1000 };
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

    const wsLoad = async (c: number): Promise<Load> => {
      const remotes = Array.from({ length: c }, wsRemote);
      await Promise.all(remotes.map((r) => r.connect()));
      const result = await closedLoop(remotes.map((r) => () => r.getUpdateId(hash)));
      for (const r of remotes) r.close();
      return result;
    };
    const tsTlsLoad = (c: number): Promise<Load> => {
      const remotes = Array.from({ length: c }, tlsRemote);
      return closedLoop(remotes.map((r) => () => r.getUpdateId(hash)));
    };
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

    records.push(...(await pushLatency(hash, wsRemote, tlsRemote)));
    return records;
  } finally {
    for (const r of open) r.close();
    await Promise.all(stops.map((stop) => stop()));
    rmSync(data, { recursive: true, force: true });
  }
}

/** Section 2: event → push, event → watch's change (pushes), event → watch's change (polling). */
async function pushLatency(
  hash: Uint8Array,
  wsRemote: () => WebSocketRemote<string, string>,
  tlsRemote: () => TcpStateRemote<string, string>,
): Promise<BenchRecord[]> {
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
  const pushedIds = new Array<bigint>(SUBSCRIBERS).fill(0n);
  const subscriptions = await Promise.all(
    Array.from({ length: SUBSCRIBERS }, async (_, i) =>
      wsRemote().subscribe(hash, (id) => {
        if (id === expected && pushedIds[i]! < id) pushTimes.push(performance.now() - sentAt);
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
    await until(() => pushedIds.every((id) => id >= expected), `event ${n}: not every subscriber heard of it`);
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

  const stats = (times: number[]): { p50: number; p99: number } => {
    times.sort((a, b) => a - b);
    return { p50: percentile(times, 0.5), p99: percentile(times, 0.99) };
  };
  const push = stats(pushTimes);
  const watch = stats(watchTimes);
  const poll = stats(pollTimes);
  console.log(`  push samples ${pushTimes.length}, watch samples ${watchTimes.length}, polling samples ${pollTimes.length}`);
  const vs = `vs TLS watch polling every ${DEFAULT_WATCH_INTERVAL_MS} ms`;
  return [
    lowerIsBetterThanBaseline(`websocket push, event sent → Update at ${SUBSCRIBERS} subscribers: p50, ${vs}`, 'ms', push.p50, poll.p50),
    lowerIsBetterThanBaseline(`websocket push, event sent → Update at ${SUBSCRIBERS} subscribers: p99, ${vs}`, 'ms', push.p99, poll.p99),
    lowerIsBetterThanBaseline(`websocket watch by pushes, event sent → change yielded: p50, ${vs}`, 'ms', watch.p50, poll.p50),
    lowerIsBetterThanBaseline(`websocket watch by pushes, event sent → change yielded: p99, ${vs}`, 'ms', watch.p99, poll.p99),
  ];
}
