import { StateMap, kinds, encodeDiffEntries } from '@syncstate/core';
import { SqliteStorage } from '/work/main/packages/storage-sqlite/src/index.ts';
import { rmSync, mkdirSync } from 'node:fs';
rmSync('/tmp/sst/d', { recursive: true, force: true }); mkdirSync('/tmp/sst/d');
const path = '/tmp/sst/d/maps.db';
let s = new SqliteStorage({ path, key: kinds.string, value: kinds.string, synchronous: (process.env.SYNC ?? 'full') as any });
const m = new StateMap({ key: kinds.string, value: kinds.string });
for (let i = 0; i < 100; i++) m.push(`k${i}`, `v${i}`);
m.setMaster(true); await m.freeze();
const hash = m.hash()!; const hex = Buffer.from(hash).toString('hex');
console.log(await s.load(hash, hex));
await s.create(hash, hex, m);
const N = 3000; let t = performance.now();
for (let i = 0; i < N; i++) { const from = m.getUpdateId(); m.set(`k${i % 100}`, `x${i}`); await s.append(hash, hex, [m.getDiff(from, m.getUpdateId())]); }
let dt = performance.now() - t; console.log('durable single commits/s', (N / dt * 1000).toFixed(0));
await s.close();
s = new SqliteStorage({ path, key: kinds.string, value: kinds.string });
t = performance.now();
const r = (await s.load(hash, hex))!;
console.log('load ms', (performance.now() - t).toFixed(1), r.getUpdateId(), r.historySize, m.historySize);
let diffs = 0;
const id = m.getUpdateId();
for (let f = 0n; f <= id + 1n; f += 7n) for (const u of [0n, 1n, f, f + 1n, id, id + 1n]) {
  const a = m.getDiff(f, u), b = r.getDiff(f, u);
  const ea = Buffer.from(encodeDiffEntries(a, kinds.string, kinds.string)), eb = Buffer.from(encodeDiffEntries(b, kinds.string, kinds.string));
  if (!ea.equals(eb) || a.isFull !== b.isFull || a.fromUpdateId !== b.fromUpdateId || a.uptoUpdateId !== b.uptoUpdateId) diffs++;
}
console.log('mismatches', diffs);
await s.close();
