// `pnpm start` with no arguments: serve with its defaults plus a client
// session. Run for a few seconds in a temporary data folder, then stopped
// with Ctrl-C (SIGINT to its process group, as a terminal sends it).
import { spawn } from 'node:child_process';
import { connect } from 'node:net';
import { afterAll, describe, expect, it } from 'vitest';
import { repoRoot } from '@syncstate-ts/testkit/rust-fixtures';
import { cleanEnv, tempDir } from './helpers/cli.js';

const dir = tempDir('start');
afterAll(() => dir.remove());

describe('pnpm start', () => {
  it('starts a server, syncs a client against it, keeps serving, and stops on Ctrl-C', async () => {
    const child = spawn('pnpm', ['start'], {
      cwd: repoRoot,
      env: cleanEnv({ SYNCSTATE_DATA: dir.path, SYNCSTATE_PORT: '0' }),
      detached: true, // its own process group, like a terminal's foreground job
    });
    let output = '';
    child.stdout.setEncoding('utf8').on('data', (s: string) => (output += s));
    child.stderr.setEncoding('utf8').on('data', (s: string) => (output += s));
    const exited = new Promise<void>((resolve) => child.once('exit', () => resolve()));

    const deadline = Date.now() + 90_000;
    while (!output.includes('Ctrl-C stops the server.') && Date.now() < deadline && child.exitCode === null) {
      await new Promise((r) => setTimeout(r, 100));
    }
    const port = Number(/listening on 127\.0\.0\.1:(\d+)/.exec(output)?.[1]);
    const hash = /\$ syncstate init \S+demo-map\.json --address \S+\n {2}([0-9a-f]{64})\n/.exec(output)?.[1];
    await new Promise((r) => setTimeout(r, 1000)); // a few seconds of serving
    const stillServing = await canConnect(port);

    process.kill(-child.pid!, 'SIGINT');
    await exited;

    expect(output).toContain('syncstate demo: a server and its clients on this machine.');
    expect(port).toBeGreaterThan(0);
    expect(hash).toMatch(/^[0-9a-f]{64}$/);
    expect(output).toContain(`$ syncstate set ${hash} 'greeting=hello, visitor 1' visitors=1`);
    expect(output).toContain('  watch: update 1: visitors = "1" (was "0")');
    expect(output).toContain('  watch: update 1: greeting = "hello, visitor 1" (was "hello")');
    expect(output).toMatch(/"greeting": "hello, visitor 1",\n\s+"visitors": "1"/);
    expect(output).toContain(`pnpm syncstate get ${hash} --address 127.0.0.1:${port}`);
    expect(stillServing).toBe(true);
    expect(output).toContain('stopped'); // serve shut down cleanly
    expect(await canConnect(port)).toBe(false);
  }, 120_000);
});

function canConnect(port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const socket = connect(port, '127.0.0.1');
    socket.once('connect', () => {
      socket.destroy();
      resolve(true);
    });
    socket.once('error', () => resolve(false));
  });
}
