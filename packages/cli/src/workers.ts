/**
 * `serve --workers N`: N processes serving one port, so that the protocol
 * work (one main thread per process) uses every core. The first process
 * (primary) only starts and watches them: each worker is the same
 * `syncstate serve` command, told by its environment which worker it is and
 * which port to bind. With the rustls transport every worker binds the port
 * itself (SO_REUSEPORT) and the kernel spreads connections; with node:tls,
 * Node's cluster module shares the primary's socket. The maps must live in
 * a storage every worker shares (PostgreSQL): each worker holds its own
 * copies, kept current by the storage (docs/protocol.md, "Our server").
 */
import cluster, { type Worker } from 'node:cluster';
import { formatAddress } from './display.js';
import { CliError, ExitCode } from './exit-codes.js';

/** Set in a worker's environment: its number, from 1. */
export const WORKER_ENV = 'SYNCSTATE_WORKER';
/** Set in the environment of the workers after the first: the port the first one bound (port 0 picks it). */
export const WORKER_PORT_ENV = 'SYNCSTATE_WORKER_PORT';

/** This process's worker number (1..N), or undefined when it is not a worker. */
export function workerNumber(env: NodeJS.ProcessEnv = process.env): number | undefined {
  const n = Number(env[WORKER_ENV]);
  return Number.isInteger(n) && n > 0 ? n : undefined;
}

/** A worker tells the primary it listens (and where); the primary answers nothing. */
export function reportListening(address: { address: string; port: number }): void {
  process.send?.({ type: 'syncstate-listening', host: address.address, port: address.port });
}

interface Listening {
  type: 'syncstate-listening';
  host: string;
  port: number;
}

export interface Workers {
  host: string;
  port: number;
  /** SIGTERM to every worker; resolves once all have exited. */
  stop(): Promise<void>;
}

/**
 * Starts `count` workers running this same command; resolves once all
 * listen. A worker that dies is started again on the same port.
 */
export async function startWorkers(count: number, log: (line: string) => void): Promise<Workers> {
  let stopping = false;
  let port: number | undefined;
  const live = new Set<Worker>();

  const fork = (n: number): Promise<Listening> => {
    const worker = cluster.fork({ [WORKER_ENV]: String(n), ...(port === undefined ? {} : { [WORKER_PORT_ENV]: String(port) }) });
    live.add(worker);
    return new Promise<Listening>((resolve, reject) => {
      worker.on('message', (m: Listening) => {
        if (m?.type === 'syncstate-listening') resolve(m);
      });
      worker.once('exit', (code, signal) => {
        live.delete(worker);
        reject(new CliError(ExitCode.runtime, `worker ${n} exited (${signal ?? code}) before listening`));
        if (stopping || port === undefined) return;
        log(`worker ${n} exited (${signal ?? code}); starting it again`);
        fork(n).catch((err: unknown) => log(`worker ${n} did not start again: ${(err as Error).message}`));
      });
    });
  };

  try {
    const first = await fork(1);
    port = first.port;
    await Promise.all(Array.from({ length: count - 1 }, (_, i) => fork(i + 2)));
    log(`${count} workers serving ${formatAddress(first.host, first.port)}`);
    return { host: first.host, port: first.port, stop };
  } catch (err) {
    await stop();
    throw err;
  }

  async function stop(): Promise<void> {
    stopping = true;
    await Promise.all(
      [...live].map(
        (w) =>
          new Promise<void>((resolve) => {
            if (w.isDead()) return resolve();
            w.once('exit', () => resolve());
            w.process.kill('SIGTERM');
          }),
      ),
    );
  }
}
