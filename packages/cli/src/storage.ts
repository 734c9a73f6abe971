/**
 * Where `serve` keeps its maps: durably in the data folder's SQLite file
 * (maps, update ids and history survive restarts and crashes), or in memory
 * with --memory (lost on exit, like the Rust server).
 */
import { kinds } from '@syncstate/core';
import type { MapStorage } from '@syncstate/storage';
import { openSqliteStorage, StorageError } from '@syncstate/storage-sqlite';
import type { DataPaths } from './data-dir.js';
import { displayPath } from './display.js';
import { CliError, ExitCode } from './exit-codes.js';

export interface OpenedStorage {
  /** undefined: in the server's memory only. */
  storage: MapStorage<string, string> | undefined;
  /** For the start-up banner, e.g. "in memory (lost when the server stops)". */
  description: string;
}

export function openStorage(options: { memory: boolean; paths: DataPaths }): Promise<OpenedStorage> {
  if (options.memory) {
    return Promise.resolve({ storage: undefined, description: 'in memory (lost when the server stops)' });
  }
  const path = options.paths.database;
  try {
    const storage = openSqliteStorage({ path, key: kinds.string, value: kinds.string });
    return Promise.resolve({ storage, description: `stored in ${displayPath(path)}` });
  } catch (err) {
    if (!(err instanceof StorageError)) throw err;
    return Promise.reject(new CliError(ExitCode.runtime, `${storageHint(err, displayPath(path))}`, { cause: err }));
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
