// Runs examples/ts-client-rust-server.ts exactly as the README shows, against
// the real Rust server, and checks what it prints.
import { execFile } from 'node:child_process';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { localMap } from '@syncstate-ts/testkit/kv';
import { startRustServer, type RustServer } from '@syncstate-ts/testkit/rust';

const packageDir = fileURLToPath(new URL('..', import.meta.url));
let server: RustServer;
let dir: string;
beforeAll(async () => {
  server = await startRustServer({ password: 'HelloWorld' });
  dir = await mkdtemp(join(tmpdir(), 'syncstate-example-'));
  await writeFile(join(dir, 'cert.pem'), server.cert);
});
afterAll(async () => {
  await server?.stop();
  if (dir !== undefined) await rm(dir, { recursive: true, force: true });
});

async function runExample(): Promise<string[]> {
  // `npx tsx` as in the README; --no-install so a test never downloads anything.
  const { stdout } = await promisify(execFile)(
    'npx',
    ['--no-install', 'tsx', '--conditions=@syncstate-ts/source', 'examples/ts-client-rust-server.ts'],
    {
      cwd: packageDir,
      timeout: 30_000,
      env: {
        ...process.env,
        SYNCSTATE_ADDRESS: `127.0.0.1:${server.port}`,
        SYNCSTATE_CA: join(dir, 'cert.pem'),
        SYNCSTATE_PASSWORD: 'HelloWorld',
      },
    },
  );
  return stdout.trimEnd().split('\n');
}

describe('README example: TypeScript client with a Rust server', () => {
  it('registers the map, sends events and prints the changes; a second run catches up first', async () => {
    const map = localMap([['color', 'red'], ['size', 'M']]);
    await map.freeze();
    const id = `${Buffer.from(map.hash()!).toString('hex').slice(0, 16)}…`;

    expect(await runExample()).toEqual([
      `map ${id}: update 0 {"color":"red","size":"M"}`,
      'update 1: color red -> blue',
      'update 2: color blue -> green, size M -> L',
      'final: update 2 {"color":"green","size":"L"}',
    ]);
    expect(await runExample()).toEqual([
      `map ${id}: update 2 {"color":"green","size":"L"}`,
      'update 3: color green -> blue',
      'update 4: color blue -> green',
      'final: update 4 {"color":"green","size":"L"}',
    ]);
  });
});
