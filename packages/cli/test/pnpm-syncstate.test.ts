// `pnpm syncstate ...`, the repository's way to run the command from source:
// the paths a user types resolve against the folder they ran pnpm in (pnpm
// runs scripts in the repository root and says where it was started in
// INIT_CWD), as they would for an installed `syncstate`.
import { setTimeout as sleep } from 'node:timers/promises';
import { execFile, spawn } from 'node:child_process';
import { existsSync, mkdirSync, writeFileSync } from 'node:fs';
import { createInterface } from 'node:readline';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { repoRoot } from '@syncstate-ts/testkit/rust-fixtures';
import { cleanEnv, serveForTests, type Result } from './helpers/cli.js';
import { acceptsConnections } from '@syncstate-ts/testkit/ports';

// The server keeps its data folder (certificate, password) in this test's folder, outside the repository.
const { dir, serve } = serveForTests('pnpm-syncstate', { files: { 'map.json': JSON.stringify({ color: 'red', size: '10' }) } });

/** `pnpm --dir <repository> syncstate ...args`, run from `cwd`, as a user in their own folder would. */
function pnpmSyncstate(cwd: string, ...args: string[]): Promise<Result> {
  return new Promise((resolve) => {
    execFile('pnpm', ['--silent', '--dir', repoRoot, 'syncstate', ...args], { cwd, env: cleanEnv(), timeout: 60_000 }, (error, stdout, stderr) => {
      resolve({ code: error ? (typeof error.code === 'number' ? error.code : null) : 0, stdout, stderr });
    });
  });
}

describe('pnpm syncstate', () => {
  it('reads map files and the data folder from the folder it was run in', async () => {
    const address = serve().address;
    const init = await pnpmSyncstate(dir.path, 'init', 'map.json', '--address', address);
    expect(init).toMatchObject({ code: 0, stderr: 'created map with 2 keys\n' });
    expect(init.stdout).toMatch(/^[0-9a-f]{64}\n$/);

    expect(await pnpmSyncstate(dir.path, 'get', 'map.json', 'color', '--address', address)).toMatchObject({ code: 0, stdout: 'red\n' });

    // From a subfolder, relative paths are relative to that subfolder.
    const sub = join(dir.path, 'sub');
    mkdirSync(sub, { recursive: true });
    writeFileSync(join(sub, 'other.json'), JSON.stringify({ shape: 'round' }));
    const created = await pnpmSyncstate(sub, 'init', 'other.json', '--address', address, '--data', '../.syncstate');
    expect(created).toMatchObject({ code: 0, stderr: 'created map with 1 key\n' });
    expect(await pnpmSyncstate(sub, 'get', '../map.json', 'size', '--address', address, '--data', '../.syncstate')).toMatchObject({ code: 0, stdout: '10\n' });

    // Nothing was written to or looked up in the repository.
    expect(existsSync(join(repoRoot, 'map.json'))).toBe(false);
    expect(existsSync(join(repoRoot, 'other.json'))).toBe(false);
  });

  it('keeps the exit codes and messages of the command', async () => {
    const missing = await pnpmSyncstate(dir.path, 'get', 'nope.json', '--address', serve().address);
    expect(missing.code).toBe(2);
    expect(missing.stderr).toBe('syncstate: "nope.json" is neither a map hash (64 hex digits, as `syncstate init` prints) nor a JSON file\n');
    // Without a data folder where it runs, it says so (relative to that folder).
    const empty = join(dir.path, 'empty');
    mkdirSync(empty, { recursive: true });
    const nowhere = await pnpmSyncstate(empty, 'status', '--address', serve().address);
    expect(nowhere.code).toBe(2);
    expect(nowhere.stderr).toMatch(/cannot read the server's certificate \.syncstate\/cert\.pem \(ENOENT\): run `syncstate serve` in this folder first/);
  });

  it('serve stops when pnpm dies without forwarding a signal (SIGHUP to pnpm alone)', async () => {
    const pnpm = spawn('pnpm', ['--silent', '--dir', repoRoot, 'syncstate', 'serve', '--port', '0', '--memory', '--data', 'orphan'], {
      cwd: dir.path,
      env: cleanEnv(),
    });
    let stderr = '';
    pnpm.stderr.setEncoding('utf8').on('data', (s: string) => (stderr += s));
    const port = await new Promise<number>((resolve, reject) => {
      createInterface({ input: pnpm.stdout }).on('line', (line) => {
        const match = /^listening on 127\.0\.0\.1:(\d+)$/.exec(line);
        if (match !== null) resolve(Number(match[1]));
      });
      pnpm.once('exit', () => reject(new Error(`pnpm syncstate serve exited:\n${stderr}`)));
    });
    expect(await acceptsConnections(port)).toBe(true);
    pnpm.kill('SIGHUP'); // pnpm dies of it and tells its child nothing
    // The server notices it lost its parent and stops as on SIGTERM (guarded: it takes well under a second).
    const deadline = Date.now() + 20_000;
    while ((await acceptsConnections(port)) && Date.now() < deadline) await sleep(100);
    expect(await acceptsConnections(port)).toBe(false);
  });
});
