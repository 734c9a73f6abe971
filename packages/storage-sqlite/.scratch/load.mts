import { StateMap, kinds } from '@syncstate/core';
import { SqliteStorage } from '@syncstate/storage-sqlite';
import { rmSync, mkdirSync } from 'node:fs';
const dir = '/work/main/packages/storage-sqlite/.scratch/load'; rmSync(dir, { recursive: true, force: true }); mkdirSync(dir);
const path = `${dir}/m.db`;
const map = new StateMap({ key: kinds.string, value: kinds.string });
for (let i = 0; i < 10000; i++) map.push(`big-${i}`, `v${i}`);
map.setMaster(true); await map.freeze();
for (let j = 0; j < 10000; j++) map.set(`big-${(j * 7919) % 10000}`, `u${j}`);
const hash = map.hash()!; const hex = Buffer.from(hash).toString('hex');
let t = performance.now();
const w = new SqliteStorage({ path, key: kinds.string, value: kinds.string }); await w.create(hash, hex, map); await w.close();
console.log('create ms', (performance.now() - t).toFixed(1));
for (const check of [true, false]) {
  t = performance.now();
  const s = new SqliteStorage({ path, key: kinds.string, value: kinds.string, check });
  const t1 = performance.now();
  await s.load(hash, hex);
  const t2 = performance.now();
  await s.close();
  console.log('check', check, 'open ms', (t1 - t).toFixed(1), 'load ms', (t2 - t1).toFixed(1));
}
