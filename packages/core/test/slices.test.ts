// The sliced forms of the long operations on big maps (freeze, restore,
// history, wire) give exactly what their one-piece forms give, pausing as
// asked; and the map's building blocks for big maps (native SHA-256, the
// sharded key index, the `<` sort of plain strings) agree with the portable
// and the general ones.
import { describe, expect, it } from 'vitest';
import {
  decodeDiffEntries,
  decodePairsSliced,
  Diff,
  DuplicateKeyError,
  encodeDiffEntries,
  encodeDiffEntriesSliced,
  FrozenError,
  kinds,
  type Kind,
  type Pace,
  StateMap,
  timeSlices,
} from '@syncstate-ts/core';
import { createPortableSha256, createSha256, sha256Implementation } from '../src/_sha256.js';
import { snapshotOf } from './helpers/maps.js';

/** A pace that pauses after every chunk, counting the pauses. */
function everyChunk(): Pace & { pauses: number } {
  const pace = { pauses: 0, due: () => true, pause: async () => void pace.pauses++ };
  return pace;
}

function build<K>(key: Kind<K>, keys: K[], master = false): StateMap<K, string> {
  const map = new StateMap({ key, value: kinds.string });
  keys.forEach((k, i) => map.push(k, `v${i}`));
  if (master) map.setMaster(true);
  return map;
}

/** Keys whose UTF-16 order differs from their UTF-8 order in places, past one sort run (16,384). */
function trickyKeys(n: number): string[] {
  const odd = ['\u{FF61}', '\u{1F600}', '\u{E000}', '\u{10000}', 'z', 'é', ''];
  return Array.from({ length: n }, (_, i) => `${odd[i % odd.length]}${(i * 7919) % n}${odd[(i * 3) % odd.length]}`);
}

function answers(map: StateMap<string, string>): string[] {
  const n = map.getUpdateId();
  const out: string[] = [];
  for (const f of [0n, 1n, n - 1n, n, n + 1n]) {
    for (const u of [0n, 1n, n - 1n, n, n + 1n]) {
      if (f < 0n || u < 0n) continue;
      const d = map.getDiff(f, u);
      out.push(`${f}->${u} ${d.isFull} ${d.fromUpdateId} ${d.uptoUpdateId} ${Buffer.from(encodeDiffEntries(d, kinds.string, kinds.string)).toString('hex')}`);
    }
  }
  return out;
}

describe('SHA-256', () => {
  it('node:crypto (in Node) and noble give the same digests, in any updates', () => {
    expect(sha256Implementation).toBe('node:crypto');
    for (const size of [0, 1, 55, 56, 64, 1000, 70_000]) {
      const bytes = Uint8Array.from({ length: size }, (_, i) => (i * 31 + size) & 0xff);
      const a = createSha256();
      const b = createPortableSha256();
      for (let at = 0; at < size; at += 777) {
        a.update(bytes.subarray(at, at + 777));
        b.update(bytes.subarray(at, at + 777));
      }
      expect(Buffer.from(a.digest()).toString('hex')).toBe(Buffer.from(b.digest()).toString('hex'));
    }
  });
});

describe('freeze in slices', () => {
  it('gives the hash and history of freeze(), string keys in UTF-8 order, pausing between slices', async () => {
    const keys = trickyKeys(40_000);
    const whole = build(kinds.string, keys, true);
    await whole.freeze();
    const sliced = build(kinds.string, keys, true);
    const pace = everyChunk();
    await sliced.freeze({ pace });
    expect(pace.pauses).toBeGreaterThan(10);
    expect(sliced.hash()).toEqual(whole.hash());
    expect(answers(sliced)).toEqual(answers(whole));
  });

  it('sorts plain ASCII keys with < and others by code point: the same hashes', async () => {
    for (const keys of [Array.from({ length: 3000 }, (_, i) => `key-${i}`), ['\u{FF61}', '\u{1F600}', 'a'], ['\u{E000}', '\u{10000}']]) {
      const map = build(kinds.string, keys);
      await map.freeze();
      const byCodePoint = new StateMap({ key: { ...kinds.string }, value: kinds.string }); // not kinds.string: always compares by code point
      keys.forEach((k, i) => byCodePoint.push(k, `v${i}`));
      await byCodePoint.freeze();
      expect(map.hash()).toEqual(byCodePoint.hash());
    }
  });

  it('bytes keys too', async () => {
    const keys = Array.from({ length: 20_000 }, (_, i) => Uint8Array.of((i * 13) & 0xff, i >> 8, i & 0xff));
    const whole = build(kinds.bytes, keys);
    await whole.freeze();
    const sliced = build(kinds.bytes, keys);
    await sliced.freeze({ pace: timeSlices({ sliceMs: 1 }) });
    expect(sliced.hash()).toEqual(whole.hash());
  });

  it('refuses pushes and sets meanwhile; a second freeze() waits for the first', async () => {
    const map = build(kinds.string, trickyKeys(5000), true);
    const first = map.freeze({ pace: everyChunk() });
    expect(map.isFrozen()).toBe(false);
    expect(() => map.push('late', 'x')).toThrow(FrozenError);
    expect(() => map.set(trickyKeys(1)[0]!, 'x')).toThrow(FrozenError);
    expect(() => map.beginModification()).toThrow(FrozenError);
    expect(map.freeze()).toBe(first);
    await first;
    expect(map.isFrozen()).toBe(true);
    map.set(trickyKeys(1)[0]!, 'now');
    expect(map.getUpdateId()).toBe(1n);
  });
});

describe('restore, history and wire in slices', () => {
  async function changedMaster(): Promise<StateMap<string, string>> {
    const map = build(kinds.string, trickyKeys(20_000), true);
    await map.freeze();
    const keys = [...map.entries()].map(([k]) => k);
    for (let i = 0; i < 30; i++) {
      if (i % 3 === 0) map.beginModification().set(keys[i]!, `b${i}`).set(keys[i + 1]!, `c${i}`).commit();
      else map.set(keys[(i * 101) % keys.length]!, `s${i}`);
    }
    return map;
  }

  it('restoreAsync rebuilds the map restore() rebuilds, with the full entry of freeze or without it', async () => {
    const map = await changedMaster();
    for (const trim of [undefined, 10n]) {
      if (trim !== undefined) map.trimHistory(trim);
      const snapshot = snapshotOf(map);
      const pace = everyChunk();
      const sliced = await StateMap.restoreAsync(snapshot, { pace });
      expect(pace.pauses).toBeGreaterThan(0);
      expect(answers(sliced)).toEqual(answers(StateMap.restore(snapshot)));
      expect(answers(sliced)).toEqual(answers(map));
      expect(sliced.historySize).toBe(map.historySize);
    }
  });

  it('restoreAsync refuses what restore refuses', async () => {
    const map = await changedMaster();
    const base = { key: kinds.string, value: kinds.string, hash: map.hash()!, entries: [...map.entries()], updateId: 3n, isMaster: true };
    await expect(StateMap.restoreAsync({ ...base, history: [new Diff([['not a key', 'x']], false, 0n, 1n)] })).rejects.toThrow('Key not found');
    await expect(StateMap.restoreAsync({ ...base, hash: new Uint8Array(3), history: [] })).rejects.toThrow(/32 bytes/);
  });

  it('historyEntriesAsync lists what historyEntries lists', async () => {
    const map = await changedMaster();
    for (const after of [undefined, 0n, 5n, map.getUpdateId()]) {
      const whole = map.historyEntries(after);
      const sliced = await map.historyEntriesAsync(after, { pace: everyChunk() });
      expect(sliced.map((d) => [d.fromUpdateId, d.uptoUpdateId, d.keys, d.values])).toEqual(whole.map((d) => [d.fromUpdateId, d.uptoUpdateId, d.keys, d.values]));
    }
  });

  it('decodePairsSliced and encodeDiffEntriesSliced agree with the one-piece codec, repeats kept', async () => {
    const pairs: Array<[string, string]> = [...(await changedMaster()).entries(), ['again', '1'], ['again', '2']];
    const diff = new Diff(pairs);
    const bytes = encodeDiffEntries(diff, kinds.string, kinds.string);
    expect(await encodeDiffEntriesSliced(diff, kinds.string, kinds.string, everyChunk())).toEqual(bytes);
    const decoded = await decodePairsSliced(bytes, kinds.string, kinds.string, everyChunk());
    expect(decoded.keys.map((k, i) => [k, decoded.values[i]])).toEqual(decodeDiffEntries(bytes, kinds.string, kinds.string));
    // Trailing bytes: ignored as Rust does, refused when strict; a count the input cannot hold: refused before allocating.
    const trailing = new Uint8Array(bytes.length + 1);
    trailing.set(bytes);
    await expect(decodePairsSliced(trailing, kinds.string, kinds.string, undefined)).resolves.toBeDefined();
    await expect(decodePairsSliced(trailing, kinds.string, kinds.string, undefined, { strict: true })).rejects.toMatchObject({ code: 'trailing-bytes' });
    await expect(decodePairsSliced(Uint8Array.of(253, 0, 0, 0, 0, 0, 0, 1, 0), kinds.string, kinds.string, undefined)).rejects.toMatchObject({
      code: 'length-exceeds-input',
    });
  });
});

describe('a map of many keys', () => {
  it('finds every key past the index split, refuses a repeat, and tells positions', async () => {
    const n = 70_000;
    const map = build(kinds.string, Array.from({ length: n }, (_, i) => `k${i}`), true);
    expect(() => map.push('k12345', 'again')).toThrow(DuplicateKeyError);
    expect(() => map.push('k1', 'again')).toThrow(DuplicateKeyError);
    await map.freeze();
    for (const i of [0, 1, 32_767, 32_768, 50_000, n - 1]) {
      expect(map.get(`k${i}`)).toBe(`v${i}`);
      expect(map.indexOf(`k${i}`)).toBe(i);
    }
    expect(map.has('k70000')).toBe(false);
    expect(map.indexOf('k70000')).toBe(-1);
    map.set('k69999', 'changed');
    expect(map.getDiff(0n, 1n).entries.at(-1)).toEqual(['k69999', 'changed']);
  });
});
