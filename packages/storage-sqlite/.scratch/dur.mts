import { StateMap, kinds } from '@syncstate/core';
import { SqliteStorage } from '@syncstate/storage-sqlite';
import { rmSync, mkdirSync } from 'node:fs';
const dir = '/work/main/packages/storage-sqlite/.scratch/dur'; rmSync(dir, { recursive: true, force: true }); mkdirSync(dir);
const res: Record<string, number[]> = { full: [], wal: [], normal: [] };
for (let rep = 0; rep < 4; rep++) for (const mode of ['full', 'wal', 'normal'] as const) {
  process.env.SYNCSTATE_SQLITE_FULL = mode === 'full' ? '1' : '0';
  const path = `${dir}/${mode}-${rep}.db`;
  const s = new SqliteStorage({ path, key: kinds.string, value: kinds.string, synchronous: mode === 'normal' ? 'normal' : 'full' });
  const m = new StateMap({ key: kinds.string, value: kinds.string });
  for (let i = 0; i < 100; i++) m.push(`k${i}`, `v${i}`);
  m.setMaster(true); await m.freeze();
  const hash = m.hash()!; const hex = Buffer.from(hash).toString('hex');
  await s.create(hash, hex, m);
  const N = 2000; const t = performance.now();
  for (let i = 0; i < N; i++) { m.set(`k${i % 100}`, `x${i}`); await s.append(hash, hex, []); }
  res[mode]!.push(N / (performance.now() - t) * 1000);
  await s.close();
}
for (const [k, v] of Object.entries(res)) console.log(k, v.map((x) => x.toFixed(0)).join(' '));
