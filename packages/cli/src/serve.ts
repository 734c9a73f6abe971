/**
 * `syncstate serve`: the TLS server with everything a first run needs made
 * on the spot (data folder, certificate, password), the built-in key-value
 * events or a hooks module, and durable storage unless --memory.
 */
import { createServer as createNetServer } from 'node:net';
import { kinds } from '@syncstate-ts/core';
import { readFile } from 'node:fs/promises';
import { createServer, FULL_ACCESS, nodeTlsTransport, type ServerLimits, type SyncStateServer, type TransportFactory } from '@syncstate-ts/server';
import { isLoopback, listenWebSocket, parseTokens, tokenAuthorize, TokenFileError, type TokenEntry } from '@syncstate-ts/server-websocket';
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
import { checkMetricsPort, serveMetrics } from './metrics-endpoint.js';
import { openStorage } from './storage.js';
import { serveControl } from './control.js';
import { SqliteStorage } from '@syncstate-ts/storage-sqlite';
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
  /** Also accept WebSocket connections (browsers) on this port: wss:// with the same certificate, or ws:// with wsPlain. */
  wsPort?: number;
  /** Plain ws:// instead of wss:// (loopback hosts only). */
  wsPlain?: boolean;
  /** Tokens file for WebSocket connections (server-websocket's tokens.ts has the format); the password is always a full-access token. */
  tokens?: string;
  /** Serve GET /metrics (Prometheus) and /healthz over HTTP on this port, same host (metrics-endpoint.ts). */
  metricsPort?: number;
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
  if (options.wsPort !== undefined && options.wsPort !== 0) await portFree({ ...options, port: options.wsPort });
  if (options.metricsPort !== undefined && options.metricsPort !== 0 && workerNumber() === undefined) await checkMetricsPort(options.host, options.metricsPort);
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

  const tokens = await loadTokens(options);
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
  if (options.wsPort !== undefined) {
    const authorize = tokenAuthorize([{ token: password.value, access: FULL_ACCESS }, ...tokens]);
    try {
      const listener = await listenWebSocket(server, {
        host: options.host,
        port: options.wsPort,
        tls: options.wsPlain === true ? undefined : { cert: tls.cert, key: tls.key },
        authorize,
        logger,
      });
      const who = options.tokens === undefined ? 'token: the password' : `tokens: the password, and ${tokens.length} from ${options.tokens}`;
      notes.push(`websocket on ${listener.url} (subprotocol syncstate.v1; ${who})`);
    } catch (err) {
      await server.close().catch(() => {});
      throw listenError(err, { ...options, port: options.wsPort });
    }
  }
  if (options.metricsPort !== undefined) {
    try {
      const note = await serveMetrics(server, { host: options.host, port: options.metricsPort, storage });
      if (note !== undefined) notes.push(note);
    } catch (err) {
      await server.close().catch(() => {});
      throw err;
    }
  }
  // `syncstate backup` asks this process for an online copy of maps.db, which it holds locked (control.ts).
  if (storage instanceof SqliteStorage) {
    const note = await serveControl(server, storage, paths, logger).catch(async (err: unknown) => {
      await server.close().catch(() => {});
      throw err;
    });
    if (note !== undefined) notes.push(note);
  }
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

/** The --tokens file's entries (none without it), checked before anything listens. */
async function loadTokens(options: ServeOptions): Promise<TokenEntry[]> {
  if (options.wsPort === undefined) {
    if (options.tokens !== undefined || options.wsPlain === true) throw usageError('--tokens and --ws-plain need --ws-port');
    return [];
  }
  if (options.wsPlain === true && !isLoopback(options.host)) {
    throw usageError(`--ws-plain serves ws:// on a loopback --host only (tokens must not cross a network in clear), not ${options.host}`);
  }
  if (options.tokens === undefined) return [];
  let text: string;
  try {
    text = await readFile(options.tokens, 'utf8');
  } catch (err) {
    throw usageError(`--tokens: cannot read ${options.tokens}: ${(err as Error).message}`, { cause: err });
  }
  try {
    return parseTokens(text);
  } catch (err) {
    if (err instanceof TokenFileError) throw usageError(`--tokens ${options.tokens}: ${err.message}`, { cause: err });
    throw err;
  }
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
