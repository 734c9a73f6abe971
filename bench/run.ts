// `pnpm bench`: every suite measures the TypeScript packages and the Rust
// crate (through the fixture program's bench mode) in the same run, on the
// same data, and reports ratios. Results go to bench/results.json.
import { execFileSync } from 'node:child_process';
import { existsSync, readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import type { BenchRecord, BenchSuite } from './harness.ts';
import { fixturesDir } from './harness.ts';

const only = process.argv.slice(2);
// What the suites run, built first (a fresh clone has neither): the Rust fixture program, and the
// rustls transport's addon, which `syncstate serve` uses.
execFileSync('cargo', ['build', '--release', '--locked', '--quiet'], { cwd: fixturesDir, stdio: 'inherit' });
execFileSync(process.execPath, [fileURLToPath(new URL('../packages/transport-rustls/scripts/build-native.mjs', import.meta.url)), '--quiet'], {
  stdio: 'inherit',
});

const suitesDir = fileURLToPath(new URL('./suites/', import.meta.url));
const records: BenchRecord[] = [];
for (const file of readdirSync(suitesDir).filter((f) => f.endsWith('.ts')).sort()) {
  const name = file.replace(/\.ts$/, '');
  if (only.length > 0 && !only.includes(name)) continue;
  const suite = (await import(`./suites/${file}`)) as BenchSuite;
  console.log(`\n## ${name}`);
  const got = await suite.run();
  for (const r of got) {
    console.log(
      `${r.metric.padEnd(52)} ts ${fmt(r.ts).padStart(12)} ${r.unit.padEnd(6)} ${r.rust === undefined ? 'base' : 'rust'} ${fmt(r.rust ?? r.baseline ?? Number.NaN).padStart(12)}   ours ${r.advantage.toFixed(2)}x`,
    );
  }
  records.push(...got);
}

const out = fileURLToPath(new URL('./results.json', import.meta.url));
// Running some suites only (`pnpm bench server`) keeps the other suites' records:
// each suite's metrics start with its name.
if (only.length > 0 && existsSync(out)) {
  const kept = (JSON.parse(readFileSync(out, 'utf8')) as BenchRecord[]).filter(
    (r) => !only.some((name) => r.metric.startsWith(`${name} `)),
  );
  records.unshift(...kept);
}
writeFileSync(out, `${JSON.stringify(records, null, 2)}\n`);
console.log(`\nwrote ${records.length} records to bench/results.json (advantage > 1: ours is ahead)`);

function fmt(n: number): string {
  return n >= 100 ? n.toFixed(0) : n.toPrecision(4);
}
