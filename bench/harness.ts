// Shared pieces of the benchmark suites.
import { type ChildProcess, execFileSync, spawn } from 'node:child_process';
import { createRequire } from 'node:module';
import { createInterface } from 'node:readline';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { kinds, StateMap } from '@syncstate-ts/core';
import { TcpStateRemote } from '@syncstate-ts/remote';

export const fixturesDir = fileURLToPath(new URL('../fixtures/', import.meta.url));
export const fixturesBinary = fileURLToPath(new URL('../fixtures/target/release/syncstate-fixtures', import.meta.url));
/** The `syncstate` command's entry point, run from source with `sourceLoader`. */
export const cliBin = fileURLToPath(new URL('../packages/cli/src/bin.ts', import.meta.url));
/** Node flags that run the workspace's TypeScript sources (tsx, the `@syncstate-ts/source` condition). */
export const sourceLoader = ['--import', pathToFileURL(createRequire(import.meta.url).resolve('tsx')).href, '--conditions=@syncstate-ts/source'];

/** Children `stopper` has asked to stop: their exit is no news. */
const stopping = new WeakSet<ChildProcess>();

/**
 * Starts a server child and resolves with the first stdout line matching
 * `pattern` (its "listening" line). An exit before that rejects, with the
 * end of its stderr; an exit after it that `stopper` did not ask for is
 * reported, as a crash worth seeing.
 */
export function startChild(command: string, args: string[], pattern: RegExp): Promise<{ child: ChildProcess; match: RegExpExecArray }> {
  const child = spawn(command, args, { stdio: ['pipe', 'pipe', 'pipe'] });
  let stderr = '';
  child.stderr!.setEncoding('utf8').on('data', (s: string) => (stderr = (stderr + s).slice(-20_000)));
  return new Promise((resolve, reject) => {
    let listening = false;
    createInterface({ input: child.stdout! }).on('line', (line) => {
      const match = pattern.exec(line);
      if (match && !listening) {
        listening = true;
        resolve({ child, match });
      }
    });
    child.once('exit', (code, signal) => {
      if (!listening) reject(new Error(`${command} ${args.join(' ')} exited (${code}) before listening: ${stderr}`));
      else if (!stopping.has(child)) console.error(`${command} ${args.join(' ')} exited (${code ?? signal}) while measured: ${stderr}`);
    });
  });
}

/** Stops a child with SIGTERM and waits for its exit (at once if it has exited). */
export function stopper(child: ChildProcess): () => Promise<void> {
  return async () => {
    if (child.exitCode !== null || child.signalCode !== null) return;
    const exited = new Promise((resolve) => child.once('exit', resolve));
    stopping.add(child);
    child.kill('SIGTERM');
    await exited;
  };
}

/**
 * One line of bench/results.json. `advantage` > 1 means ours is ahead.
 * Where the Rust crate has no counterpart (it keeps nothing on disk, so the
 * storage suite has nothing Rust to measure), `rust` is absent and
 * `baseline` holds the figure `ts` is compared with instead; the metric's
 * name says what the baseline is (e.g. "durable vs in memory": ts is the
 * durable storage, baseline the in-memory one) and `advantage` is ts against it.
 */
export interface BenchRecord {
  metric: string;
  unit: string;
  ts: number;
  rust?: number;
  baseline?: number;
  advantage: number;
}

export interface BenchSuite {
  run(): Promise<BenchRecord[]>;
}

/** What `bench remote` prints (the crate's own client as the load). */
export interface RemoteResult {
  requests: number;
  errors: number;
  firstError: string | null;
  rps: number;
  p50Us: number;
  p99Us: number;
  meanUs: number;
}

/** Runs `syncstate-fixtures bench <args>` and parses the JSON it prints on stdout. */
export function runRustBench<T>(args: readonly string[]): T {
  const stdout = execFileSync(fixturesBinary, ['bench', ...args], { encoding: 'utf8', maxBuffer: 64 << 20 });
  return JSON.parse(stdout) as T;
}

/** Best-of-N wall time in milliseconds of `fn`, after one warm-up call. */
export function bestTimeMs(fn: () => void, rounds = 5): number {
  fn();
  let best = Number.POSITIVE_INFINITY;
  for (let i = 0; i < rounds; i++) {
    const t0 = process.hrtime.bigint();
    fn();
    best = Math.min(best, Number(process.hrtime.bigint() - t0) / 1e6);
  }
  return best;
}

/** A record where larger is better (throughput). */
export function higherIsBetter(metric: string, unit: string, ts: number, rust: number): BenchRecord {
  return { metric, unit, ts, rust, advantage: ts / rust };
}

/** A record against a TypeScript baseline instead of Rust (see BenchRecord); larger is better. */
export function higherIsBetterThanBaseline(metric: string, unit: string, ts: number, baseline: number): BenchRecord {
  return { metric, unit, ts, baseline, advantage: ts / baseline };
}

/** A record against a TypeScript baseline instead of Rust (see BenchRecord); smaller is better. */
export function lowerIsBetterThanBaseline(metric: string, unit: string, ts: number, baseline: number): BenchRecord {
  return { metric, unit, ts, baseline, advantage: baseline / ts };
}

/** A record where smaller is better (time, latency, bytes). */
export function lowerIsBetter(metric: string, unit: string, ts: number, rust: number): BenchRecord {
  return { metric, unit, ts, rust, advantage: rust / ts };
}

/**
 * Creates the map the Rust load generator's `--pairs N` uses (key-i -> value-i)
 * on the server at `port`, through our client; returns that client and the hash.
 */
export async function createKeyValueMap(
  port: number,
  ca: string,
  password: string,
  pairs: number,
): Promise<{ remote: TcpStateRemote<string, string>; hash: Uint8Array }> {
  const remote = new TcpStateRemote({ port, tls: { ca }, password, key: kinds.string, value: kinds.string });
  const map = new StateMap({ key: kinds.string, value: kinds.string, remote });
  for (let i = 0; i < pairs; i++) map.push(`key-${i}`, `value-${i}`);
  await map.freeze();
  return { remote, hash: map.hash()! };
}
