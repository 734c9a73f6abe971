/**
 * The command line: commands, flags, environment variables and help text.
 * Actions only translate flags into the options of the functions in
 * serve.ts and commands/, which do the work.
 */
import { Command, Option } from 'commander';
import { MESSAGE_HEADER_SIZE } from '@syncstate-ts/codec';
import { defaultLimits, type ServerLimits } from '@syncstate-ts/server';
import { addBackupCommands } from './commands/backup.js';
import { getCommand } from './commands/get.js';
import { initCommand } from './commands/init.js';
import type { CommandIo } from './commands/io.js';
import { setCommand } from './commands/set.js';
import { statusCommand } from './commands/status.js';
import { watchCommand } from './commands/watch.js';
import { DEFAULT_ADDRESS, DEFAULT_PORT, type ConnectionFlags } from './connection.js';
import { DEFAULT_DATA_DIR } from './data-dir.js';
import { LOG_LEVELS, type LogFormat, type LogLevel } from './logger.js';
import { metricsNote, startMetricsEndpoint, workersSource } from './metrics-endpoint.js';
import { parseCountOrAll, parseDuration, parseInteger, parsePositiveDuration, parseSize } from './parse-args.js';
import { formatAddress } from './display.js';
import { startGatewayCommand } from './gateway.js';
import { usageError } from './exit-codes.js';
import { startServe, TRANSPORTS, type TransportChoice } from './serve.js';
import { startWorkers, workerNumber, type Workers } from './workers.js';
import { VERSION } from './version.js';

const EXIT_CODES = `Exit codes:
  0  success
  1  runtime error (the server refused or failed, a change was not applied)
  2  usage error (bad flag or argument, unreadable file, invalid JSON map)
  3  the server rejected the password
  4  not found (no map with that hash on the server, no such key)
  5  cannot reach the server (refused, TLS/certificate error, timeout)`;

const ENVIRONMENT = `Environment:
  SYNCSTATE_DATA      data folder (default ${DEFAULT_DATA_DIR})
  SYNCSTATE_PASSWORD  the server's password (overrides the data folder's)
  SYNCSTATE_ADDRESS   server address for client commands (default ${DEFAULT_ADDRESS})
  SYNCSTATE_CA        server certificate for client commands (default <data>/cert.pem)
  SYNCSTATE_PORT      port for serve (default ${DEFAULT_PORT})
  SYNCSTATE_STORAGE   PostgreSQL connection string for serve (--storage)
  SYNCSTATE_WORKERS   processes for serve (--workers; default 1)
  SYNCSTATE_METRICS_PORT  HTTP port for serve's /metrics and /healthz (--metrics-port; none by default)
  SYNCSTATE_WS_PORT   WebSocket port for serve (--ws-port; none by default)
  SYNCSTATE_TOKENS    WebSocket tokens file for serve (--tokens)`;

const EXAMPLES = `Getting started (two terminals, same folder):
  $ syncstate serve                      # creates .syncstate/ with a certificate and a password
  $ echo '{"color":"red","size":"10"}' > map.json
  $ syncstate init map.json              # prints the map's hash
  $ syncstate watch map.json             # a map is named by its hash or its JSON file
  $ syncstate set map.json color=blue size=12
  $ syncstate get map.json color`;

const HOOKS_HELP = `Hooks module (--hooks): an ES module whose default export is the definition,
or a function receiving { t, codec, core, kvEvent, kvHook } and returning it:
  export default ({ t }) => ({
    event: t.enumOf({ Add: t.tuple(t.string, t.i64) }),      // schema of the events clients send
    hooks: [(map, event, { hashHex }) => { /* map.set(key, value) */ }],
    initHooks: [(map) => { /* throw to refuse a new map */ }],
  });
Maps are String -> String. Without --hooks, events are the built-in
  enum KvEvent { Set(String, String), SetMany(Vec<(String, String)>) }
applied as map.set (Set) and one batch (SetMany).`;

export function buildProgram(io: CommandIo): Command {
  const program = new Command('syncstate')
    .description('Serve syncstate 0.3.0 maps to Rust and TypeScript clients, and create, read, change and watch them.')
    .version(VERSION, '-V, --version')
    .helpCommand(true)
    .configureHelp({ showGlobalOptions: false })
    .addHelpText('after', `\n${EXAMPLES}\n\n${ENVIRONMENT}\n\n${EXIT_CODES}\n`)
    .showHelpAfterError('(run with --help for usage)')
    // Set before the commands are added, so that they inherit it.
    .exitOverride()
    .configureOutput({ writeOut: (s) => io.out.write(s), writeErr: (s) => io.err.write(s) });

  program
    .command('serve')
    .summary('run the TLS server (certificate, password and storage made on first run)')
    .description(
      'Run the syncstate TLS server. On first run it creates the data folder with a self-signed ' +
        'certificate (localhost, 127.0.0.1) and a password, printed once. Prints ' +
        '"listening on HOST:PORT" when ready; Ctrl-C stops it after finishing work in progress.',
    )
    .addOption(dataOption())
    .addOption(new Option('-H, --host <address>', 'address to listen on').default('127.0.0.1'))
    .addOption(
      new Option('-p, --port <port>', 'port to listen on; 0 picks a free one').env('SYNCSTATE_PORT').default(DEFAULT_PORT).argParser(parseInteger(0, 65_535)),
    )
    .addOption(new Option('--cert <file>', 'TLS certificate (PEM) instead of the generated one; needs --key'))
    .addOption(new Option('--key <file>', 'its private key (PEM)'))
    .addOption(new Option('--password-file <file>', 'read the password from this file (SYNCSTATE_PASSWORD wins)'))
    .addOption(
      new Option('--ws-port <port>', 'also accept WebSocket connections (browsers, subprotocol syncstate.v1) on this port: wss:// with the same certificate')
        .env('SYNCSTATE_WS_PORT')
        .argParser(parseInteger(0, 65_535))
        .helpGroup('WebSocket:'),
    )
    .addOption(new Option('--ws-plain', 'serve ws:// instead of wss:// (only on a loopback --host)').helpGroup('WebSocket:'))
    .addOption(
      new Option('--tokens <file>', 'WebSocket tokens, one "TOKEN read|write [MAP HASH...] [events=NAME,...]" per line; the password is also a full-access token')
        .env('SYNCSTATE_TOKENS')
        .helpGroup('WebSocket:'),
    )
    .addOption(new Option('--hooks <module>', 'event schema and hooks from a JavaScript module (see below)'))
    .addOption(new Option('--memory', 'keep maps in memory only (lost when the server stops)').conflicts('storage'))
    .addOption(
      new Option('--storage <url>', 'keep maps in PostgreSQL (postgres://user:password@host/db) instead of the data folder; servers sharing it serve the same maps')
        .env('SYNCSTATE_STORAGE'),
    )
    .addOption(
      new Option('--workers <n>', 'processes serving the port, to use more cores for the protocol work; needs --storage')
        .env('SYNCSTATE_WORKERS')
        .default(1)
        .argParser(parseInteger(1, 256)),
    )
    .addOption(
      new Option('--transport <name>', 'who does TLS: rustls (native, on all cores), node (node:tls), or auto: rustls when its addon loads')
        .choices(TRANSPORTS)
        .default('auto'),
    )
    .addOption(
      new Option('--metrics-port <port>', 'serve GET /metrics (Prometheus) and /healthz over HTTP on this port, same --host; 0 picks a free one')
        .env('SYNCSTATE_METRICS_PORT')
        .argParser(parseInteger(0, 65_535)),
    )
    .addOption(new Option('--max-frame-size <size>', 'largest request accepted, e.g. 64KiB').default(defaultLimits.maxFrameSize, sizeText(defaultLimits.maxFrameSize)).argParser(parseSize).helpGroup('Limits:'))
    .addOption(new Option('--max-connections <n>', 'open connections; more are refused').default(defaultLimits.maxConnections).argParser(parseInteger(1)).helpGroup('Limits:'))
    .addOption(new Option('--max-history <n>', 'changes kept per map ("all", or a count: older clients get the full map)').default(defaultLimits.maxHistory, Number.isFinite(defaultLimits.maxHistory) ? String(defaultLimits.maxHistory) : 'all').argParser(parseCountOrAll).helpGroup('Limits:'))
    .addOption(new Option('--handshake-timeout <duration>', 'TCP accept to finished TLS handshake').default(defaultLimits.handshakeTimeoutMs, secondsText(defaultLimits.handshakeTimeoutMs)).argParser(parsePositiveDuration).helpGroup('Limits:'))
    .addOption(new Option('--request-timeout <duration>', 'handshake to complete request').default(defaultLimits.requestTimeoutMs, secondsText(defaultLimits.requestTimeoutMs)).argParser(parsePositiveDuration).helpGroup('Limits:'))
    .addOption(new Option('--idle-timeout <duration>', 'longest silence inside a request').default(defaultLimits.idleTimeoutMs, secondsText(defaultLimits.idleTimeoutMs)).argParser(parsePositiveDuration).helpGroup('Limits:'))
    .addOption(new Option('--hook-timeout <duration>', 'a hook running longer is logged as failed').default(defaultLimits.hookTimeoutMs, secondsText(defaultLimits.hookTimeoutMs)).argParser(parsePositiveDuration).helpGroup('Limits:'))
    .addOption(logLevelOption())
    .addOption(logFormatOption())
    .addHelpText('after', `\n${HOOKS_HELP}\n`)
    .action(async (opts: ServeFlags) => {
      if (opts.workers > 1 && opts.wsPort !== undefined) throw usageError('--ws-port does not work with --workers yet: run the WebSocket port on a server of its own sharing the --storage');
      if (opts.workers > 1 && workerNumber() === undefined) return serveWithWorkers(opts, io);
      const limits: Partial<ServerLimits> = {
        maxFrameSize: opts.maxFrameSize,
        maxConnections: opts.maxConnections,
        maxHistory: opts.maxHistory,
        handshakeTimeoutMs: opts.handshakeTimeout,
        requestTimeoutMs: opts.requestTimeout,
        idleTimeoutMs: opts.idleTimeout,
        hookTimeoutMs: opts.hookTimeout,
      };
      const server = await startServe(
        {
          data: opts.data,
          host: opts.host,
          port: opts.port,
          memory: opts.memory === true,
          ...(opts.storage !== undefined ? { storage: opts.storage } : {}),
          transport: opts.transport,
          limits,
          logLevel: opts.logLevel,
          logFormat: opts.logFormat,
          ...(opts.cert !== undefined ? { cert: opts.cert } : {}),
          ...(opts.key !== undefined ? { key: opts.key } : {}),
          ...(opts.hooks !== undefined ? { hooks: opts.hooks } : {}),
          ...(opts.passwordFile !== undefined ? { passwordFile: opts.passwordFile } : {}),
          ...(opts.wsPort !== undefined ? { wsPort: opts.wsPort } : {}),
          ...(opts.wsPlain === true ? { wsPlain: true } : {}),
          ...(opts.tokens !== undefined ? { tokens: opts.tokens } : {}),
          ...(opts.metricsPort !== undefined ? { metricsPort: opts.metricsPort } : {}),
        },
        io,
      );
      await untilAborted(io.signal);
      io.err.write('stopping: finishing requests and events in progress\n');
      await server.close();
      io.err.write('stopped\n');
    });

  program
    .command('init')
    .argument('<file>', 'JSON object of string pairs, e.g. {"color": "red"}')
    .summary('create a map on the server from a JSON file; prints its hash')
    .description('Create a map from a JSON file of string pairs and print its hash (64 hex digits). If the server already has it, just print the hash. Large files show progress on stderr.')
    .addOption(new Option('--progress', 'always show progress (default: for files from 1 MiB)'))
    .action((file: string, opts: ConnectionFlags & { progress?: boolean }) => initCommand(file, opts, io));

  program
    .command('get')
    .argument('<map>', "the map's hash, or the JSON file it was created from")
    .argument('[key]', 'print only this value')
    .summary('print a value, or the whole map as JSON')
    .description('Print the value of <key>, or the whole map as a JSON object ordered by key.')
    .action((map: string, key: string | undefined, opts: ConnectionFlags) => getCommand(map, key, opts, io));

  program
    .command('set')
    .argument('<map>', "the map's hash, or the JSON file it was created from")
    .argument('<key=value...>', 'one or more assignments; the key ends at the first "="')
    .summary('change values (built-in Set / SetMany event)')
    .description(
      'Send the built-in event: Set for one pair, SetMany (one update) for several. Waits until the server has applied it, so a get right after sees the change. Keys must exist in the map. For servers with the built-in events only: bincode carries no type names, so a server with other events (serve --hooks) could read the bytes as one of its own.',
    )
    .addOption(new Option('--wait <duration>', 'how long to wait for the change; 0: send and return').default(5000, '5s').argParser(parseDuration))
    .action((map: string, assignments: string[], opts: ConnectionFlags & { wait: number }) => setCommand(map, assignments, opts, io));

  program
    .command('watch')
    .argument('<map>', "the map's hash, or the JSON file it was created from")
    .argument('[key...]', 'only these keys')
    .summary('print changes as they arrive, until Ctrl-C')
    .description('Print each change of the map as it arrives: "update N: key = "value" (was "old")". Reconnects by itself when the server goes away for a while.')
    .addOption(new Option('--interval <duration>', 'time between polls').default(500, '500ms').argParser(parsePositiveDuration))
    .addOption(new Option('--json', 'one JSON object per change: {"updateId","key","value","previous"}'))
    .addOption(new Option('--count <n>', 'exit after printing n changes').argParser(parseInteger(1)))
    .action((map: string, keys: string[], opts: ConnectionFlags & { interval: number; json?: boolean; count?: number }) =>
      watchCommand(map, keys, { ...opts, json: opts.json === true, intervalMs: opts.interval }, io),
    );

  program
    .command('status')
    .argument('[map...]', 'maps to report on (hash or JSON file)')
    .summary('check the server (reachable, password) and maps (update id)')
    .description("Check that the server answers and takes the password, and print each map's update id.")
    .action((maps: string[], opts: ConnectionFlags) => statusCommand(maps, opts, io));

  // Connection flags last, so that each command's own options come first in its help.
  for (const command of program.commands) if (command.name() !== 'serve') addConnectionOptions(command);
  addGatewayCommand(program, io);
  addBackupCommands(program, io);
  return program;
}

/** `syncstate gateway` (gateway.ts): WebSocket for browsers in front of a TLS-only server. Its connection flags name the upstream. */
function addGatewayCommand(program: Command, io: CommandIo): void {
  program
    .command('gateway')
    .summary('WebSocket endpoint for browsers in front of a Rust syncstate server (tokens, pushes)')
    .description(
      'Accept WebSocket connections (subprotocol syncstate.v1) from browsers holding a token from --tokens, and relay each ' +
        'request to the upstream server as one TLS request carrying the upstream password, which browsers never see. ' +
        'Subscribed maps are polled upstream once per map, and their new update ids pushed. Prints "listening on ws://HOST:PORT/" when ready.',
    )
    .requiredOption('-u, --upstream <host:port>', 'the server to relay to (a Rust TcpStateServer, or syncstate serve)')
    .requiredOption('--tokens <file>', 'who may connect: one "TOKEN read|write [MAP HASH...] [events=NAME,...]" per line')
    .addOption(new Option('-H, --host <address>', 'address to listen on (plain ws:// on loopback only; elsewhere give --cert and --key)').default('127.0.0.1'))
    .addOption(new Option('-p, --port <port>', 'port to listen on; 0 picks a free one').default(7879).argParser(parseInteger(0, 65_535)))
    .addOption(new Option('--cert <file>', 'serve wss:// with this certificate (PEM); needs --key'))
    .addOption(new Option('--key <file>', 'its private key (PEM)'))
    .addOption(new Option('--hooks <module>', "the upstream's event schema, from a hooks module as for serve (its hooks are not run)"))
    .addOption(new Option('--poll-interval <duration>', 'how often a subscribed map is polled upstream').default(500, '500ms').argParser(parsePositiveDuration))
    .addOption(new Option('--max-upstream-connections <n>', 'upstream TLS connections at once; more requests wait').default(32).argParser(parseInteger(1)).helpGroup('Limits:'))
    .addOption(new Option('--max-polled-maps <n>', 'subscribed maps polled upstream at once; Subscribes for more are refused').default(1000).argParser(parseInteger(1)).helpGroup('Limits:'))
    .addOption(new Option('--max-frame-size <size>', 'largest request accepted, e.g. 64KiB (its WebSocket message is 5 bytes more)').default(defaultLimits.maxFrameSize, sizeText(defaultLimits.maxFrameSize)).argParser(parseSize).helpGroup('Limits:'))
    .addOption(new Option('--max-connections <n>', 'open WebSocket connections; more are refused').default(defaultLimits.maxConnections).argParser(parseInteger(1)).helpGroup('Limits:'))
    .addOption(new Option('--ca <file>', "the upstream's certificate to trust (default: <data>/cert.pem)").env('SYNCSTATE_CA').helpGroup('Upstream:'))
    .addOption(new Option('--password-file <file>', "the upstream's password (default: <data>/password; SYNCSTATE_PASSWORD wins)").helpGroup('Upstream:'))
    .addOption(dataOption().helpGroup('Upstream:'))
    .addOption(logLevelOption())
    .addOption(logFormatOption())
    .action(async (opts: GatewayFlags) => {
      const gateway = await startGatewayCommand(
        {
          upstream: opts.upstream,
          tokens: opts.tokens,
          data: opts.data,
          ...(opts.ca !== undefined ? { ca: opts.ca } : {}),
          ...(opts.passwordFile !== undefined ? { passwordFile: opts.passwordFile } : {}),
          host: opts.host,
          port: opts.port,
          ...(opts.cert !== undefined ? { cert: opts.cert } : {}),
          ...(opts.key !== undefined ? { key: opts.key } : {}),
          ...(opts.hooks !== undefined ? { hooks: opts.hooks } : {}),
          pollIntervalMs: opts.pollInterval,
          maxPolledMaps: opts.maxPolledMaps,
          maxUpstreamConnections: opts.maxUpstreamConnections,
          limits: { maxMessageSize: opts.maxFrameSize + MESSAGE_HEADER_SIZE, maxConnections: opts.maxConnections },
          logLevel: opts.logLevel,
          logFormat: opts.logFormat,
        },
        io,
      );
      await untilAborted(io.signal);
      io.err.write('stopping: answering requests in progress\n');
      await gateway.close();
      io.err.write('stopped\n');
    });
}

interface GatewayFlags {
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
  pollInterval: number;
  maxPolledMaps: number;
  maxUpstreamConnections: number;
  maxFrameSize: number;
  maxConnections: number;
  logLevel: LogLevel;
  logFormat: LogFormat;
}

/** The primary of `serve --workers N`: starts the workers, prints where they listen, stops them on Ctrl-C. */
async function serveWithWorkers(opts: ServeFlags, io: CommandIo): Promise<void> {
  if (opts.storage === undefined) {
    throw usageError('--workers needs --storage postgres://...: every worker serves every map, so they must share one storage (SQLite and --memory belong to one process)');
  }
  // The workers' counters, summed, on one endpoint (metrics-endpoint.ts); started first, so a busy port stops nothing.
  const metrics =
    opts.metricsPort === undefined ? undefined : await startMetricsEndpoint({ host: opts.host, port: opts.metricsPort, source: workersSource(opts.workers) });
  let workers: Workers;
  try {
    workers = await startWorkers(opts.workers, (line) => io.err.write(`${line}\n`));
  } catch (err) {
    await metrics?.close();
    throw err;
  }
  if (metrics !== undefined) io.out.write(`${metricsNote(metrics)}\n`);
  io.out.write(`listening on ${formatAddress(workers.host, workers.port)}\n`);
  await untilAborted(io.signal);
  io.err.write('stopping the workers: finishing requests and events in progress\n');
  await metrics?.close();
  await workers.stop();
  io.err.write('stopped\n');
}

/** Resolves when Ctrl-C (or SIGTERM) asks the command to stop; never without a signal. */
function untilAborted(signal: AbortSignal | undefined): Promise<void> {
  return new Promise<void>((resolve) => {
    if (signal === undefined) return;
    if (signal.aborted) resolve();
    signal.addEventListener('abort', () => resolve(), { once: true });
  });
}

interface ServeFlags {
  data: string;
  host: string;
  port: number;
  cert?: string;
  key?: string;
  passwordFile?: string;
  wsPort?: number;
  wsPlain?: boolean;
  tokens?: string;
  metricsPort?: number;
  hooks?: string;
  memory?: boolean;
  storage?: string;
  workers: number;
  transport: TransportChoice;
  maxFrameSize: number;
  maxConnections: number;
  maxHistory: number;
  handshakeTimeout: number;
  requestTimeout: number;
  idleTimeout: number;
  hookTimeout: number;
  logLevel: LogLevel;
  logFormat: LogFormat;
}

function dataOption(): Option {
  return new Option('-d, --data <folder>', 'data folder (certificate, key, password, maps)').env('SYNCSTATE_DATA').default(DEFAULT_DATA_DIR);
}

/** The connection flags every client command takes. */
function addConnectionOptions(command: Command): void {
  command
    .addOption(new Option('-a, --address <host:port>', 'server address').env('SYNCSTATE_ADDRESS').default(DEFAULT_ADDRESS).helpGroup('Connection:'))
    .addOption(new Option('--ca <file>', "server's certificate to trust (default: <data>/cert.pem)").env('SYNCSTATE_CA').helpGroup('Connection:'))
    .addOption(new Option('--password-file <file>', 'password file (default: <data>/password; SYNCSTATE_PASSWORD wins)').helpGroup('Connection:'))
    .addOption(dataOption().helpGroup('Connection:'));
}

// Help texts for the server's defaults (defaultLimits of @syncstate-ts/server), in the units the flags take.
function secondsText(ms: number): string {
  return ms % 1000 === 0 ? `${ms / 1000}s` : `${ms}ms`;
}

function sizeText(bytes: number): string {
  return bytes % (1 << 20) === 0 ? `${bytes / (1 << 20)}MiB` : bytes % 1024 === 0 ? `${bytes / 1024}KiB` : String(bytes);
}

/** --log-level and --log-format, the same for every command that runs a server. */
function logLevelOption(): Option {
  return new Option('--log-level <level>', 'log detail, on stderr').choices(LOG_LEVELS).default('info').helpGroup('Logging:');
}

function logFormatOption(): Option {
  return new Option('--log-format <format>', 'log lines for people or for log collectors')
    .choices(['pretty', 'json'])
    .default(process.stderr.isTTY ? 'pretty' : 'json', 'pretty on a terminal, else json')
    .helpGroup('Logging:');
}
