// Runs helpers/durable-server.ts as a child process (its own process group,
// so SIGKILL reaches the node process behind npx and tsx).
import { type ChildProcess, spawn } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { createInterface } from 'node:readline';
import type { SqliteDriverName } from '@syncstate-ts/storage-sqlite';

const script = fileURLToPath(new URL('./durable-server.ts', import.meta.url));
const packageDir = fileURLToPath(new URL('../../', import.meta.url));

export interface ServerFiles {
  db: string;
  cert: string;
  key: string;
  password: string;
}

export interface ChildServer {
  port: number;
  /** SIGKILL to the whole group: no close, no flush, as a crash. */
  kill(): Promise<void>;
  /** SIGTERM: the server closes gracefully (storage closed). */
  stop(): Promise<void>;
  stderr(): string;
}

const running = new Set<ChildProcess>();

/** Kills every server still running (afterAll). */
export function killAll(): void {
  for (const child of running) signalGroup(child, 'SIGKILL');
}

export async function startChildServer(
  files: ServerFiles,
  options: { port?: number; maxHistory?: number; driver?: SqliteDriverName } = {},
): Promise<ChildServer> {
  const args = ['tsx', '--conditions=@syncstate-ts/source', script, '--db', files.db, '--cert', files.cert, '--key', files.key];
  args.push('--password', files.password, '--port', String(options.port ?? 0));
  if (options.maxHistory !== undefined) args.push('--max-history', String(options.maxHistory));
  if (options.driver !== undefined) args.push('--driver', options.driver);
  const child = spawn('npx', args, { cwd: packageDir, detached: true, stdio: ['ignore', 'pipe', 'pipe'] });
  running.add(child);
  let stderr = '';
  child.stderr!.on('data', (c: Buffer) => (stderr += c.toString()));
  const exited = new Promise<void>((resolve) =>
    child.once('exit', () => {
      running.delete(child);
      resolve();
    }),
  );
  const { port, pid } = await new Promise<{ port: number; pid: number }>((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error(`server did not start in 60 s: ${stderr}`)), 60_000);
    createInterface({ input: child.stdout! }).once('line', (line) => {
      clearTimeout(timer);
      resolve(JSON.parse(line) as { port: number; pid: number });
    });
    void exited.then(() => {
      clearTimeout(timer);
      reject(new Error(`server exited before listening: ${stderr}`));
    });
  });
  return {
    port,
    kill: async () => {
      signalGroup(child, 'SIGKILL');
      await exited;
    },
    stop: async () => {
      // To the server itself: npx and tsx wait for it to finish closing.
      process.kill(pid, 'SIGTERM');
      await exited;
    },
    stderr: () => stderr,
  };
}

function signalGroup(child: ChildProcess, signal: NodeJS.Signals): void {
  try {
    process.kill(-child.pid!, signal);
  } catch {
    // already gone
  }
}
