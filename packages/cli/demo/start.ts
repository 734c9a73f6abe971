/**
 * `pnpm start`: the whole product on this machine, with no arguments.
 * Starts `syncstate serve` with its defaults (data in ./.syncstate, durable
 * maps), then plays a client session with the real commands, printed as a
 * transcript: create a map, watch it, change it, read it. The server and the
 * watch keep running; the commands to try in another terminal are printed.
 * Ctrl-C, SIGTERM or SIGHUP stops everything.
 *
 * Environment: SYNCSTATE_DATA (data folder), SYNCSTATE_PORT (7878; if it is
 * taken, any free port). Paths are relative to the folder pnpm was started
 * from (INIT_CWD), as for `pnpm syncstate`.
 *
 * The commands run as children of their own (detached: a process group
 * each), so that a signal reaches them once, from here: Ctrl-C in a
 * terminal reaches this process, which asks each child to stop with one
 * SIGTERM, and the server finishes its work in progress. If this process
 * goes away without stopping them, each one notices (orphan.ts) and stops.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { existsSync, mkdirSync, writeFileSync } from 'node:fs';
import { join, relative, resolve } from 'node:path';
import { createInterface } from 'node:readline';
import { fileURLToPath } from 'node:url';
import { whenOrphaned } from './orphan.js';

/** `pnpm syncstate`'s launcher: the command from source, in the user's folder (INIT_CWD). */
const launcher = fileURLToPath(new URL('./syncstate.mjs', import.meta.url));
const userDir = process.env.INIT_CWD ?? process.cwd();
const dataDir = resolve(userDir, process.env.SYNCSTATE_DATA ?? '.syncstate');
const children = new Set<ChildProcess>();

const dim = (s: string): string => (process.stdout.isTTY ? `\x1b[2m${s}\x1b[22m` : s);
const bold = (s: string): string => (process.stdout.isTTY ? `\x1b[1m${s}\x1b[22m` : s);
const say = (s = ''): void => void process.stdout.write(`${s}\n`);
const indent = (text: string): string =>
  text
    .trimEnd()
    .split('\n')
    .map((l) => `  ${l}`)
    .join('\n');

function syncstate(args: string[]): ChildProcess {
  const child = spawn(process.execPath, ['--conditions=@syncstate-ts/source', launcher, ...args], {
    env: { ...process.env, SYNCSTATE_DATA: dataDir, INIT_CWD: userDir },
    stdio: ['ignore', 'pipe', 'pipe'],
    detached: true,
  });
  children.add(child);
  child.once('exit', () => children.delete(child));
  return child;
}

/** An argument as a shell needs it written. */
const quote = (arg: string): string => (/^[\w@%+=:,./-]+$/.test(arg) ? arg : `'${arg.replace(/'/g, `'\\''`)}'`);

/** Runs one client command, printing it and its output like a terminal session. */
async function step(args: string[], shown = args): Promise<string> {
  say(bold(`$ syncstate ${shown.map(quote).join(' ')}`));
  const child = syncstate(args);
  let stdout = '';
  let stderr = '';
  child.stdout!.setEncoding('utf8').on('data', (s: string) => (stdout += s));
  child.stderr!.setEncoding('utf8').on('data', (s: string) => (stderr += s));
  const code = await new Promise<number | null>((r) => child.once('exit', r));
  if (stdout !== '') say(indent(stdout));
  if (stderr !== '') say(dim(indent(stderr)));
  if (code !== 0) throw new Error(`syncstate ${args[0]} exited with ${code}`);
  return stdout.trim();
}

/** Starts serve; resolves with its address once it prints "listening on". */
function serve(port: string): Promise<{ address: string; banner: string } | 'port-taken'> {
  // Warnings and errors only: the transcript shows what the clients do.
  const child = syncstate(['serve', '--port', port, '--log-format', 'pretty', '--log-level', 'warn']);
  let banner = '';
  let output = '';
  return new Promise((resolveServe, reject) => {
    createInterface({ input: child.stdout! }).on('line', (line) => {
      say(indent(line));
      banner += `${line}\n`;
      const match = /^listening on (\S+)$/.exec(line);
      if (match !== null) resolveServe({ address: match[1]!, banner });
    });
    child.stderr!.setEncoding('utf8').on('data', (s: string) => {
      output += s;
      // The server's log, once it runs: show it, dimmed, as it happens.
      if (!s.startsWith('syncstate:')) process.stdout.write(dim(indent(s)) + '\n');
    });
    child.once('exit', (code) => {
      if (output.includes('is already in use')) resolveServe('port-taken');
      else reject(new Error(`syncstate serve exited with ${code}: ${output}`));
    });
  });
}

async function main(): Promise<void> {
  say(bold('syncstate demo: a server and its clients on this machine. Ctrl-C stops it.'));
  say();
  const port = process.env.SYNCSTATE_PORT ?? '7878';
  say(bold(`$ syncstate serve${port === '7878' ? '' : ` --port ${port}`}`));
  let started = await serve(port);
  if (started === 'port-taken') {
    say(dim(`  port ${port} is taken; using any free port instead`));
    say(bold('$ syncstate serve --port 0'));
    started = await serve('0');
    if (started === 'port-taken') throw new Error('no free port');
  }
  const { address, banner } = started;
  const connect = address === '127.0.0.1:7878' ? [] : ['--address', address];
  say();

  mkdirSync(dataDir, { recursive: true });
  const mapFile = join(dataDir, 'demo-map.json');
  if (!existsSync(mapFile)) writeFileSync(mapFile, `${JSON.stringify({ greeting: 'hello', visitors: '0' }, null, 2)}\n`);
  const shownFile = mapFile.startsWith(`${userDir}/`) ? relative(userDir, mapFile) : mapFile;

  const hash = await step(['init', mapFile, ...connect], ['init', shownFile, ...connect]);
  const visitors = Number(await step(['get', hash, 'visitors', ...connect]));

  say(bold(`$ syncstate watch ${hash} ${connect.join(' ')} &`.replace('  &', ' &')));
  const watch = syncstate(['watch', hash, '--interval', '200ms', ...connect]);
  const watching = new Promise<void>((ready) => {
    watch.stderr!.setEncoding('utf8').on('data', (s: string) => {
      say(dim(indent(s)));
      if (s.includes('watching map')) ready();
    });
  });
  createInterface({ input: watch.stdout! }).on('line', (line) => say(`  watch: ${line}`));
  await watching;

  const next = Number.isSafeInteger(visitors) ? visitors + 1 : 1;
  await step(['set', hash, `greeting=hello, visitor ${next}`, `visitors=${next}`, ...connect]);
  await new Promise((r) => setTimeout(r, 600)); // let the watch print the change it polled
  await step(['get', hash, ...connect]);

  const pnpm = (args: string): string => `  pnpm syncstate ${args}${connect.length > 0 ? ` ${connect.join(' ')}` : ''}`;
  say();
  say(bold('The server and the watch keep running. In another terminal, from this folder, try:'));
  say(pnpm(`set ${hash} greeting=hi`));
  say(pnpm(`get ${hash}`));
  say(pnpm('status'));
  say('  pnpm syncstate --help');
  if (!banner.includes('in memory')) say(`Maps are stored in ${dataDir}: run pnpm start again and the visitor count goes on.`);
  say('Ctrl-C stops the server.');
}

let stopping = false;
/** Asks each command to stop (one SIGTERM: serve finishes its work in progress), then exits once all have. */
function stop(code: number): void {
  if (stopping) return;
  stopping = true;
  for (const child of children) child.kill('SIGTERM');
  // A command that does not stop within this time is ended.
  setTimeout(() => {
    for (const child of children) child.kill('SIGKILL');
  }, 30_000).unref();
  const wait = setInterval(() => {
    if (children.size === 0) {
      clearInterval(wait);
      process.exit(code);
    }
  }, 50);
}
for (const signal of ['SIGINT', 'SIGTERM', 'SIGHUP'] as const) process.on(signal, () => stop(0));
// pnpm died without forwarding a signal (SIGHUP, SIGKILL).
whenOrphaned(() => stop(0));
// A closed terminal makes writes fail (EIO, EPIPE): the commands must still be stopped.
for (const stream of [process.stdout, process.stderr]) stream.on('error', () => stop(0));

main().catch((err: unknown) => {
  if (stopping) return; // a command cut short by the stop
  process.stderr.write(`demo failed: ${(err as Error).message}\n`);
  stop(1);
});
