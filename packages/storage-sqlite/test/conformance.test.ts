// SqliteStorage against the storage contract's conformance suite, on each
// SQLite binding this Node has; reopening closes the file and opens it anew,
// as a restarted server does.
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { kinds } from '@syncstate-ts/core';
import { SqliteStorage, type SqliteDriverName } from '@syncstate-ts/storage-sqlite';
import { describeStoreConformance } from '@syncstate-ts/testkit/store-conformance';
import { drivers } from './helpers/drivers.js';

for (const driver of drivers) {
  let dir: string | undefined;
  const openAt = (path: string, on: SqliteDriverName): SqliteStorage<string, string> =>
    new SqliteStorage({ path, key: kinds.string, value: kinds.string, driver: on });

  describeStoreConformance(`SqliteStorage (${driver})`, {
    open: () => {
      dir = mkdtempSync(join(tmpdir(), 'syncstate-conformance-'));
      return Promise.resolve(openAt(join(dir, 'maps.db'), driver));
    },
    reopen: async (store) => {
      await store.close();
      return openAt((store as SqliteStorage<string, string>).path, driver);
    },
    cleanup: () => {
      if (dir !== undefined) rmSync(dir, { recursive: true, force: true });
      dir = undefined;
      return Promise.resolve();
    },
  });
}
