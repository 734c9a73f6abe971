// StateMap behaviour beyond the golden scripts: reads, iteration, batches,
// freeze and init, queued setUpdateId calls, long histories.
import { setTimeout as sleep } from 'node:timers/promises';
import { describe, expect, it } from 'vitest';
import { Diff, StateMap, kinds } from '@syncstate-ts/core';
import type { Remote } from '@syncstate-ts/core';

function master(keys = ['a', 'b', 'c']): StateMap<string, string> {
  const map = new StateMap({ key: kinds.string, value: kinds.string });
  for (const k of keys) map.push(k, `${k}0`);
  map.setMaster(true);
  return map;
}

describe('reads and iteration', () => {
  it('get, has, size, entries and iteration in push order', () => {
    const map = new StateMap({ key: kinds.string, value: kinds.string });
    map.push('z', '1');
    map.push('a', '2');
    expect(map.get('z')).toBe('1');
    expect(map.get('q')).toBeUndefined();
    expect(map.has('a')).toBe(true);
    expect(map.has('q')).toBe(false);
    expect(map.size).toBe(2);
    expect([...map]).toEqual([
      ['z', '1'],
      ['a', '2'],
    ]);
    expect([...map.entries()]).toEqual([...map]);
  });

  it('bytes keys are looked up by content', () => {
    const map = new StateMap({ key: kinds.fixedBytes(4), value: kinds.string });
    map.push(new Uint8Array([0, 0, 0, 1]), 'one');
    expect(map.get(Uint8Array.of(0, 0, 0, 1))).toBe('one');
    expect(map.get(Uint8Array.of(0, 0, 1, 0))).toBeUndefined();
  });
});

describe('freeze and hash', () => {
  it('hash is undefined before freeze, 32 bytes after, and a copy', async () => {
    const map = master();
    expect(map.hash()).toBeUndefined();
    expect(map.isFrozen()).toBe(false);
    const p = map.freeze();
    expect(map.isFrozen()).toBe(true); // frozen at once; init runs after
    await p;
    const h = map.hash()!;
    expect(h).toHaveLength(32);
    h.fill(0);
    expect(map.hash()).not.toEqual(h);
  });

  it('init runs once, after the hash and the full diff exist', async () => {
    const seen: { hash?: Uint8Array; diff?: Diff<string, string> }[] = [];
    const remote: Remote<string, string> = {
      fetchUpdates: () => Promise.resolve(Diff.empty()),
      init: async (m) => {
        // The map itself is handed over; HostedMap only names what remotes need of it.
        seen.push({ hash: m.hash()!, diff: (m as StateMap<string, string>).getDiff(0n, 0n) });
      },
    };
    const map = new StateMap({ key: kinds.string, value: kinds.string, remote });
    map.push('k', 'v');
    const first = map.freeze();
    expect(map.freeze()).toBe(first);
    await first;
    await map.freeze();
    expect(seen).toHaveLength(1);
    expect(seen[0]!.hash).toEqual(map.hash());
    // The freeze entry (0, 0) with every pair, merged: not full (Rust merges it).
    expect(seen[0]!.diff!.entries).toEqual([['k', 'v']]);
    expect(seen[0]!.diff!.isFull).toBe(false);
  });

  it('the hash covers the values at freeze, after pre-freeze sets', async () => {
    const a = master(['k']);
    a.set('k', 'changed');
    await a.freeze();
    const b = master(['k']);
    b.set('k', 'changed');
    b.set('k', 'changed'); // more history, same contents
    await b.freeze();
    const c = new StateMap({ key: kinds.string, value: kinds.string });
    c.push('k', 'changed');
    await c.freeze();
    expect(a.hash()).toEqual(c.hash());
    expect(b.hash()).toEqual(c.hash());
    expect(a.getUpdateId()).toBe(1n);
  });
});

describe('set and batches', () => {
  it('each set bumps the id by one and is one history entry', async () => {
    const map = master();
    await map.freeze();
    map.set('a', 'a1');
    map.set('b', 'b1');
    expect(map.getUpdateId()).toBe(2n);
    const d = map.getDiff(1n, 2n);
    expect([d.fromUpdateId, d.uptoUpdateId, d.isFull, d.entries]).toEqual([1n, 2n, false, [['b', 'b1']]]);
  });

  it('a batch stages reads, commits as one update, even empty', async () => {
    const map = master();
    await map.freeze();
    const mods = map.beginModification();
    mods.set('a', 'a1').set('c', 'c1').set('a', 'a2');
    expect(mods.get('a')).toBe('a2');
    expect(mods.get('b')).toBe('b0');
    expect(mods.get('zz')).toBeUndefined();
    expect(map.get('a')).toBe('a0'); // not yet committed
    mods.commit();
    expect(map.getUpdateId()).toBe(1n);
    expect(map.get('a')).toBe('a2');
    map.beginModification().commit();
    expect(map.getUpdateId()).toBe(2n);
    expect(map.getDiff(1n, 2n).isEmpty()).toBe(true);
    expect(map.getDiff(0n, 1n).entries).toEqual(
      expect.arrayContaining([
        ['a', 'a2'],
        ['c', 'c1'],
      ]),
    );
  });

  it('merged diffs order pairs by their last write', async () => {
    const map = master();
    await map.freeze();
    map.set('c', 'c1');
    map.set('a', 'a1');
    map.set('c', 'c2');
    expect(map.getDiff(1n, 3n).entries).toEqual([
      ['a', 'a1'],
      ['c', 'c2'],
    ]);
  });
});

describe('getDiff over long histories', () => {
  it('answers across chunk boundaries (70,000 updates) like a direct replay', async () => {
    const keys = Array.from({ length: 50 }, (_, i) => `k${i}`);
    const map = master(keys);
    await map.freeze();
    const n = 70_000;
    for (let j = 0; j < n; j++) map.set(`k${(j * 7) % 50}`, `v${j}`);
    expect(map.getUpdateId()).toBe(BigInt(n));
    const last = map.getDiff(BigInt(n - 1), BigInt(n));
    expect(last.entries).toEqual([[`k${((n - 1) * 7) % 50}`, `v${n - 1}`]]);
    // From 65,530 to 65,560: the latest write of each key written in that range.
    const want = new Map<string, string>();
    for (let j = 65_530; j < 65_560; j++) want.set(`k${(j * 7) % 50}`, `v${j}`);
    const mid = map.getDiff(65_530n, 65_560n);
    expect(new Map(mid.entries)).toEqual(want);
    expect([mid.fromUpdateId, mid.uptoUpdateId]).toEqual([65_530n, 65_560n]);
    // From 0: every key, the full entry merged in.
    expect(map.getDiff(0n, BigInt(n)).size).toBe(50);
    // Above the history: the whole map as a full diff.
    const full = map.getDiff(BigInt(n + 1), BigInt(n + 5));
    expect([full.isFull, full.size, full.uptoUpdateId]).toEqual([true, 50, BigInt(n)]);
  });
});

describe('setUpdateId', () => {
  it('queues calls: each sees the id the previous one left', async () => {
    const calls: [bigint, bigint][] = [];
    const remote: Remote<string, string> = {
      fetchUpdates: async (current, target) => {
        calls.push([current, target]);
        await sleep(5);
        return new Diff([['a', `a${target}`]], false, current, target);
      },
      init: () => Promise.resolve(),
    };
    const map = new StateMap({ key: kinds.string, value: kinds.string, remote });
    map.push('a', 'a0');
    await map.freeze();
    await Promise.all([map.setUpdateId(3n), map.setUpdateId(2n), map.setUpdateId(5n)]);
    expect(calls).toEqual([
      [0n, 3n],
      [3n, 5n],
    ]);
    expect(map.getUpdateId()).toBe(5n);
    expect(map.get('a')).toBe('a5');
  });

  it('a failed call does not block the next', async () => {
    let calls = 0;
    const remote: Remote<string, string> = {
      fetchUpdates: async (current, target) => {
        if (calls++ === 0) throw new Error('once');
        return new Diff([['a', 'x']], false, current, target);
      },
      init: () => Promise.resolve(),
    };
    const map = new StateMap({ key: kinds.string, value: kinds.string, remote });
    map.push('a', 'a0');
    await map.freeze();
    const first = map.setUpdateId(1n);
    const second = map.setUpdateId(1n);
    await expect(first).rejects.toThrow('once');
    await second;
    expect(map.getUpdateId()).toBe(1n);
  });

  it('applyDiff writes a diff received by other means; a master keeps no history for it', async () => {
    const map = master();
    await map.freeze();
    map.applyDiff(new Diff([['b', 'b9']], false, 0n, 9n));
    expect(map.getUpdateId()).toBe(9n);
    expect(map.get('b')).toBe('b9');
    map.set('a', 'a10');
    expect(map.getDiff(9n, 10n).entries).toEqual([['a', 'a10']]);
  });
});
