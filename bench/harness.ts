// Shared pieces of the benchmark suites.
import { execFileSync } from 'node:child_process';
import { fileURLToPath } from 'node:url';

export const fixturesDir = fileURLToPath(new URL('../fixtures/', import.meta.url));
export const fixturesBinary = fileURLToPath(new URL('../fixtures/target/release/syncstate-fixtures', import.meta.url));

/** One line of bench/results.json. `advantage` > 1 means ours is ahead. */
export interface BenchRecord {
  metric: string;
  unit: string;
  ts: number;
  rust: number;
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

/** A record where smaller is better (time, latency, bytes). */
export function lowerIsBetter(metric: string, unit: string, ts: number, rust: number): BenchRecord {
  return { metric, unit, ts, rust, advantage: rust / ts };
}
