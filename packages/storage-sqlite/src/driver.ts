// The choice of SQLite binding (connection.ts has what the storage asks of one): node:sqlite (built into Node 22.16+ and 24; nothing to compile)
// or better-sqlite3 (a native addon; the only one on Node 20). Both run the
// same SQL on the same file format with the same pragmas (open.ts), so
// durability is the binding's least concern: WAL, synchronous=FULL and the
// fsync at COMMIT are SQLite's, whichever binding calls it.
//
// Nothing is loaded when this module is imported: a binding is loaded by the
// first open that needs it (node:sqlite prints an ExperimentalWarning on
// some Node versions, below; better-sqlite3 may be absent).

import { createRequire } from 'node:module';
import type { Driver, SqliteDriverName } from './connection.js';
import { StorageError } from './errors.js';
import { betterSqlite3Driver } from './driver-better-sqlite3.js';
import { type NodeSqliteModule, nodeSqliteDriver } from './driver-node-sqlite.js';

/** 'auto': node:sqlite where Node has it without a warning, else better-sqlite3 when it loads, else node:sqlite. */
export type SqliteDriverChoice = 'auto' | SqliteDriverName;

/**
 * Whether this Node loads node:sqlite without printing an ExperimentalWarning:
 * it is a release candidate (stability 1.2) from Node 24.15; Node 22 and 23,
 * 24.0 to 24.14 and 25 print the warning (we do not silence it: that would
 * change the process's warnings for everyone).
 */
export function nodeSqliteIsQuiet(version = process.versions.node): boolean {
  const [major = 0, minor = 0] = version.split('.').map(Number);
  return major >= 26 || (major === 24 && minor >= 15);
}

const loaded = new Map<SqliteDriverName, Driver | Error>();

/** Loads one binding (once); an Error says why it cannot be used here. */
function load(name: SqliteDriverName): Driver | Error {
  let driver = loaded.get(name);
  if (driver === undefined) {
    driver = name === 'node:sqlite' ? loadNodeSqlite() : loadBetterSqlite3();
    loaded.set(name, driver);
  }
  return driver;
}

function loadNodeSqlite(): Driver | Error {
  const sqlite = process.getBuiltinModule('node:sqlite') as NodeSqliteModule | undefined;
  if (sqlite === undefined) return new Error(`Node ${process.version} has no node:sqlite (it needs Node 22.16 or later)`);
  // backup(), isTransaction and setReturnArrays are there from Node 22.16 (and 24.0).
  const probe = new sqlite.DatabaseSync(':memory:');
  const complete = typeof sqlite.backup === 'function' && typeof probe.isTransaction === 'boolean' && 'setReturnArrays' in sqlite.StatementSync.prototype;
  probe.close();
  if (!complete) {
    return new Error(`node:sqlite of Node ${process.version} lacks backup() (it needs Node 22.16 or later)`);
  }
  return nodeSqliteDriver(sqlite);
}

function loadBetterSqlite3(): Driver | Error {
  try {
    const require = createRequire(import.meta.url);
    const Database = require('better-sqlite3') as typeof import('better-sqlite3');
    // The addon loads at the first open: try it now, so that a missing build is known before choosing.
    new Database(':memory:').close();
    return betterSqlite3Driver(Database);
  } catch (err) {
    return err as Error;
  }
}

/** The binding for `choice`; throws StorageError 'no-driver' saying what to install when none loads. */
export function chooseDriver(choice: SqliteDriverChoice = 'auto'): Driver {
  if (choice !== 'auto') {
    const driver = load(choice);
    if (driver instanceof Error) throw unavailable([[choice, driver]]);
    return driver;
  }
  // Where node:sqlite would print a warning, it is tried only when better-sqlite3 does not load.
  const order: SqliteDriverName[] = nodeSqliteIsQuiet() ? ['node:sqlite', 'better-sqlite3'] : ['better-sqlite3', 'node:sqlite'];
  const failures: Array<[SqliteDriverName, Error]> = [];
  for (const name of order) {
    const driver = load(name);
    if (!(driver instanceof Error)) return driver;
    failures.push([name, driver]);
  }
  throw unavailable(failures);
}

/** The bindings that load in this process (tests run each of them). */
export function availableDrivers(): SqliteDriverName[] {
  return (['node:sqlite', 'better-sqlite3'] as const).filter((name) => !(load(name) instanceof Error));
}

function unavailable(failures: Array<[SqliteDriverName, Error]>): StorageError {
  const why = failures.map(([name, err]) => `${name}: ${err.message.split('\n')[0]}`).join('; ');
  return new StorageError(
    'no-driver',
    `no SQLite binding loads (${why}). Use Node 22.16 or later (node:sqlite), or install better-sqlite3 ` +
      'with its native build allowed (pnpm 10 blocks it until `pnpm approve-builds`)',
  );
}
