// A KvEvent server (the one the server package documents, mirroring the Rust
// fixture server) on a SqliteStorage, run as its own process so tests can
// SIGKILL it:
//   npx tsx --conditions=@syncstate-ts/source durable-server.ts \
//     --db <file> --port <n> --cert <pem> --key <pem> --password <pw> [--max-history <n>] [--driver <name>]
// Prints {"port": n, "pid": n} once listening. SIGTERM closes it gracefully.
import { readFileSync } from 'node:fs';
import { parseArgs } from 'node:util';
import { kinds } from '@syncstate-ts/core';
import { openSqliteStorage, type SqliteDriverName } from '@syncstate-ts/storage-sqlite';
import { startKvServer } from '@syncstate-ts/testkit/kv-server';

const { values } = parseArgs({
  options: {
    db: { type: 'string' },
    port: { type: 'string', default: '0' },
    cert: { type: 'string' },
    key: { type: 'string' },
    password: { type: 'string' },
    'max-history': { type: 'string' },
    driver: { type: 'string' },
  },
});
if (values.db === undefined || values.cert === undefined || values.key === undefined || values.password === undefined) {
  throw new Error('usage: durable-server.ts --db <file> --cert <pem> --key <pem> --password <pw> [--port n] [--max-history n]');
}

const driver = values.driver as SqliteDriverName | undefined;
const storage = openSqliteStorage({ path: values.db, key: kinds.string, value: kinds.string, ...(driver === undefined ? {} : { driver }) });
const server = await startKvServer({
  cert: readFileSync(values.cert, 'utf8'),
  key: readFileSync(values.key, 'utf8'),
  password: values.password,
  port: Number(values.port),
  storage,
  ...(values['max-history'] === undefined ? {} : { limits: { maxHistory: Number(values['max-history']) } }),
});
process.stdout.write(`${JSON.stringify({ port: server.address()!.port, pid: process.pid })}\n`);
process.once('SIGTERM', () => {
  void server.close().then(() => process.exit(0));
});
