import { kinds } from '@syncstate/core';
import { SqliteStorage } from '@syncstate/storage-sqlite';
const path = '/work/main/packages/storage-sqlite/.scratch/load/m.db';
import { readFileSync } from 'node:fs';
for (let i = 0; i < 5; i++) {
const s = new SqliteStorage({ path, key: kinds.string, value: kinds.string, check: false });
const t1 = performance.now();
const hex = s.hashes()[0]!;
await s.load(Buffer.from(hex, 'hex'), hex);
console.log('load ms', (performance.now() - t1).toFixed(1));
await s.close();
}
