/**
 * `syncstate serve`: the TLS server with everything a first run needs made
 * on the spot (data folder, certificate, password), the built-in key-value
 * events or a hooks module, and durable storage unless --memory.
 */
import { createServer as createNetServer } from 'node:net';
import { kinds } from '@syncstate-ts/core';
import { createServer, nodeTlsTransport, type ServerLimits, type SyncStateServer, type TransportFactory } from '@syncstate-ts/server';
import {
  certificateDaysLeft,
  dataPaths,
  ensureCertificate,
  ensureDataDir,
  ensurePassword,
  readPemFile,
  type Password,
} from './data-dir.js';
import { displayPath, formatAddress } from './display.js';
import { CliError, ExitCode, usageError } from './exit-codes.js';
import { loadHooksModule, type HooksDefinition } from './hooks-module.js';
import { kvEvent, kvHook } from './kv.js';
import { createLogger, type LogFormat, type LogLevel } from './logger.js';
import { openStorage } from './storage.js';
import { reportListening, WORKER_PORT_ENV, workerNumber } from './workers.js';

export interface ServeOptions {
  data: string;
  host: string;
  port: number;
  cert?: string;
  key?: string;
  hooks?: string;
  memory: boolean;
  /** A PostgreSQL connection string: maps shared with every server using it, instead of the data folder's SQLite file. */
  storage?: string;
  /** Default 'auto': the rustls transport when its addon loads, else node:tls. */
  transport?: TransportChoice;
  passwordFile?: string;
  limits: Partial<ServerLimits>;
  logLevel: LogLevel;
  logFormat: LogFormat;
}

export const TRANSPORTS = ['auto', 'rustls', 'node'] as const;
export type TransportChoice = (typeof TRANSPORTS)[number];

export interface ServeIo {
  out: { write(text: string): unknown };
  err: { write(text: string): unknown };
  env: NodeJS.ProcessEnv;
}

/** Starts serving; resolves with the running server once it listens. */
export async function startServe(options: ServeOptions, io: ServeIo): Promise<SyncStateServer<string, string, unknown>> {
  const paths = dataPaths(options.data);
  // A busy port is refused before anything is created or logged (workers share theirs on purpose).
  if (options.port !== 0 && workerNumber() === undefined) await portFree(options);
  await ensureDataDir(paths);
  const notes: string[] = [];

  const tls = await loadTls(options, paths, notes);
  const password = await ensurePassword(paths, { env: io.env.SYNCSTATE_PASSWORD, file: options.passwordFile });
  notes.push(passwordNote(password));

  const definition: HooksDefinition<unknown> =
    options.hooks !== undefined
      ? await loadHooksModule(options.hooks)
      : ({ event: kvEvent, hooks: [kvHook] } as HooksDefinition<unknown>);
  const events = options.hooks !== undefined ? `events and hooks from ${options.hooks}` : 'built-in key-value events (Set, SetMany)';

  const transport = await chooseTransport(options.transport ?? 'auto', notes);
  const { storage, description } = await openStorage({ memory: options.memory, paths, ...(options.storage !== undefined ? { url: options.storage } : {}) });
  const logger = createLogger({ level: options.logLevel, format: options.logFormat, out: io.err });

  let server: SyncStateServer<string, string, unknown>;
  try {
    server = createServer<string, string, unknown>({
      tls: { cert: tls.cert, key: tls.key },
      host: options.host,
      // Workers after the first bind the port the first one got (port 0 picks it once).
      port: Number(process.env[WORKER_PORT_ENV] ?? options.port),
      password: password.value,
      key: kinds.string,
      value: kinds.string,
      event: definition.event,
      hooks: definition.hooks ?? [],
      initHooks: definition.initHooks ?? [],
      logger,
      storage,
      limits: options.limits,
      transport,
    });
  } catch (err) {
    await storage?.close();
    if (err instanceof RangeError) throw usageError(err.message.replace(/^limits\./, '--'), { cause: err });
    throw err;
  }

  try {
    await server.listen();
  } catch (err) {
    await server.close().catch(() => {});
    throw listenError(err, options);
  }
  const address = server.address()!;
  // A worker of `serve --workers`: the first prints the banner, the primary says where they all listen.
  const worker = workerNumber();
  if (worker !== undefined) reportListening(address);
  if (worker === undefined || worker === 1) {
    io.out.write(
      [
        `syncstate serve: ${events}; maps ${description}`,
        `data folder ${displayPath(paths.dir)}`,
        ...notes,
        ...(worker === undefined ? [`listening on ${formatAddress(address.address, address.port)}`] : []),
        '',
      ].join('\n'),
    );
  }
  return server;
}

/**
 * The rustls transport (TLS on a thread pool: about twice the requests per
 * second of node:tls, BENCHMARKS.md) when asked for or, with 'auto', when its
 * optional package and addon load; node:tls otherwise.
 */
async function chooseTransport(choice: TransportChoice, notes: string[]): Promise<TransportFactory | undefined> {
  if (choice === 'node') return nodeTlsWithQuickAck(notes);
  try {
    const { rustlsTransport } = await import('@syncstate-ts/transport-rustls');
    // Workers of `serve --workers` each bind the port (workers.ts).
    const factory = rustlsTransport({ reusePort: workerNumber() !== undefined });
    notes.push('transport rustls (native TLS on all cores)');
    return factory;
  } catch (err) {
    const reason = err instanceof Error ? err.message : String(err);
    if (choice === 'rustls') throw new CliError(ExitCode.runtime, `--transport rustls: ${reason}`, { cause: err });
    notes.push(`transport node:tls (the rustls transport is not available: ${reason})`);
    return undefined;
  }
}

/** node:tls, with TCP_QUICKACK from the rustls addon where it loads (NodeTlsOptions.quickAck says why). */
async function nodeTlsWithQuickAck(notes: string[]): Promise<TransportFactory | undefined> {
  try {
    const { tcpQuickAck, isAvailable } = await import('@syncstate-ts/transport-rustls');
    if (isAvailable()) {
      notes.push('transport node:tls');
      return (context) => nodeTlsTransport(context, { quickAck: tcpQuickAck });
    }
  } catch {
    // The optional package is not installed.
  }
  notes.push('transport node:tls (without TCP_QUICKACK: the rustls addon is not available)');
  return undefined;
}

async function loadTls(options: ServeOptions, paths: ReturnType<typeof dataPaths>, notes: string[]): Promise<{ cert: string; key: string }> {
  if (options.cert !== undefined || options.key !== undefined) {
    if (options.cert === undefined || options.key === undefined) throw usageError('--cert and --key go together: give both, or neither to use the data folder\'s');
    const tls = { cert: await readPemFile(options.cert, '--cert'), key: await readPemFile(options.key, '--key') };
    notes.push(`certificate ${options.cert}`);
    checkExpiry(tls.cert, options.cert);
    return tls;
  }
  const tls = await ensureCertificate(paths, options.host);
  notes.push(
    tls.created
      ? `certificate ${displayPath(paths.cert)} (generated for localhost and 127.0.0.1; clients trust this file)`
      : `certificate ${displayPath(paths.cert)}`,
  );
  checkExpiry(tls.cert, displayPath(paths.cert));
  return tls;
}

function checkExpiry(cert: string, shown: string): void {
  const days = certificateDaysLeft(cert);
  if (days === undefined) throw usageError(`${shown} is not a PEM certificate`);
  if (days < 0) {
    throw usageError(`${shown} expired ${Math.ceil(-days)} days ago: delete it and its key to generate a new pair (clients then need the new cert.pem)`);
  }
}

function passwordNote(password: Password): string {
  switch (password.source) {
    case 'environment':
      return 'password from SYNCSTATE_PASSWORD';
    case 'file':
      return `password from ${displayPath(password.path!)}`;
    case 'generated':
      return `password generated and saved in ${displayPath(password.path!)}: ${password.value}`;
  }
}

/** Throws the listen error a server would get for `options.host`:`options.port`, before one is made. */
async function portFree(options: ServeOptions): Promise<void> {
  const probe = createNetServer();
  try {
    await new Promise<void>((resolve, reject) => {
      probe.once('error', reject);
      probe.listen({ host: options.host, port: options.port, exclusive: true }, resolve);
    });
  } catch (err) {
    throw listenError(err, options);
  } finally {
    await new Promise((resolve) => probe.close(resolve));
  }
}

function listenError(err: unknown, options: ServeOptions): unknown {
  const code = (err as NodeJS.ErrnoException).code;
  const where = formatAddress(options.host, options.port);
  if (code === 'EADDRINUSE') {
    return new CliError(ExitCode.runtime, `${where} is already in use (another syncstate serve?): choose another port with --port`, { cause: err });
  }
  if (code === 'EACCES') return new CliError(ExitCode.runtime, `not allowed to listen on ${where}: use a port above 1023`, { cause: err });
  if (code === 'EADDRNOTAVAIL' || code === 'ENOTFOUND') {
    return usageError(`cannot listen on ${where}: --host must be an address of this machine`, { cause: err });
  }
  return err;
}
