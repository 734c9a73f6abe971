// PostgresStorage against the storage contract's conformance suite, on a
// real PostgreSQL started here; reopening closes the pool and opens the same
// database anew, as a restarted server does.
import { kinds } from '@syncstate-ts/core';
import { openPostgresStorage, type PostgresStorage } from '@syncstate-ts/storage-postgres';
import { describeStoreConformance } from '@syncstate-ts/testkit/store-conformance';
import { startPostgres, type TestPostgres } from '@syncstate-ts/testkit/postgres';
import { afterAll, beforeAll } from 'vitest';

let postgres: TestPostgres;
beforeAll(async () => {
  postgres = await startPostgres();
});
afterAll(() => postgres.stop());

const urls = new WeakMap<object, string>();
const openAt = async (url: string): Promise<PostgresStorage<string, string>> => {
  const storage = await openPostgresStorage({ connectionString: url, key: kinds.string, value: kinds.string });
  urls.set(storage, url);
  return storage;
};

describeStoreConformance('PostgresStorage', {
  open: async () => openAt(await postgres.database()),
  reopen: async (store) => {
    await store.close();
    return openAt(urls.get(store)!);
  },
  cleanup: () => Promise.resolve(),
});
