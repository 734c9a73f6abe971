/**
 * `pnpm syncstate ...` in this repository: the syncstate command from its
 * TypeScript sources, run as if it were installed.
 *
 * - pnpm runs scripts in the repository root; the command runs in the folder
 *   pnpm was started from (INIT_CWD), so the paths a user types (map files,
 *   --data, --cert) mean what they mean to an installed `syncstate`.
 * - It registers tsx itself rather than running under `node --import tsx`:
 *   that specifier would be resolved from the user's folder by the workers of
 *   `serve --workers`, which start with this same command line.
 * - The root script `exec`s node, so pnpm's SIGTERM and SIGINT reach the
 *   command itself (a shell in between would die of SIGTERM, ignore SIGINT,
 *   and leave the command running); if pnpm dies without forwarding anything
 *   (SIGHUP), the command stops as on SIGTERM (orphan.ts).
 */
import { fileURLToPath } from 'node:url';
import { register } from 'tsx/esm/api';

// Before the chdir: the sources compile with this package's settings, whatever folder the user is in.
register({ tsconfig: fileURLToPath(new URL('../tsconfig.json', import.meta.url)) });
if (process.env.INIT_CWD) process.chdir(process.env.INIT_CWD);
const { whenOrphaned } = await import('./orphan.ts');
whenOrphaned(() => process.kill(process.pid, 'SIGTERM'));
await import('../src/bin.ts');
