// Every SYNCSTATE_* variable the command reads is documented: in the
// README's "Environment" table and in `syncstate --help`, and the table
// lists no variable the command does not read.
import { readdirSync, readFileSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { expect, it } from 'vitest';
import { run } from '@syncstate-ts/cli';

const cliDir = fileURLToPath(new URL('..', import.meta.url));
// Set by `serve --workers` for its own workers (workers.ts), never by a user.
const internal = new Set(['SYNCSTATE_WORKER', 'SYNCSTATE_WORKER_PORT']);

function sources(dir: string): string[] {
  return readdirSync(dir).flatMap((name) => {
    const path = join(dir, name);
    return statSync(path).isDirectory() ? sources(path) : /\.(ts|mjs)$/.test(name) ? [path] : [];
  });
}

it('documents every SYNCSTATE_* variable the command reads, in the README and in --help', async () => {
  const read = new Set<string>();
  for (const file of [...sources(join(cliDir, 'src')), ...sources(join(cliDir, 'demo'))]) {
    for (const [name] of readFileSync(file, 'utf8').matchAll(/SYNCSTATE_[A-Z_]+[A-Z]/g)) if (!internal.has(name)) read.add(name);
  }
  expect(read.size).toBeGreaterThanOrEqual(8);

  const readme = readFileSync(join(cliDir, 'README.md'), 'utf8');
  const table = readme.slice(readme.indexOf('## Environment'), readme.indexOf('\n## ', readme.indexOf('## Environment') + 1));
  const documented = new Set([...table.matchAll(/^\| `(SYNCSTATE_[A-Z_]+)` \|/gm)].map((m) => m[1]!));
  expect([...documented].sort()).toEqual([...read].sort());

  let help = '';
  const code = await run(['--help'], { out: { write: (s: string) => (help += s) }, err: { write: () => true }, env: {} });
  expect(code).toBe(0);
  for (const name of read) expect(help).toContain(`  ${name} `);
});
