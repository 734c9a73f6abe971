/**
 * The real Rust program (fixtures/): its `client` mode as a line-JSON REPL
 * over a real `TcpStateRemote`, and its `server` mode (a real TcpStateServer).
 */
import { type ChildProcessWithoutNullStreams, spawn } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createInterface } from 'node:readline';
import { afterAll, beforeAll } from 'vitest';
import { createSelfSignedCertificate } from '@syncstate-ts/server';
import { fixturesBinary } from './rust-fixtures.js';

export type Answer = { ok: unknown } | { err: string; debug: string };

/** Writes PEM text to files the Rust program can read; `cleanup()` removes them. */
export function pemFiles(pems: Record<string, string>): { paths: Record<string, string>; cleanup: () => void } {
  const dir = mkdtempSync(join(tmpdir(), 'syncstate-rust-'));
  const paths: Record<string, string> = {};
  for (const [name, pem] of Object.entries(pems)) {
    paths[name] = join(dir, `${name}.pem`);
    writeFileSync(paths[name], pem);
  }
  return { paths, cleanup: () => rmSync(dir, { recursive: true, force: true }) };
}

/** A running `syncstate-fixtures client`: one command, one answer, in order. */
export class RustClient {
  readonly #child: ChildProcessWithoutNullStreams;
  readonly #waiting: Array<(line: string) => void> = [];
  readonly #cleanup: () => void;
  #stderr = '';

  private constructor(child: ChildProcessWithoutNullStreams, cleanup: () => void) {
    this.#child = child;
    this.#cleanup = cleanup;
    createInterface({ input: child.stdout }).on('line', (line) => this.#waiting.shift()?.(line));
    child.stderr.on('data', (c: Buffer) => (this.#stderr += c.toString()));
    child.on('exit', () => {
      for (const waiter of this.#waiting.splice(0)) waiter(JSON.stringify({ err: `client exited: ${this.#stderr}`, debug: '' }));
    });
  }

  static start(options: { port: number; rootCert: string; password: string }): RustClient {
    const { paths, cleanup } = pemFiles({ root: options.rootCert });
    const child = spawn(fixturesBinary, [
      'client',
      '--port',
      String(options.port),
      '--cert',
      paths.root!,
      '--password',
      options.password,
    ]);
    return new RustClient(child, cleanup);
  }

  /** Sends one command; resolves with its answer line, parsed. */
  send(command: Record<string, unknown>): Promise<Answer> {
    return new Promise((resolve) => {
      this.#waiting.push((line) => resolve(JSON.parse(line) as Answer));
      this.#child.stdin.write(`${JSON.stringify(command)}\n`);
    });
  }

  /** Sends a command that must succeed; returns its `ok` value. */
  async ok<T = Record<string, unknown>>(command: Record<string, unknown>): Promise<T> {
    const answer = await this.send(command);
    if (!('ok' in answer)) throw new Error(`${JSON.stringify(command)} failed: ${answer.err} / ${answer.debug}`);
    return answer.ok as T;
  }

  /** Sends a command that must fail; returns the error (Display and Debug). */
  async err(command: Record<string, unknown>): Promise<{ err: string; debug: string }> {
    const answer = await this.send(command);
    if (!('err' in answer)) throw new Error(`${JSON.stringify(command)} unexpectedly succeeded: ${JSON.stringify(answer.ok)}`);
    return answer;
  }

  async close(): Promise<void> {
    if (this.#child.exitCode === null) {
      const exited = new Promise((r) => this.#child.once('exit', r));
      this.#child.stdin.end();
      await exited;
    }
    this.#cleanup();
  }
}

export interface RustServer {
  port: number;
  pid: number;
  /** PEM certificate of the server (the one passed in, or generated for this run): the clients' only trusted root. */
  cert: string;
  password: string;
  /** Everything the server wrote on stderr so far (for failure messages). */
  stderr(): string;
  /** Resolves when the process exits: its exit code or signal, and stderr. */
  exited: Promise<{ code: number | null; signal: NodeJS.Signals | null; stderr: string }>;
  isRunning(): boolean;
  /** Resident memory of the process in bytes (Linux /proc). */
  rss(): number;
  /** Threads of the process (Linux /proc). */
  threads(): number;
  /** Kills the process (if it still runs) and waits for it to exit. */
  stop(): Promise<void>;
}

/**
 * Starts `syncstate-fixtures server` (KvEvent hooks; init hook refusing the
 * key "__reject__") on 127.0.0.1, port 0. Without `cert` and `key`, a
 * certificate is generated for this run; `password` defaults to
 * "test-password". `addressSpaceKiB` runs it under `ulimit -v`, so an
 * allocation it cannot make aborts it instead of taking the machine's memory.
 * Its stdin stays an open pipe: the server exits when that closes, so a
 * crashed test run cannot leak the process.
 */
export async function startRustServer(
  options: { cert?: string; key?: string; password?: string; addressSpaceKiB?: number } = {},
): Promise<RustServer> {
  const identity =
    options.cert !== undefined && options.key !== undefined
      ? { cert: options.cert, key: options.key }
      : await createSelfSignedCertificate();
  const password = options.password ?? 'test-password';
  const { paths, cleanup } = pemFiles({ cert: identity.cert, key: identity.key });
  const args = ['server', '--cert', paths.cert!, '--key', paths.key!, '--password', password, '--port', '0'];
  const child =
    options.addressSpaceKiB === undefined
      ? spawn(fixturesBinary, args)
      : spawn('sh', ['-c', `ulimit -v ${options.addressSpaceKiB} && exec "$0" "$@"`, fixturesBinary, ...args]);
  let stderr = '';
  child.stderr.on('data', (c: Buffer) => (stderr += c.toString()));
  const exited = new Promise<{ code: number | null; signal: NodeJS.Signals | null; stderr: string }>((resolve) =>
    child.once('exit', (code, signal) => {
      cleanup();
      resolve({ code, signal, stderr });
    }),
  );
  const isRunning = (): boolean => child.exitCode === null && child.signalCode === null;
  const stop = async (): Promise<void> => {
    if (isRunning()) {
      child.kill('SIGKILL');
      await exited;
    }
  };
  let port: number;
  try {
    port = await new Promise<number>((resolve, reject) => {
      const lines = createInterface({ input: child.stdout });
      const timer = setTimeout(() => reject(new Error(`the Rust server printed no port within 10 s: ${stderr}`)), 10_000);
      child.once('error', (err) => (clearTimeout(timer), reject(err)));
      void exited.then((e) => (clearTimeout(timer), reject(new Error(`the Rust server exited before listening: ${e.stderr}`))));
      lines.once('line', (line) => {
        clearTimeout(timer);
        let got: unknown;
        try {
          got = (JSON.parse(line) as { port?: unknown }).port;
        } catch {
          got = undefined;
        }
        if (typeof got === 'number' && Number.isInteger(got) && got > 0) resolve(got);
        else reject(new Error(`unexpected first line from the Rust server: ${line}`));
      });
    });
  } catch (err) {
    if (child.pid === undefined) cleanup(); // never started: no exit event will come
    else await stop();
    throw err;
  }
  const pid = child.pid!;
  const status = (field: string): number => {
    const text = readFileSync(`/proc/${pid}/status`, 'utf8');
    const match = new RegExp(`^${field}:\\s+(\\d+)`, 'm').exec(text);
    if (!match) throw new Error(`no ${field} in /proc/${pid}/status`);
    return Number(match[1]);
  };
  return {
    port,
    pid,
    cert: identity.cert,
    password,
    stderr: () => stderr,
    exited,
    isRunning,
    rss: () => status('VmRSS') * 1024,
    threads: () => status('Threads'),
    stop,
  };
}

/**
 * A Rust server (startRustServer) for the tests of a file or describe block:
 * started before them, stopped after them. The function returned gives it
 * while they run.
 */
export function rustServerForTests(options: Parameters<typeof startRustServer>[0] = {}): () => RustServer {
  let server: RustServer | undefined;
  beforeAll(async () => {
    server = await startRustServer(options);
  });
  afterAll(async () => {
    await server?.stop();
  });
  return () => {
    if (server === undefined) throw new Error('the Rust server runs only while the tests run');
    return server;
  };
}
