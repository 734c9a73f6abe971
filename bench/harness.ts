// Shared pieces of the benchmark suites.
import { execFileSync } from 'node:child_process';
import { fileURLToPath } from 'node:url';

export const fixturesDir = fileURLToPath(new URL('../fixtures/', import.meta.url));
export const fixturesBinary = fileURLToPath(new URL('../fixtures/target/release/syncstate-fixtures', import.meta.url));

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
