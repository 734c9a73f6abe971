/**
 * `serve --metrics-port PORT`: an HTTP endpoint beside the TLS server, on the
 * same host, for monitoring:
 *
 *   GET /metrics  the server's counters in Prometheus text format (prometheus.ts)
 *   GET /healthz  200 when the server listens and its storage answers, else 503;
 *                 a JSON body says what was checked
 *
 * The storage check is a real read: the stored update id of a map nobody has
 * (the all-zero hash), through the same storage object the server uses, within
 * 2 s. It fails once SQLite or PostgreSQL cannot answer (a closed store, a
 * database that is down). With --memory there is nothing to check.
 *
 * With `serve --workers N` the primary serves the endpoint. On each request it
 * asks every worker over the cluster channel for its counters and health, and
 * reports the sums (the values prom-client's AggregatorRegistry would give by
 * summing; plain snapshots are summed here so that workers need no
 * prom-client state); /healthz is 200 only when all N workers answer healthy.
 *
 * prom-client is loaded only when an endpoint starts: importing this package
 * changes nothing.
 */
import cluster from 'node:cluster';
import { createServer, type IncomingMessage, type ServerResponse } from 'node:http';
import { createServer as createNetServer, type AddressInfo, type Server as NetServer } from 'node:net';
import type { MetricsSnapshot, SyncStateServer } from '@syncstate-ts/server';
import type { MapStorage } from '@syncstate-ts/storage';
import { formatAddress } from './display.js';
import { CliError, ExitCode, usageError } from './exit-codes.js';
import { serverRegistry, sumSnapshots, type MetricsReading } from './prometheus.js';
import { workerNumber } from './workers.js';

/** How long /healthz waits for the storage, and the primary for each worker. */
const CHECK_TIMEOUT_MS = 2_000;
const PROBE_HASH = new Uint8Array(32);
const PROBE_HEX = '0'.repeat(64);

/** One server process's health, as /healthz reports it. */
export interface ProcessHealth {
  healthy: boolean;
  /** The TLS server's address, or null when it does not listen (stopping). */
  listening: string | null;
  /** 'ok', 'in memory (nothing to check)', or 'failed: <why>'. */
  storage: string;
}

/** What the endpoint reports on: this process's server, or the workers of `serve --workers`. */
export interface MetricsSource {
  metrics(): Promise<MetricsReading>;
  health(): Promise<{ healthy: boolean; report: Record<string, unknown> }>;
}

/** This process's server and its storage (undefined: maps in memory). */
export function localSource(server: SyncStateServer<string, string, unknown>, storage: MapStorage<string, string> | undefined): MetricsSource & { processHealth(): Promise<ProcessHealth> } {
  const processHealth = async (): Promise<ProcessHealth> => {
    const address = server.address();
    const storageState = await checkStorage(storage);
    const listening = address === null ? null : formatAddress(address.address, address.port);
    return { healthy: listening !== null && !storageState.startsWith('failed'), listening, storage: storageState };
  };
  return {
    metrics: () => Promise.resolve({ snapshot: server.metrics(), processes: 1 }),
    processHealth,
    async health() {
      const h = await processHealth();
      return { healthy: h.healthy, report: { status: h.healthy ? 'ok' : 'unavailable', listening: h.listening, storage: h.storage } };
    },
  };
}

async function checkStorage(storage: MapStorage<string, string> | undefined): Promise<string> {
  if (storage === undefined) return 'in memory (nothing to check)';
  let timer: NodeJS.Timeout | undefined;
  try {
    const read = storage.peek !== undefined ? storage.peek(PROBE_HASH, PROBE_HEX) : storage.load(PROBE_HASH, PROBE_HEX);
    const late = new Promise<never>((_, reject) => {
      timer = setTimeout(() => reject(new Error(`no answer within ${CHECK_TIMEOUT_MS / 1000} s`)), CHECK_TIMEOUT_MS);
    });
    await Promise.race([read, late]);
    return 'ok';
  } catch (err) {
    return `failed: ${err instanceof Error ? err.message : String(err)}`;
  } finally {
    clearTimeout(timer);
  }
}

// The messages between the primary of `serve --workers` and its workers.
const REQUEST = 'syncstate-metrics-request';
const REPLY = 'syncstate-metrics-reply';
interface Request {
  type: typeof REQUEST;
  id: number;
}
interface Reply {
  type: typeof REPLY;
  id: number;
  worker: number;
  snapshot: MetricsSnapshot;
  health: ProcessHealth;
}

/** In a worker: answers the primary's requests for this process's counters and health. Returns the function that stops answering. */
export function answerMetricsRequests(source: ReturnType<typeof localSource>): () => void {
  const worker = workerNumber() ?? 0;
  const onMessage = (message: Request): void => {
    if (message?.type !== REQUEST) return;
    void Promise.all([source.metrics(), source.processHealth()]).then(([reading, health]) => {
      const reply: Reply = { type: REPLY, id: message.id, worker, snapshot: reading.snapshot, health };
      process.send?.(reply);
    });
  };
  process.on('message', onMessage);
  return () => void process.off('message', onMessage);
}

/** In the primary of `serve --workers N`: the workers' counters summed, healthy when all N answer healthy. */
export function workersSource(expected: number): MetricsSource {
  let nextId = 0;
  const ask = async (): Promise<Reply[]> => {
    const id = nextId++;
    const workers = Object.values(cluster.workers ?? {}).filter((w) => w !== undefined && w.isConnected());
    const replies = await Promise.all(
      workers.map(
        (w) =>
          new Promise<Reply | undefined>((resolve) => {
            const done = (reply: Reply | undefined): void => {
              clearTimeout(timer);
              w!.off('message', onMessage);
              resolve(reply);
            };
            const onMessage = (m: Reply): void => {
              if (m?.type === REPLY && m.id === id) done(m);
            };
            const timer = setTimeout(() => done(undefined), CHECK_TIMEOUT_MS);
            w!.on('message', onMessage);
            w!.send({ type: REQUEST, id } satisfies Request, (err: Error | null) => {
              if (err) done(undefined);
            });
          }),
      ),
    );
    return replies.filter((r): r is Reply => r !== undefined).sort((a, b) => a.worker - b.worker);
  };
  return {
    async metrics() {
      const replies = await ask();
      return { snapshot: sumSnapshots(replies.map((r) => r.snapshot)), processes: replies.length };
    },
    async health() {
      const replies = await ask();
      const healthy = replies.length === expected && replies.every((r) => r.health.healthy);
      return {
        healthy,
        report: {
          status: healthy ? 'ok' : 'unavailable',
          workers: `${replies.length} of ${expected} answered`,
          each: replies.map((r) => ({ worker: r.worker, listening: r.health.listening, storage: r.health.storage })),
        },
      };
    },
  };
}

export interface MetricsEndpoint {
  address: AddressInfo;
  /** "http://127.0.0.1:9100/metrics" */
  url: string;
  close(): Promise<void>;
}

/** Starts the HTTP endpoint on host:port (0: any free port). */
export async function startMetricsEndpoint(options: { host: string; port: number; source: MetricsSource }): Promise<MetricsEndpoint> {
  const prom = await import('prom-client');
  const registry = serverRegistry(prom);
  const { source } = options;

  const answer = async (req: IncomingMessage, res: ServerResponse): Promise<void> => {
    const path = (req.url ?? '/').split('?')[0];
    if (path !== '/metrics' && path !== '/healthz') return send(res, 404, 'text/plain; charset=utf-8', 'not found: GET /metrics or /healthz\n');
    if (req.method !== 'GET' && req.method !== 'HEAD') {
      res.setHeader('allow', 'GET, HEAD');
      return send(res, 405, 'text/plain; charset=utf-8', 'method not allowed\n');
    }
    if (path === '/metrics') return send(res, 200, registry.contentType, await registry.metrics(await source.metrics()), req.method === 'HEAD');
    const { healthy, report } = await source.health();
    return send(res, healthy ? 200 : 503, 'application/json', `${JSON.stringify(report)}\n`, req.method === 'HEAD');
  };
  const http = createServer((req, res) => {
    answer(req, res).catch((err: unknown) => send(res, 500, 'text/plain; charset=utf-8', `${err instanceof Error ? err.message : String(err)}\n`));
  });

  await listen(http, options.host, options.port);
  const address = http.address() as AddressInfo;
  return {
    address,
    url: `http://${formatAddress(address.address, address.port)}/metrics`,
    close: () =>
      new Promise<void>((resolve) => {
        http.close(() => resolve());
        http.closeAllConnections(); // scrapers keep connections alive
      }),
  };
}

/**
 * Throws what listening on host:port for the endpoint would fail with, before
 * anything else is started (`serve` refuses a busy port before it makes anything).
 */
export async function checkMetricsPort(host: string, port: number): Promise<void> {
  const probe = createNetServer();
  try {
    await listen(probe, host, port);
  } finally {
    await new Promise((resolve) => probe.close(resolve));
  }
}

/** Listens (an http.Server is a net.Server); the errors people meet, as CliErrors naming the flag. */
async function listen(server: NetServer, host: string, port: number): Promise<void> {
  try {
    await new Promise<void>((resolve, reject) => {
      server.once('error', reject);
      server.listen({ host, port, exclusive: true }, () => {
        server.off('error', reject);
        resolve();
      });
    });
  } catch (err) {
    const code = (err as NodeJS.ErrnoException).code;
    const where = formatAddress(host, port);
    if (code === 'EADDRINUSE') throw new CliError(ExitCode.runtime, `--metrics-port: ${where} is already in use: choose another port`, { cause: err });
    if (code === 'EACCES') throw new CliError(ExitCode.runtime, `--metrics-port: not allowed to listen on ${where}: use a port above 1023`, { cause: err });
    if (code === 'EADDRNOTAVAIL' || code === 'ENOTFOUND') throw usageError(`--metrics-port: cannot listen on ${where}: --host must be an address of this machine`, { cause: err });
    throw err;
  }
}

function send(res: ServerResponse, status: number, contentType: string, body: string, headOnly = false): void {
  res.writeHead(status, { 'content-type': contentType, 'content-length': Buffer.byteLength(body), 'cache-control': 'no-store' });
  res.end(headOnly ? undefined : body);
}

/**
 * For `serve`: in a worker of `serve --workers`, answers the primary (which
 * serves the endpoint); otherwise starts the endpoint. Either is stopped when
 * the server closes. Returns the banner line, if any.
 */
export async function serveMetrics(
  server: SyncStateServer<string, string, unknown>,
  options: { host: string; port: number; storage: MapStorage<string, string> | undefined },
): Promise<string | undefined> {
  const source = localSource(server, options.storage);
  if (workerNumber() !== undefined) {
    const stop = answerMetricsRequests(source);
    server.attach({ close: () => Promise.resolve(stop()) });
    return undefined;
  }
  const endpoint = await startMetricsEndpoint({ host: options.host, port: options.port, source });
  server.attach(endpoint);
  return metricsNote(endpoint);
}

/** The banner line: where to scrape. */
export function metricsNote(endpoint: MetricsEndpoint): string {
  return `metrics on ${endpoint.url} (health: /healthz)`;
}
