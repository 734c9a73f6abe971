// The `syncstate` command as a separate process on the TypeScript sources
// (tsx, the workspace's source condition), for tests that need a long-running
// command (serve, gateway): started, found through a line it prints, stopped
// with SIGTERM as a service manager would.
import { spawn, type ChildProcessWithoutNullStreams } from 'node:child_process';
import { createRequire } from 'node:module';
import { createInterface } from 'node:readline';
import { fileURLToPath, pathToFileURL } from 'node:url';

const cliBin = fileURLToPath(new URL('../../cli/src/bin.ts', import.meta.url));
const tsxLoader = pathToFileURL(createRequire(import.meta.url).resolve('tsx')).href;
/** `node <these> args...` runs the CLI from source. */
export const cliNodeArgs = ['--import', tsxLoader, '--conditions=@syncstate-ts/source', cliBin];

export interface RunningCommand {
  readonly child: ChildProcessWithoutNullStreams;
  /** The first stdout line that matched `ready`. */
  readonly match: RegExpExecArray;
  stdout(): string;
  stderr(): string;
  /** SIGTERM, then waits for the exit. */
  stop(): Promise<void>;
}

/**
 * Runs `syncstate <args>` and resolves once a stdout line matches `ready`;
 * rejects (with its output) if it exits first or `timeoutMs` passes.
 */
export function startSyncstate(
  args: readonly string[],
  ready: RegExp,
  options: { cwd?: string; env?: Record<string, string>; timeoutMs?: number } = {},
): Promise<RunningCommand> {
  const env = { ...process.env };
  for (const name of Object.keys(env)) if (name.startsWith('SYNCSTATE_')) delete env[name];
  const child = spawn(process.execPath, [...cliNodeArgs, ...args], { cwd: options.cwd, env: { ...env, ...options.env } });
  let stdout = '';
  let stderr = '';
  child.stderr.setEncoding('utf8').on('data', (s: string) => (stderr = (stderr + s).slice(-50_000)));
  const exited = new Promise<void>((resolve) => child.once('exit', () => resolve()));
  const stop = async (): Promise<void> => {
    if (child.exitCode === null && child.signalCode === null) {
      child.kill('SIGTERM');
      await exited;
    }
  };
  return new Promise((resolve, reject) => {
    const timer = setTimeout(() => {
      void stop();
      reject(new Error(`syncstate ${args.join(' ')} printed no line matching ${ready} within ${options.timeoutMs ?? 60_000} ms:\n${stdout}\n${stderr}`));
    }, options.timeoutMs ?? 60_000);
    let found = false;
    createInterface({ input: child.stdout }).on('line', (line) => {
      stdout += `${line}\n`;
      const match = ready.exec(line);
      if (match === null || found) return;
      found = true;
      clearTimeout(timer);
      resolve({ child, match, stdout: () => stdout, stderr: () => stderr, stop });
    });
    void exited.then(() => {
      if (found) return;
      clearTimeout(timer);
      reject(new Error(`syncstate ${args.join(' ')} exited (${child.exitCode ?? child.signalCode}) before printing ${ready}:\n${stdout}\n${stderr}`));
    });
  });
}
