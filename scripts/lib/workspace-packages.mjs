// The packages a release publishes: every workspace package pnpm finds that
// is not private, with its package.json. Shared by scripts/pack-check.mjs,
// scripts/release.mjs and test/release-flow.test.ts.
import { execFileSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { join, relative } from 'node:path';

/**
 * @param {string} root the workspace root
 * @returns {Array<{ name: string, version: string, dir: string, rel: string, json: any }>}
 */
export function publishablePackages(root) {
  /** @type {Array<{ path: string, private?: boolean }>} */
  const listed = JSON.parse(execFileSync('pnpm', ['ls', '--recursive', '--depth', '-1', '--json'], { cwd: root, encoding: 'utf8' }));
  return listed
    .filter((p) => p.private !== true)
    .map(({ path: dir }) => {
      const json = JSON.parse(readFileSync(join(dir, 'package.json'), 'utf8'));
      return { name: json.name, version: json.version, dir, rel: relative(root, dir).split('\\').join('/'), json };
    })
    .sort((a, b) => a.name.localeCompare(b.name));
}
