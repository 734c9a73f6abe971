// The SQLite bindings the tests run on: every one this Node has. On Node 20
// that is better-sqlite3 alone; from Node 22.16 node:sqlite too, and CI's
// Node 24 run has both (it builds better-sqlite3 for that Node), so each
// suite that loops over `drivers` checks both bindings there.
import { availableDrivers, type SqliteDriverName } from '@syncstate-ts/storage-sqlite';
import type { Connection } from '../../src/connection.js';
import { chooseDriver } from '../../src/driver.js';

export const drivers: readonly SqliteDriverName[] = availableDrivers();

/** Whether this Node should have node:sqlite (22.16 and later): then a test fails if it does not load. */
export function expectsNodeSqlite(version = process.versions.node): boolean {
  const [major = 0, minor = 0] = version.split('.').map(Number);
  return major > 22 || (major === 22 && minor >= 16);
}

/** A plain connection through `driver`, for tests that look at a file below the storage. */
export function openRaw(driver: SqliteDriverName, path: string, options: { readOnly?: boolean } = {}): Connection {
  return chooseDriver(driver).open(path, { readOnly: options.readOnly ?? false, timeoutMs: 1000 });
}
