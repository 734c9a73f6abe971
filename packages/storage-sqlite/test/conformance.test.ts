// SqliteStorage against the storage contract's conformance suite; reopening
// closes the file and opens it anew, as a restarted server does.
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { kinds } from '@syncstate-ts/core';
import { SqliteStorage } from '@syncstate-ts/storage-sqlite';
import { describeStoreConformance } from '@syncstate-ts/testkit/store-conformance';

let dir: string | undefined;
const openAt = (path: string): SqliteStorage<string, string> => new SqliteStorage({ path, key: kinds.string, value: kinds.string });

describeStoreConformance('SqliteStorage', {
  open: () => {
    dir = mkdtempSync(join(tmpdir(), 'syncstate-conformance-'));
    return Promise.resolve(openAt(join(dir, 'maps.db')));
  },
  reopen: async (store) => {
    await store.close();
    return openAt((store as SqliteStorage<string, string>).path);
  },
  cleanup: () => {
    if (dir !== undefined) rmSync(dir, { recursive: true, force: true });
    dir = undefined;
    return Promise.resolve();
  },
});
