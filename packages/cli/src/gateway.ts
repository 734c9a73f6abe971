/**
 * `syncstate gateway --upstream HOST:PORT --tokens FILE`: a WebSocket
 * endpoint for browsers in front of a syncstate server that speaks only TLS
 * (a Rust TcpStateServer). Browsers present a token from the tokens file;
 * the gateway relays each request as one TLS request with the upstream's
 * password (read like the client commands read it) and polls subscribed
 * maps once per map to push their changes.
 */
import { readFile } from 'node:fs/promises';
import { HASH_LENGTH, type Schema } from '@syncstate-ts/codec';
import { kinds } from '@syncstate-ts/core';
import { startGateway, type Gateway } from '@syncstate-ts/gateway';
import { AuthenticationError, TcpStateRemote } from '@syncstate-ts/remote';
import { parseTokens, tokenAuthorize, TokenFileError, type WebSocketLimits } from '@syncstate-ts/server-websocket';
import { connectionSecrets } from './connection.js';
import { readPemFile } from './data-dir.js';
import { describeError } from './describe-error.js';
import { displayPath } from './display.js';
import { CliError, ExitCode, usageError } from './exit-codes.js';
import { loadHooksModule } from './hooks-module.js';
import { kvEvent } from './kv.js';
import { createLogger, type LogFormat, type LogLevel } from './logger.js';

export interface GatewayCommandOptions {
  upstream: string;
  tokens: string;
  data: string;
  ca?: string;
  passwordFile?: string;
  host: string;
  port: number;
  cert?: string;
  key?: string;
  hooks?: string;
  pollIntervalMs: number;
  maxPolledMaps: number;
  maxUpstreamConnections: number;
  limits: Partial<WebSocketLimits>;
  logLevel: LogLevel;
  logFormat: LogFormat;
}

export interface GatewayIo {
  out: { write(text: string): unknown };
  err: { write(text: string): unknown };
  env: NodeJS.ProcessEnv;
}

/** Starts the gateway; resolves once it listens. */
export async function startGatewayCommand(options: GatewayCommandOptions, io: GatewayIo): Promise<Gateway> {
  const { ca, password } = await connectionSecrets(
    { data: options.data, ...(options.ca !== undefined ? { ca: options.ca } : {}), ...(options.passwordFile !== undefined ? { passwordFile: options.passwordFile } : {}) },
    io.env,
  );
  const tokens = await readTokens(options.tokens);
  const event: Schema<unknown> = options.hooks !== undefined ? (await loadHooksModule(options.hooks)).event : kvEvent;
  const events = options.hooks !== undefined ? `events checked with the schema of ${options.hooks}` : 'events checked as the built-in key-value events (Set, SetMany)';
  const tls =
    options.cert !== undefined || options.key !== undefined
      ? await (async () => {
          if (options.cert === undefined || options.key === undefined) throw usageError('--cert and --key go together');
          return { cert: await readPemFile(options.cert, '--cert'), key: await readPemFile(options.key, '--key') };
        })()
      : undefined;

  const notes: string[] = [];
  await probeUpstream(options.upstream, ca, password, notes);

  const logger = createLogger({ level: options.logLevel, format: options.logFormat, out: io.err });
  let gateway: Gateway;
  try {
    gateway = await startGateway({
      upstream: {
        address: options.upstream,
        tls: { ca },
        password,
        key: kinds.string,
        value: kinds.string,
        maxConcurrent: options.maxUpstreamConnections,
      },
      event,
      authorize: tokenAuthorize(tokens),
      poll: { intervalMs: options.pollIntervalMs, maxMaps: options.maxPolledMaps },
      host: options.host,
      port: options.port,
      ...(tls !== undefined ? { tls } : {}),
      limits: options.limits,
      logger,
    });
  } catch (err) {
    throw listenError(err, options);
  }
  io.out.write(
    [
      `syncstate gateway: upstream ${options.upstream}; ${tokens.length} token${tokens.length === 1 ? '' : 's'} from ${displayPath(options.tokens)}; ${events}`,
      ...notes,
      `listening on ${gateway.url}`,
      '',
    ].join('\n'),
  );
  return gateway;
}

async function readTokens(path: string): Promise<ReturnType<typeof parseTokens>> {
  let text: string;
  try {
    text = await readFile(path, 'utf8');
  } catch (err) {
    throw usageError(`cannot read --tokens ${displayPath(path)} (${(err as NodeJS.ErrnoException).code ?? (err as Error).message})`, { cause: err });
  }
  let tokens: ReturnType<typeof parseTokens>;
  try {
    tokens = parseTokens(text);
  } catch (err) {
    if (err instanceof TokenFileError) throw usageError(`--tokens ${displayPath(path)}, ${err.message}`, { cause: err });
    throw err;
  }
  if (tokens.length === 0) throw usageError(`--tokens ${displayPath(path)} lists no token: nobody could connect`);
  return tokens;
}

/**
 * One GetUpdateId upstream before listening: a wrong password fails at once
 * (exit 3); an upstream that is down is only noted, since it may come later.
 */
async function probeUpstream(address: string, ca: string, password: string, notes: string[]): Promise<void> {
  let remote: TcpStateRemote<string, string>;
  try {
    remote = new TcpStateRemote({ address, tls: { ca }, password, key: kinds.string, value: kinds.string, connectTimeoutMs: 5_000 });
  } catch (err) {
    throw usageError(`--upstream: ${(err as Error).message}`, { cause: err });
  }
  try {
    await remote.getUpdateId(new Uint8Array(HASH_LENGTH)).catch((err: unknown) => {
      if ((err as { code?: unknown }).code === 'hash-not-found') return; // the probe's all-zero hash: reached, password taken
      throw err;
    });
    notes.push(`upstream ${address}: up, password accepted`);
  } catch (err) {
    if (err instanceof AuthenticationError) {
      throw new CliError(ExitCode.auth, `upstream ${address} rejected the password: give the upstream server's password (SYNCSTATE_PASSWORD or --password-file)`);
    }
    notes.push(`upstream ${address}: not reachable now (${describeError(err).message}); requests fail with "unavailable" until it is`);
  }
}

function listenError(err: unknown, options: GatewayCommandOptions): unknown {
  const code = (err as NodeJS.ErrnoException).code;
  const where = `${options.host}:${options.port}`;
  if (code === 'EADDRINUSE') return new CliError(ExitCode.runtime, `${where} is already in use: choose another port with --port`, { cause: err });
  if (code === 'EACCES') return new CliError(ExitCode.runtime, `not allowed to listen on ${where}: use a port above 1023`, { cause: err });
  if (err instanceof TypeError || err instanceof RangeError) return usageError(err.message.replace(/^limits\./, '--'), { cause: err });
  return err;
}
