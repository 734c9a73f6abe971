/**
 * The control socket of `syncstate serve`: `<data>/control.sock`, a Unix
 * socket through which `syncstate backup` gets an online copy of maps.db.
 * The server holds maps.db locked (storage-sqlite's one-owner rule), so no
 * other process can read it while it serves: the copy is made by the server
 * itself, through its own connection, between its requests.
 *
 * One request per connection, a JSON line; the answer is JSON lines, the
 * last one with "ok". Only the server's user can connect: the socket is
 * mode 0600, in the data folder (0700 when serve made it). The socket exists
 * only while a server with the data folder's maps.db runs; one left by a
 * killed server is replaced by the next (which first took maps.db's lock,
 * so it is the only server there).
 *
 *   {"op":"ping"}                 → {"ok":true,"pid":…,"database":…}
 *   {"op":"backup","to":"/abs"}   → {"progress":{"copied":…,"total":…}}… {"ok":true,"path":…,"bytes":…,"maps":…}
 *   failures                      → {"ok":false,"code":…,"message":…}
 */
import { chmod, lstat, unlink } from 'node:fs/promises';
import { createConnection, createServer, type Server, type Socket } from 'node:net';
import { isAbsolute, join } from 'node:path';
import { createInterface } from 'node:readline';
import type { SyncStateServer } from '@syncstate-ts/server';
import { StorageError, type SqliteStorage } from '@syncstate-ts/storage-sqlite';
import type { DataPaths } from './data-dir.js';
import { displayPath } from './display.js';

export const CONTROL_SOCKET = 'control.sock';
/** sun_path holds 108 bytes with its terminating NUL. */
const MAX_SOCKET_PATH = 107;
const MAX_REQUEST = 64 * 1024;
/** Progress lines at most this often. */
const PROGRESS_MS = 200;

export function controlSocketPath(paths: DataPaths): string {
  return join(paths.dir, CONTROL_SOCKET);
}

type Request = { op: 'ping' } | { op: 'backup'; to: string };

export type Answer =
  | { ok: true; pid: number; database: string }
  | { ok: true; path: string; bytes: number; maps: number }
  | { ok: false; code: string; message: string };

/** Logger calls the endpoint makes (pino's shape). */
interface Log {
  info(obj: object, msg: string): void;
  warn(obj: object, msg: string): void;
}

/**
 * Listens on the data folder's control socket for `server`, whose storage
 * is `storage`, until the server closes. Returns a line for the start-up
 * report when backups cannot be served this way, else undefined.
 */
export async function serveControl(
  server: SyncStateServer<string, string, unknown>,
  storage: SqliteStorage<string, string>,
  paths: DataPaths,
  log: Log,
): Promise<string | undefined> {
  const path = controlSocketPath(paths);
  if (Buffer.byteLength(path) > MAX_SOCKET_PATH) {
    return `no online backups: the control socket's path ${path} is longer than ${MAX_SOCKET_PATH} bytes (use a shorter --data path)`;
  }
  const existing = await lstat(path).catch(() => undefined);
  if (existing !== undefined) {
    // This process holds maps.db, so a socket here is one a killed server left.
    if (!existing.isSocket()) return `no online backups: ${displayPath(path)} exists and is not a socket`;
    await unlink(path);
  }
  const backups = new Set<Promise<unknown>>();
  const listener = createServer((socket) => {
    const done = answer(socket, storage, log);
    backups.add(done);
    void done.finally(() => backups.delete(done));
  });
  await new Promise<void>((resolve, reject) => {
    listener.once('error', reject);
    listener.listen(path, () => {
      listener.off('error', reject);
      resolve();
    });
  });
  await chmod(path, 0o600);
  // Closed first when the server closes; then the server closes its storage, which stops a backup in progress (its client is told).
  let closing: Promise<void> | undefined;
  server.attach({ close: () => (closing ??= closeListener(listener, path)) });
  return undefined;
}

function closeListener(listener: Server, path: string): Promise<void> {
  // A server killed before this leaves the socket file for the next one to replace.
  return new Promise<void>((resolve) => listener.close(() => resolve())).then(() => unlink(path).catch(() => undefined));
}

async function answer(socket: Socket, storage: SqliteStorage<string, string>, log: Log): Promise<void> {
  const send = (line: object): void => {
    if (!socket.destroyed) socket.write(`${JSON.stringify(line)}\n`);
  };
  socket.on('error', () => {}); // a client gone: nothing to tell
  try {
    const request = await readRequest(socket);
    if (request.op === 'ping') {
      send({ ok: true, pid: process.pid, database: storage.path });
    } else {
      const started = performance.now();
      let last = 0;
      const result = await storage.backup(request.to, {
        onProgress: (copied, total) => {
          const now = performance.now();
          if (now - last < PROGRESS_MS) return;
          last = now;
          send({ progress: { copied, total } });
        },
      });
      log.info({ path: result.path, maps: result.maps, bytes: result.bytes, ms: Math.round(performance.now() - started) }, 'backup written');
      send({ ok: true, ...result });
    }
  } catch (err) {
    const code = err instanceof StorageError ? err.code : 'bad-request';
    const message = err instanceof Error ? err.message : String(err);
    if (code !== 'bad-request') log.warn({ err }, 'backup failed');
    send({ ok: false, code, message });
  } finally {
    socket.end();
  }
}

/** The request line: at most MAX_REQUEST bytes of JSON naming a known op. */
function readRequest(socket: Socket): Promise<Request> {
  return new Promise<Request>((resolve, reject) => {
    let buffered = 0;
    const lines = createInterface({ input: socket });
    lines.on('error', () => {}); // a client gone: answer() ends
    const fail = (message: string): void => {
      lines.close();
      reject(new Error(message));
    };
    socket.on('data', (chunk: Buffer) => {
      buffered += chunk.length;
      if (buffered > MAX_REQUEST) fail(`request longer than ${MAX_REQUEST} bytes`);
    });
    socket.once('end', () => fail('no request'));
    lines.once('line', (line) => {
      lines.close();
      let request: unknown;
      try {
        request = JSON.parse(line);
      } catch {
        return reject(new Error('the request is not JSON'));
      }
      const r = request as { op?: unknown; to?: unknown };
      if (r.op === 'ping') return resolve({ op: 'ping' });
      if (r.op === 'backup' && typeof r.to === 'string' && isAbsolute(r.to)) return resolve({ op: 'backup', to: r.to });
      reject(new Error('unknown request: expected {"op":"ping"} or {"op":"backup","to":"/absolute/path"}'));
    });
  });
}

/** What asking the data folder's server gave: its answer, or why no server answered. */
export type Asked = { answered: Answer } | { noServer: 'no-socket' | 'refused' };

/**
 * Sends one request to the server serving `paths` and returns its final
 * answer (progress lines go to `onProgress`). A missing socket, or one
 * nobody listens on (left by a killed server), is no server.
 */
export function askServer(paths: DataPaths, request: Request, onProgress?: (copied: number, total: number) => void): Promise<Asked> {
  const path = controlSocketPath(paths);
  return new Promise<Asked>((resolve, reject) => {
    const socket = createConnection(path);
    let settled = false;
    const settle = (fn: () => void): void => {
      if (settled) return;
      settled = true;
      socket.destroy();
      fn();
    };
    socket.once('error', (err: NodeJS.ErrnoException) => {
      if (err.code === 'ENOENT') settle(() => resolve({ noServer: 'no-socket' }));
      else if (err.code === 'ECONNREFUSED') settle(() => resolve({ noServer: 'refused' }));
      else settle(() => reject(err));
    });
    socket.once('connect', () => socket.write(`${JSON.stringify(request)}\n`));
    const lines = createInterface({ input: socket });
    lines.on('error', () => {}); // the socket's own 'error' handler answers
    lines.on('line', (line) => {
      let message: { progress?: { copied: number; total: number } } & Partial<Answer>;
      try {
        message = JSON.parse(line) as typeof message;
      } catch {
        return settle(() => reject(new Error(`the server's control socket sent ${JSON.stringify(line.slice(0, 80))}`)));
      }
      if (message.progress !== undefined) onProgress?.(message.progress.copied, message.progress.total);
      else settle(() => resolve({ answered: message as Answer }));
    });
    socket.once('close', () => settle(() => reject(new Error('the server closed its control socket without an answer (did it stop?)'))));
  });
}
