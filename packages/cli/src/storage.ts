/**
 * Where `serve` keeps its maps: durably in the data folder's SQLite file
 * (maps, update ids and history survive restarts and crashes), in PostgreSQL
 * with --storage postgres://... (shared by every server using it), or in
 * memory with --memory (lost on exit, like the Rust server).
 */
import { kinds } from '@syncstate-ts/core';
import type { MapStorage } from '@syncstate-ts/storage';
import { openPostgresStorage } from '@syncstate-ts/storage-postgres';
import { openSqliteStorage, StorageError } from '@syncstate-ts/storage-sqlite';
import type { DataPaths } from './data-dir.js';
import { displayPath } from './display.js';
import { CliError, ExitCode, usageError } from './exit-codes.js';

export interface OpenedStorage {
  /** undefined: in the server's memory only. */
  storage: MapStorage<string, string> | undefined;
  /** For the start-up banner, e.g. "in memory (lost when the server stops)". */
  description: string;
}

export async function openStorage(options: { memory: boolean; paths: DataPaths; url?: string }): Promise<OpenedStorage> {
  if (options.url !== undefined) return openPostgres(options.url);
  if (options.memory) return { storage: undefined, description: 'in memory (lost when the server stops)' };
  const path = options.paths.database;
  try {
    const storage = openSqliteStorage({ path, key: kinds.string, value: kinds.string });
    return { storage, description: `stored in ${displayPath(path)}` };
  } catch (err) {
    if (!(err instanceof StorageError)) throw err;
    throw new CliError(ExitCode.runtime, `${storageHint(err, displayPath(path))}`, { cause: err });
  }
}

async function openPostgres(url: string): Promise<OpenedStorage> {
  let parsed: URL;
  try {
    parsed = new URL(url);
  } catch {
    throw usageError(`--storage takes a PostgreSQL connection string (postgres://user:password@host:5432/database), not ${JSON.stringify(url)}`);
  }
  if (parsed.protocol !== 'postgres:' && parsed.protocol !== 'postgresql:') {
    throw usageError(`--storage takes a postgres:// connection string; ${parsed.protocol}// is not supported`);
  }
  const shown = `PostgreSQL ${parsed.host}${parsed.pathname}`; // no password in the banner or logs
  try {
    const storage = await openPostgresStorage({ connectionString: url, key: kinds.string, value: kinds.string });
    return { storage, description: `stored in ${shown} (shared with every server using it)` };
  } catch (err) {
    if (!(err instanceof StorageError)) throw err;
    throw new CliError(ExitCode.runtime, `cannot use ${shown}: ${err.message}`, { cause: err });
  }
}

function storageHint(err: StorageError, shown: string): string {
  switch (err.code) {
    case 'locked':
      return `${shown} is in use by another process (another syncstate serve on this data folder?): stop it, or use another --data folder`;
    case 'kind-mismatch':
    case 'foreign-database':
    case 'not-sqlite':
      return `${err.message} (${shown} is not a syncstate CLI map store: use another --data folder)`;
    case 'corrupt':
      return (
        `cannot open the map store: ${err.message}. The server never overwrites it: keep a copy, then put a backup ` +
        `in its place, or move it away to start with no maps (clients then Init their maps again)`
      );
    default:
      return `cannot open the map store ${shown}: ${err.message}`;
  }
}
