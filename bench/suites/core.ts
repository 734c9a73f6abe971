// @syncstate-ts/core against the Rust StateMap (fixtures/src/bench_core.rs), on
// identical data:
// (a) freeze (sort + SHA-256 + full diff) of maps of "key-{i}" -> "value-{i}"
//     with 100,000 and 1,000,000 pairs; the Rust hash is checked against ours;
// (b) getDiff per call on a master map of 1000 keys after 10, 10,000 and
//     1,000,000 single sets (set j writes key (j * 7919) % 1000 = "v-{j}"):
//     a client one update behind (current - 1 -> current) and one 1000
//     updates behind (or at 0). Rust scans the whole history per call; ours
//     looks entries up in O(log runs) and merges only the range.
import { StateMap, kinds } from '@syncstate-ts/core';
import type { Diff } from '@syncstate-ts/core';
import type { BenchRecord } from '../harness.ts';
import { lowerIsBetter, runRustBench } from '../harness.ts';

const FREEZE_SIZES = [100_000, 1_000_000];
const HISTORY_SIZES = [10, 10_000, 1_000_000];

interface RustFreeze {
  pairs: number;
  freezeMs: number;
  hash: string;
}

interface RustGetDiff {
  updates: number;
  oldFrom: number;
  latestNs: number;
  oldNs: number;
  latest: [number, number, number];
  old: [number, number, number];
}

function indexedMap(n: number): StateMap<string, string> {
  const map = new StateMap({ key: kinds.string, value: kinds.string });
  for (let i = 0; i < n; i++) map.push(`key-${i}`, `value-${i}`);
  return map;
}

/** Best freeze time of several rounds, each on a fresh map built outside the timing. */
async function freezeMs(n: number): Promise<{ ms: number; hash: string }> {
  const rounds = n >= 1_000_000 ? 3 : 5;
  let best = Number.POSITIVE_INFINITY;
  let hash = '';
  for (let r = 0; r < rounds; r++) {
    const map = indexedMap(n);
    const t0 = process.hrtime.bigint();
    await map.freeze();
    best = Math.min(best, Number(process.hrtime.bigint() - t0) / 1e6);
    hash = Buffer.from(map.hash()!).toString('hex');
  }
  return { ms: best, hash };
}

async function history(updates: number): Promise<StateMap<string, string>> {
  const map = indexedMap(1000);
  map.setMaster(true);
  await map.freeze();
  for (let j = 0; j < updates; j++) map.set(`key-${(j * 7919) % 1000}`, `v-${j}`);
  return map;
}

/** Mean ns per call, best of 5 batches each lasting at least ~50 ms (as bench_core.rs), after ~100 ms of JIT warm-up. */
function perCallNs(f: () => unknown): number {
  const warm = process.hrtime.bigint();
  while (process.hrtime.bigint() - warm < 100_000_000n) f();
  const t0 = process.hrtime.bigint();
  f();
  const once = Math.max(Number(process.hrtime.bigint() - t0) / 1e9, 1e-7);
  const calls = Math.min(Math.max(Math.ceil(0.05 / once), 1), 1_000_000);
  let best = Number.POSITIVE_INFINITY;
  for (let r = 0; r < 5; r++) {
    const t1 = process.hrtime.bigint();
    for (let i = 0; i < calls; i++) f();
    best = Math.min(best, Number(process.hrtime.bigint() - t1) / calls);
  }
  return best;
}

function shape(d: Diff<string, string>): [number, number, number] {
  return [d.size, Number(d.fromUpdateId), Number(d.uptoUpdateId)];
}

function same(what: string, ours: unknown, rust: unknown): void {
  if (JSON.stringify(ours) !== JSON.stringify(rust)) {
    throw new Error(`core bench: ${what} differs from Rust: ours ${JSON.stringify(ours)}, rust ${JSON.stringify(rust)}`);
  }
}

export async function run(): Promise<BenchRecord[]> {
  const out: BenchRecord[] = [];
  for (const n of FREEZE_SIZES) {
    const rust = runRustBench<RustFreeze>(['core', 'freeze', String(n)]);
    const ts = await freezeMs(n);
    same(`hash of ${n} pairs`, ts.hash, rust.hash);
    out.push(lowerIsBetter(`core freeze ${n.toLocaleString('en')} pairs`, 'ms', ts.ms, rust.freezeMs));
  }
  for (const n of HISTORY_SIZES) {
    const rust = runRustBench<RustGetDiff>(['core', 'getdiff', String(n)]);
    const map = await history(n);
    const current = map.getUpdateId();
    const old = current > 1000n ? current - 1000n : 0n;
    same(`getDiff(current - 1, current) after ${n} updates`, shape(map.getDiff(current - 1n, current)), rust.latest);
    same(`getDiff(${old}, current) after ${n} updates`, shape(map.getDiff(old, current)), rust.old);
    const latest = perCallNs(() => map.getDiff(current - 1n, current));
    const behind = perCallNs(() => map.getDiff(old, current));
    const label = n.toLocaleString('en');
    out.push(lowerIsBetter(`core getDiff 1 behind, history ${label}`, 'ns', latest, rust.latestNs));
    out.push(lowerIsBetter(`core getDiff ${old === 0n ? 'from 0' : '1000 behind'}, history ${label}`, 'ns', behind, rust.oldNs));
  }
  return out;
}
