// No request waits behind another map's heavy work (BENCHMARKS.md, "Heavy maps").
//
// (a) While a client sends an Init of 1,000,000 pairs ("key-i" -> "value-i",
//     24 MB), another client asks GetUpdateId of a small map every PROBE_MS,
//     each on a new TLS connection: the longest and the p99 wait, and how long
//     the Init takes, on `syncstate serve` (durable SQLite storage, rustls
//     transport) and on the Rust TcpStateServer (fixtures `server` mode). The
//     Init is sent from a child process (heavy-maps/init-client.ts) so that
//     its 24 MB do not stall the process timing the small requests. Rounds
//     alternate ours and Rust (each on a fresh server) and each server's best
//     round is kept: background load on a shared machine hits both alike.
// (b) Restart of `syncstate serve` holding that map (the Rust server keeps
//     nothing, so baselines stand in for it): time from spawning the process
//     until it answers GetUpdateId of the small map, until the big map answers
//     GetUpdateId, and until the big map is loaded (an Event to it is
//     answered), each against the same restart of a store without the big
//     map; and the small map's GetUpdateId wait, probed from the first
//     request to the big map until it is loaded, against its wait on the
//     idle server.
// Both servers share the 2 cores with this process and the Init client.
import { fork } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { encode, t, type Request, type Response } from '@syncstate-ts/codec';
import { encodeInitData, kinds, StateMap } from '@syncstate-ts/core';
import type { BenchRecord } from '../harness.ts';
import { cliBin, fixturesBinary, lowerIsBetter, lowerIsBetterThanBaseline, sourceLoader, startChild, stopper } from '../harness.ts';
import { ask, frameOf, send, type Target } from '../heavy-maps/request.ts';

const BIG = 1_000_000;
const SMALL = 10;
const PROBE_MS = 10;
const IDLE_PROBES = 100;
const INIT_ROUNDS = 2;
const RESTART_ROUNDS = 2;

const initClient = fileURLToPath(new URL('../heavy-maps/init-client.ts', import.meta.url));
// `syncstate serve`'s built-in SetMany; an empty one is an empty commit.
const kvEvent = t.enumOf({ Set: t.tuple(t.string, t.string), SetMany: t.vec(t.tuple(t.string, t.string)) });

interface Server {
  target: Target;
  stop(): Promise<void>;
}

interface Waits {
  max: number;
  p99: number;
  count: number;
}

interface InitRun {
  idle: Waits;
  busy: Waits;
  initMs: number;
}

interface Restart {
  answersMs: number;
  bigAnswersMs?: number;
  bigLoadedMs?: number;
  waits?: Waits;
}

interface InitClient {
  hash: Uint8Array;
  init(target: Target): Promise<number>;
}

function sleep(ms: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, ms));
}

function targetOf(data: string, port: number): Target {
  const password = new TextEncoder().encode(readFileSync(join(data, 'password'), 'utf8').trim());
  return { port, ca: readFileSync(join(data, 'cert.pem'), 'utf8'), password };
}

/** `syncstate serve` on `data`, as users run it (durable storage), with frames big enough for the Init. */
async function serve(data: string): Promise<Server> {
  const args = [...sourceLoader, cliBin, 'serve', '--data', data, '--port', '0', '--log-level', 'warn'];
  args.push('--transport', 'rustls', '--max-frame-size', '64MiB');
  const { child, match } = await startChild(process.execPath, args, /^listening on 127\.0\.0\.1:(\d+)$/);
  return { target: targetOf(data, Number(match[1])), stop: stopper(child) };
}

/** The Rust TcpStateServer with the certificate, key and password of `data`. */
async function rustServer(data: string): Promise<Server> {
  const password = readFileSync(join(data, 'password'), 'utf8').trim();
  const args = ['server', '--cert', join(data, 'cert.pem'), '--key', join(data, 'key.pem'), '--password', password, '--port', '0'];
  const { child, match } = await startChild(fixturesBinary, args, /^\{"port":(\d+)\}$/);
  return { target: targetOf(data, Number(match[1])), stop: stopper(child) };
}

function expectAnswer(answer: Response, type: Response['type'], what: string): void {
  if (answer.type !== type) throw new Error(`heavy-maps: ${what} answered ${answer.type}, expected ${type}`);
}

/** Creates the small map (the same pairs on every server); returns its hash. */
async function smallMap(target: Target): Promise<Uint8Array> {
  const map = new StateMap({ key: kinds.string, value: kinds.string });
  for (let i = 0; i < SMALL; i++) map.push(`small-${i}`, `v${i}`);
  await map.freeze();
  expectAnswer(await ask(target, { type: 'Init', hash: map.hash()!, initData: encodeInitData(map) }), 'InitSuccess', 'the small Init');
  return map.hash()!;
}

/** GetUpdateId of `hash`, one after another PROBE_MS apart, until `until` settles; their waits (ms). */
async function probeWhile(target: Target, hash: Uint8Array, until: Promise<unknown>): Promise<number[]> {
  let done = false;
  void until.then(
    () => (done = true),
    () => (done = true),
  );
  const frame = frameOf(target, { type: 'GetUpdateId', hash });
  const waits: number[] = [];
  while (!done) {
    const t0 = performance.now();
    expectAnswer(await send(target, frame), 'UpdateId', 'a probe');
    waits.push(performance.now() - t0);
    await sleep(PROBE_MS);
  }
  return waits;
}

async function idleWaits(target: Target, hash: Uint8Array): Promise<Waits> {
  const frame = frameOf(target, { type: 'GetUpdateId', hash });
  const waits: number[] = [];
  for (let i = 0; i < IDLE_PROBES; i++) {
    const t0 = performance.now();
    expectAnswer(await send(target, frame), 'UpdateId', 'an idle probe');
    waits.push(performance.now() - t0);
    await sleep(PROBE_MS / 2);
  }
  return summary(waits.slice(IDLE_PROBES / 2)); // the first half warms the request path up
}

function summary(waits: number[]): Waits {
  const sorted = [...waits].sort((a, b) => a - b);
  const at = (q: number): number => sorted[Math.min(sorted.length - 1, Math.floor(sorted.length * q))] ?? 0;
  return { max: sorted[sorted.length - 1] ?? 0, p99: at(0.99), count: sorted.length };
}

/** The Init client, forked once: it builds the big map and its Init frame, then sends it on demand. */
async function startInitClient(stops: Array<() => Promise<void>>): Promise<InitClient> {
  const child = fork(initClient, [], { execArgv: sourceLoader, stdio: ['ignore', 'inherit', 'inherit', 'ipc'] });
  stops.push(stopper(child));
  const next = (): Promise<{ type: string; hash?: string; ms?: number; answer?: string; message?: string }> =>
    new Promise((resolve, reject) => {
      child.once('message', resolve as (m: unknown) => void);
      child.once('exit', (code) => reject(new Error(`the Init client exited (${code})`)));
    });
  const ready = next();
  child.send({ pairs: BIG });
  const { hash } = await ready;
  return {
    hash: Buffer.from(hash!, 'hex'),
    init: async (target) => {
      const answered = next();
      child.send({ port: target.port, ca: target.ca, password: new TextDecoder().decode(target.password) });
      const m = await answered;
      if (m.type !== 'answered' || m.answer !== 'InitSuccess') throw new Error(`heavy-maps: the big Init: ${m.answer ?? m.message}`);
      return m.ms!;
    },
  };
}

/** (a) on one server: idle waits, then waits while the big Init runs, and the Init's duration. */
async function duringInit(server: Server, client: InitClient): Promise<InitRun> {
  const small = await smallMap(server.target);
  const idle = await idleWaits(server.target, small);
  const initMs = client.init(server.target);
  const busy = summary(await probeWhile(server.target, small, initMs));
  return { idle, busy, initMs: await initMs };
}

/**
 * (b) one restart of `syncstate serve` on `data`; with `big`: once the server answers, GetUpdateId
 * of the big map, then an Event to it (answered once it is loaded), while the small map is probed.
 */
async function restart(data: string, small: Uint8Array, big?: Uint8Array): Promise<Restart> {
  const t0 = performance.now();
  const server = await serve(data);
  try {
    expectAnswer(await ask(server.target, { type: 'GetUpdateId', hash: small }), 'UpdateId', 'the small map after the restart');
    const answersMs = performance.now() - t0;
    if (big === undefined) return { answersMs };
    const event: Request = { type: 'Event', hash: big, eventData: encode(kvEvent, { type: 'SetMany', value: [] }) };
    let bigAnswersMs = 0;
    const loaded = ask(server.target, { type: 'GetUpdateId', hash: big })
      .then((answer) => {
        expectAnswer(answer, 'UpdateId', 'the big map after the restart');
        bigAnswersMs = performance.now() - t0;
        return ask(server.target, event);
      })
      .then((answer) => {
        expectAnswer(answer, 'EventInProcess', 'an event to the big map after the restart');
        return performance.now() - t0;
      });
    const waits = summary(await probeWhile(server.target, small, loaded));
    return { answersMs, bigAnswersMs, bigLoadedMs: await loaded, waits };
  } finally {
    await server.stop();
  }
}

function best<T>(list: readonly T[], pick: (x: T) => number): number {
  return Math.min(...list.map(pick));
}

export async function run(): Promise<BenchRecord[]> {
  const dirs: string[] = [];
  const folder = (prefix: string): string => {
    const dir = mkdtempSync(join(tmpdir(), `syncstate-bench-${prefix}-`));
    dirs.push(dir);
    return dir;
  };
  const stops: Array<() => Promise<void>> = [];
  try {
    // (a) Rounds of ours (a fresh store each) then Rust (same certificate, key and password).
    const ts: InitRun[] = [];
    const rust: InitRun[] = [];
    let withBig = '';
    let client: InitClient | undefined;
    for (let round = 0; round < INIT_ROUNDS; round++) {
      withBig = folder('heavy');
      const ours = await serve(withBig);
      stops.push(ours.stop);
      client ??= await startInitClient(stops);
      ts.push(await duringInit(ours, client));
      await ours.stop();
      const theirs = await rustServer(withBig);
      stops.push(theirs.stop);
      rust.push(await duringInit(theirs, client));
      await theirs.stop();
    }

    // (b) The last round's store holds the big map and the small one; the baseline store
    // holds the small map only (the same pairs, so the same hash).
    const withoutBig = folder('heavy-base');
    const base = await serve(withoutBig);
    stops.push(base.stop);
    const small = await smallMap(base.target);
    await base.stop();
    const baseRuns: Restart[] = [];
    const bigRuns: Restart[] = [];
    for (let round = 0; round < RESTART_ROUNDS; round++) {
      baseRuns.push(await restart(withoutBig, small));
      bigRuns.push(await restart(withBig, small, client!.hash));
    }
    const baseMs = best(baseRuns, (r) => r.answersMs);

    const label = `${(BIG / 1e6).toFixed(0)}M-pair`;
    const during = `heavy-maps GetUpdateId of another map during a ${label} Init`;
    const held = `heavy-maps restart holding a ${label} map`;
    return [
      lowerIsBetter(`${during}: longest wait`, 'ms', best(ts, (r) => r.busy.max), best(rust, (r) => r.busy.max)),
      lowerIsBetter(`${during}: p99 wait`, 'ms', best(ts, (r) => r.busy.p99), best(rust, (r) => r.busy.p99)),
      lowerIsBetter(`heavy-maps ${label} Init until InitSuccess`, 'ms', best(ts, (r) => r.initMs), best(rust, (r) => r.initMs)),
      lowerIsBetterThanBaseline(`${held}: until it answers (vs a store without it)`, 'ms', best(bigRuns, (r) => r.answersMs), baseMs),
      lowerIsBetterThanBaseline(`${held}: until that map answers GetUpdateId (vs a store without it)`, 'ms', best(bigRuns, (r) => r.bigAnswersMs!), baseMs),
      lowerIsBetterThanBaseline(`${held}: until that map is loaded (vs a store without it)`, 'ms', best(bigRuns, (r) => r.bigLoadedMs!), baseMs),
      lowerIsBetterThanBaseline(
        `heavy-maps GetUpdateId of another map while the ${label} map loads: longest wait (vs idle)`,
        'ms',
        best(bigRuns, (r) => r.waits!.max),
        best(ts, (r) => r.idle.max),
      ),
    ];
  } finally {
    for (const stop of stops.reverse()) await stop();
    for (const dir of dirs) rmSync(dir, { recursive: true, force: true });
  }
}
