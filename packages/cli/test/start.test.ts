// `pnpm start` with no arguments: serve with its defaults plus a client
// session, run as a user runs it (the real `pnpm start`, native build step
// included) in a temporary data folder. Stopped with Ctrl-C (SIGINT to its
// process group, as a terminal sends it), and with SIGTERM, SIGHUP and SIGINT
// sent to the pnpm process alone (a service manager, a closed SSH session,
// `kill`): each time the server must stop listening and no process that
// `pnpm start` started may survive.
import { setTimeout as sleep } from 'node:timers/promises';
import { spawn, type ChildProcessWithoutNullStreams } from 'node:child_process';
import { readdirSync, readFileSync } from 'node:fs';
import { afterAll, describe, expect, it } from 'vitest';
import { repoRoot } from '@syncstate-ts/testkit/rust-fixtures';
import { cleanEnv, tempDir } from './helpers/cli.js';
import { acceptsConnections } from '@syncstate-ts/testkit/ports';

const dir = tempDir('start');
afterAll(() => dir.remove());

describe('pnpm start', () => {
  it('starts a server, syncs a client against it, keeps serving, and stops on Ctrl-C', async () => {
    const demo = await startDemo(dir.path);
    const { output, port } = demo;
    const hash = /\$ syncstate init \S+demo-map\.json --address \S+\n {2}([0-9a-f]{64})\n/.exec(output())?.[1];
    await sleep(1000); // a few seconds of serving
    const stillServing = await acceptsConnections(port);
    const started = descendants(demo.child.pid!);

    process.kill(-demo.child.pid!, 'SIGINT');
    await demo.exited;

    expect(output()).toContain('syncstate demo: a server and its clients on this machine.');
    expect(port).toBeGreaterThan(0);
    expect(hash).toMatch(/^[0-9a-f]{64}$/);
    expect(output()).toContain(`$ syncstate set ${hash} 'greeting=hello, visitor 1' visitors=1`);
    expect(output()).toContain('  watch: update 1: visitors = "1" (was "0")');
    expect(output()).toContain('  watch: update 1: greeting = "hello, visitor 1" (was "hello")');
    expect(output()).toMatch(/"greeting": "hello, visitor 1",\n\s+"visitors": "1"/);
    expect(output()).toContain(`pnpm syncstate get ${hash} --address 127.0.0.1:${port}`);
    // --help needs no connection flags.
    expect(output()).toContain('  pnpm syncstate --help\n');
    expect(output()).not.toContain('--help --address');
    expect(stillServing).toBe(true);
    expect(output()).toContain('stopped'); // serve shut down cleanly
    expect(await acceptsConnections(port)).toBe(false);
    expect(await survivors(started)).toEqual([]);
  }, 120_000);

  // pnpm runs the script through `sh -c`: without the script's `exec`, SIGTERM killed that shell and
  // left the demo and its server running, SIGINT was ignored by it, and SIGHUP killed pnpm alone.
  it.each(['SIGTERM', 'SIGHUP', 'SIGINT'] as const)('stops the server and every process it started on %s to the pnpm process alone', async (signal) => {
    const demo = await startDemo(dir.path);
    const started = descendants(demo.child.pid!);
    // The demo, the server and the watch, at least (tsx may add helpers of its own).
    expect(started.length).toBeGreaterThanOrEqual(3);
    expect(await acceptsConnections(demo.port)).toBe(true);

    demo.child.kill(signal);
    await demo.exited;

    expect(await survivors(started)).toEqual([]);
    expect(await acceptsConnections(demo.port)).toBe(false);
    if (signal !== 'SIGHUP') expect(demo.output()).toContain('stopped'); // serve stopped cleanly (after SIGHUP pnpm's pipe is gone)
  }, 120_000);
});

interface Demo {
  child: ChildProcessWithoutNullStreams;
  port: number;
  output(): string;
  exited: Promise<void>;
}

/** `pnpm start` in the repository, data in `data`, any free port; resolves once the transcript is done. */
async function startDemo(data: string): Promise<Demo> {
  const child = spawn('pnpm', ['start'], {
    cwd: repoRoot,
    env: cleanEnv({ SYNCSTATE_DATA: data, SYNCSTATE_PORT: '0' }),
    detached: true, // its own process group, like a terminal's foreground job
  });
  let output = '';
  child.stdout.setEncoding('utf8').on('data', (s: string) => (output += s));
  child.stderr.setEncoding('utf8').on('data', (s: string) => (output += s));
  const exited = new Promise<void>((resolve) => child.once('exit', () => resolve()));
  const deadline = Date.now() + 90_000;
  while (!output.includes('Ctrl-C stops the server.') && Date.now() < deadline && child.exitCode === null) {
    await sleep(100);
  }
  const port = Number(/listening on 127\.0\.0\.1:(\d+)/.exec(output)?.[1]);
  if (!(port > 0)) throw new Error(`pnpm start printed no port:\n${output}`);
  return { child, port, output: () => output, exited };
}

/** Every process below `pid`, from /proc (Linux): the pnpm script, the demo, the commands it started. */
function descendants(pid: number): number[] {
  const found: number[] = [];
  const walk = (p: number): void => {
    let tasks: string[];
    try {
      tasks = readdirSync(`/proc/${p}/task`);
    } catch {
      return;
    }
    for (const task of tasks) {
      let children = '';
      try {
        children = readFileSync(`/proc/${p}/task/${task}/children`, 'utf8');
      } catch {
        continue;
      }
      for (const c of children.split(' ').filter((s) => s !== '')) {
        found.push(Number(c));
        walk(Number(c));
      }
    }
  };
  walk(pid);
  return found;
}

/** The processes of `pids` still running (zombies count as gone), after giving them up to 30 s to stop. */
async function survivors(pids: number[]): Promise<string[]> {
  const running = (): string[] =>
    pids.flatMap((pid) => {
      try {
        const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
        if (stat.slice(stat.lastIndexOf(')') + 2).startsWith('Z')) return [];
        return [`${pid} ${readFileSync(`/proc/${pid}/cmdline`, 'utf8').split('\0').join(' ').slice(0, 160)}`];
      } catch {
        return [];
      }
    });
  const deadline = Date.now() + 30_000; // a guard against a stall only: they stop within a second or two
  while (running().length > 0 && Date.now() < deadline) await sleep(100);
  return running();
}
