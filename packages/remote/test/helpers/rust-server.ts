/**
 * Starts the real Rust `TcpStateServer` (fixtures `server` mode) on port 0
 * with a certificate generated for this run, and stops it again.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createInterface } from 'node:readline';
import { createSelfSignedCertificate } from '@syncstate/server';
import { fixturesBinary } from '../../../../scripts/rust-fixtures.js';

export interface RustServer {
  port: number;
  /** PEM certificate of the server; the clients' only trusted root. */
  cert: string;
  password: string;
  /** Everything the server wrote on stderr so far (for failure messages). */
  stderr(): string;
  stop(): Promise<void>;
}

export async function startRustServer(password = 'test-password'): Promise<RustServer> {
  const { cert, key } = await createSelfSignedCertificate();
  const dir = await mkdtemp(join(tmpdir(), 'syncstate-remote-'));
  const certPath = join(dir, 'cert.pem');
  const keyPath = join(dir, 'key.pem');
  await writeFile(certPath, cert);
  await writeFile(keyPath, key);

  // stdin stays an open pipe: the server exits when it closes, so a crashed
  // test run cannot leak the process.
  const child = spawn(fixturesBinary, ['server', '--cert', certPath, '--key', keyPath, '--password', password, '--port', '0'], {
    stdio: ['pipe', 'pipe', 'pipe'],
  });
  let stderr = '';
  child.stderr.setEncoding('utf8').on('data', (s: string) => (stderr += s));

  let port: number;
  try {
    port = await readPort(child, () => stderr);
  } catch (err) {
    child.kill('SIGKILL');
    await rm(dir, { recursive: true, force: true });
    throw err;
  }

  return {
    port,
    cert,
    password,
    stderr: () => stderr,
    async stop() {
      if (child.exitCode === null && child.signalCode === null) {
        const exited = new Promise((resolve) => child.once('exit', resolve));
        child.kill('SIGTERM');
        await exited;
      }
      await rm(dir, { recursive: true, force: true });
    },
  };
}

function readPort(child: ChildProcess, stderr: () => string): Promise<number> {
  return new Promise((resolve, reject) => {
    const lines = createInterface({ input: child.stdout! });
    const timer = setTimeout(() => fail(new Error('the Rust server printed no port within 10 s')), 10_000);
    function fail(err: Error): void {
      clearTimeout(timer);
      lines.close();
      reject(err);
    }
    child.once('exit', (code, signal) => fail(new Error(`the Rust server exited (${code ?? signal}) before listening: ${stderr()}`)));
    child.once('error', fail);
    lines.once('line', (line) => {
      clearTimeout(timer);
      lines.close();
      const port = (JSON.parse(line) as { port?: unknown }).port;
      if (typeof port === 'number' && Number.isInteger(port) && port > 0) resolve(port);
      else reject(new Error(`unexpected first line from the Rust server: ${line}`));
    });
  });
}
