/**
 * Runs the `syncstate` command as a user would: a separate Node process on
 * the TypeScript sources (tsx, with the workspace's source condition), in a
 * folder of the test's choosing. `serve` is started in the background and
 * found through the "listening on HOST:PORT" line it prints.
 */
import { execFile, spawn, type ChildProcessWithoutNullStreams } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createInterface } from 'node:readline';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { afterAll, beforeAll } from 'vitest';

export const binPath = fileURLToPath(new URL('../../src/bin.ts', import.meta.url));
const tsxLoader = pathToFileURL(createRequire(import.meta.url).resolve('tsx')).href;
/** `node <these> args...` runs the CLI from source. */
export const nodeArgs = ['--import', tsxLoader, '--conditions=@syncstate-ts/source', binPath];

export interface Result {
  code: number | null;
  stdout: string;
  stderr: string;
}

/** An environment without the variables the CLI reads, so the host's settings cannot leak in. */
export function cleanEnv(extra: Record<string, string> = {}): NodeJS.ProcessEnv {
  const env = { ...process.env };
  for (const name of Object.keys(env)) if (name.startsWith('SYNCSTATE_')) delete env[name];
  return { ...env, ...extra };
}

export function runCli(args: readonly string[], options: { cwd: string; env?: Record<string, string>; input?: string }): Promise<Result> {
  return new Promise((resolve) => {
    const child = execFile(
      process.execPath,
      [...nodeArgs, ...args],
      { cwd: options.cwd, env: cleanEnv(options.env), timeout: 60_000 },
      (error, stdout, stderr) => {
        resolve({ code: error ? (typeof error.code === 'number' ? error.code : null) : 0, stdout, stderr });
      },
    );
    if (options.input !== undefined) child.stdin?.end(options.input);
  });
}

export interface RunningCli {
  child: ChildProcessWithoutNullStreams;
  /** Resolves once stderr matches (e.g. watch's header line). */
  stderrMatches(pattern: RegExp, timeoutMs?: number): Promise<void>;
  result: Promise<Result>;
}

/** Starts a command that keeps running (watch): wait for its output, then for its end. */
export function spawnCli(args: readonly string[], options: { cwd: string; env?: Record<string, string> }): RunningCli {
  const child = spawn(process.execPath, [...nodeArgs, ...args], { cwd: options.cwd, env: cleanEnv(options.env) });
  let stdout = '';
  let stderr = '';
  const waiters = new Set<() => void>();
  child.stdout.setEncoding('utf8').on('data', (s: string) => (stdout += s));
  child.stderr.setEncoding('utf8').on('data', (s: string) => {
    stderr += s;
    for (const w of waiters) w();
  });
  const result = new Promise<Result>((resolve) => child.once('exit', (code) => resolve({ code, stdout, stderr })));
  return {
    child,
    result,
    stderrMatches: (pattern, timeoutMs = 30_000) =>
      new Promise((resolve, reject) => {
        const check = (): void => {
          if (!pattern.test(stderr)) return;
          waiters.delete(check);
          clearTimeout(timer);
          resolve();
        };
        const timer = setTimeout(() => {
          waiters.delete(check);
          reject(new Error(`stderr did not match ${pattern} within ${timeoutMs} ms:\n${stderr}`));
        }, timeoutMs);
        waiters.add(check);
        void result.then(() => check());
        check();
      }),
  };
}

export interface ServeProcess {
  host: string;
  port: number;
  /** "127.0.0.1:PORT", for --address. */
  address: string;
  child: ChildProcessWithoutNullStreams;
  stdout(): string;
  stderr(): string;
  /** SIGTERM, then the exit code and output. */
  stop(): Promise<Result>;
}

export async function startServe(args: readonly string[], options: { cwd: string; env?: Record<string, string> }): Promise<ServeProcess> {
  const child = spawn(process.execPath, [...nodeArgs, 'serve', ...args], { cwd: options.cwd, env: cleanEnv(options.env) });
  let stdout = '';
  let stderr = '';
  child.stdout.setEncoding('utf8').on('data', (s: string) => (stdout += s));
  child.stderr.setEncoding('utf8').on('data', (s: string) => (stderr += s));
  const exited = new Promise<Result>((resolve) => child.once('exit', (code) => resolve({ code, stdout, stderr })));

  const listening = await new Promise<{ host: string; port: number }>((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error(`serve printed no "listening on" line in 30 s:\n${stdout}\n${stderr}`)), 30_000);
    createInterface({ input: child.stdout }).on('line', (line) => {
      const match = /^listening on (\S+):(\d+)$/.exec(line);
      if (match === null) return;
      clearTimeout(timer);
      resolve({ host: match[1]!, port: Number(match[2]) });
    });
    void exited.then((r) => {
      clearTimeout(timer);
      reject(new Error(`serve exited (${r.code}) before listening:\n${r.stdout}\n${r.stderr}`));
    });
  });
  return {
    ...listening,
    address: `${listening.host}:${listening.port}`,
    child,
    stdout: () => stdout,
    stderr: () => stderr,
    stop: async () => {
      if (child.exitCode === null && child.signalCode === null) child.kill('SIGTERM');
      return exited;
    },
  };
}

/** A temporary folder for one test file; `remove()` deletes it. */
export function tempDir(prefix: string): { path: string; remove: () => void } {
  const path = mkdtempSync(join(tmpdir(), `syncstate-cli-${prefix}-`));
  return { path, remove: () => rmSync(path, { recursive: true, force: true }) };
}

/**
 * For a test file: `syncstate serve --port 0 --memory ...args` in a new
 * temporary folder, started before the tests (once `files` are written
 * there) and stopped after them, the folder then removed. `serve()` gives the
 * running server; `cli(...args)` runs a client command in the folder against it.
 */
export function serveForTests(
  prefix: string,
  options: { args?: readonly string[]; files?: Record<string, string> } = {},
): { dir: { path: string }; serve: () => ServeProcess; cli: (...args: string[]) => Promise<Result> } {
  const dir = tempDir(prefix);
  let running: ServeProcess | undefined;
  beforeAll(async () => {
    for (const [name, content] of Object.entries(options.files ?? {})) writeFileSync(join(dir.path, name), content);
    running = await startServe(['--port', '0', '--memory', ...(options.args ?? [])], { cwd: dir.path });
  });
  afterAll(async () => {
    await running?.stop();
    dir.remove();
  });
  const serve = (): ServeProcess => {
    if (running === undefined) throw new Error('serve runs only while the tests run');
    return running;
  };
  return { dir, serve, cli: (...args) => runCli([...args, '--address', serve().address], { cwd: dir.path }) };
}
