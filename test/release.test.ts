// The next release gets the versions its changesets ask for: `changeset
// status` must not propose a bigger bump than the biggest changeset (a
// `workspace:^` peer dependency once pushed every package to 1.0.0 for
// minor changesets; .changeset/config.json and transport-rustls's peer
// range keep that from happening again).
import { execFileSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { expect, it } from 'vitest';

const root = fileURLToPath(new URL('..', import.meta.url));
const rank = { none: 0, patch: 1, minor: 2, major: 3 } as const;
type Bump = keyof typeof rank;

it('changeset status proposes the bump the changesets ask for, no bigger', () => {
  const dir = mkdtempSync(join(tmpdir(), 'syncstate-changesets-'));
  try {
    const output = join(dir, 'status.json');
    execFileSync(join(root, 'node_modules/.bin/changeset'), ['status', `--output=${output}`], { cwd: root, stdio: 'ignore' });
    const status = JSON.parse(readFileSync(output, 'utf8')) as {
      changesets: Array<{ releases: Array<{ type: Bump }> }>;
      releases: Array<{ name: string; type: Bump }>;
    };
    const asked = status.changesets.flatMap((c) => c.releases).reduce<Bump>((a, r) => (rank[r.type] > rank[a] ? r.type : a), 'none');
    // Private packages (bench, testkit) are listed with 'none'; with no changesets nothing is released.
    const releases = status.releases.filter((r) => r.type !== 'none');
    expect(releases.length > 0).toBe(asked !== 'none');
    for (const release of releases) expect(`${release.name} ${release.type}`).toBe(`${release.name} ${asked}`);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});
