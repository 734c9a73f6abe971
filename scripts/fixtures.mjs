// `pnpm fixtures`: rebuild the Rust capture program and rewrite fixtures/golden.
// `pnpm fixtures:check`: capture into a temporary folder and fail on any
// difference from the committed files. Golden files are never edited by hand.
import { execFileSync } from 'node:child_process';
import { mkdtempSync, readdirSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';

const fixturesDir = fileURLToPath(new URL('../fixtures/', import.meta.url));
const goldenDir = join(fixturesDir, 'golden');
const binary = join(fixturesDir, 'target/release/syncstate-fixtures');
const mode = process.argv[2];

execFileSync('cargo', ['build', '--release', '--locked', '--quiet'], { cwd: fixturesDir, stdio: 'inherit' });

if (mode === 'write') {
  rmSync(goldenDir, { recursive: true, force: true });
  execFileSync(binary, ['capture', goldenDir], { stdio: 'inherit' });
  console.log(`fixtures: wrote ${readdirSync(goldenDir).length} files to fixtures/golden`);
} else if (mode === 'check') {
  const fresh = mkdtempSync(join(tmpdir(), 'syncstate-golden-'));
  try {
    execFileSync(binary, ['capture', fresh], { stdio: 'inherit' });
    const committed = readdirSync(goldenDir).sort();
    const regenerated = readdirSync(fresh).sort();
    const problems = [];
    for (const name of new Set([...committed, ...regenerated])) {
      if (!committed.includes(name)) problems.push(`${name}: produced by Rust but not committed`);
      else if (!regenerated.includes(name)) problems.push(`${name}: committed but no longer produced by Rust`);
      else if (!readFileSync(join(goldenDir, name)).equals(readFileSync(join(fresh, name))))
        problems.push(`${name}: differs from what Rust produces now`);
    }
    if (problems.length > 0) {
      console.error(`fixtures:check failed (run \`pnpm fixtures\` and review the diff):\n  ${problems.join('\n  ')}`);
      process.exit(1);
    }
    console.log(`fixtures:check: ${committed.length} golden files match the Rust crate`);
  } finally {
    rmSync(fresh, { recursive: true, force: true });
  }
} else {
  console.error('usage: node scripts/fixtures.mjs write|check');
  process.exit(2);
}
