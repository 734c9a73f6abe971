// StateMap.restore, historyEntries and trimHistory: a map rebuilt from what a
// storage saves answers every getDiff exactly as the original (pairs, their
// order, ids, flags), trimmed or not, and both agree with a literal port of
// Rust's get_diff over the trimmed history (helpers/reference.ts).
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import {
  Diff,
  EmptyDiffError,
  FetchUpdateError,
  InvalidValueError,
  KeyNotFoundError,
  StateMap,
  kinds,
} from '@syncstate-ts/core';
import { frozenMaster, snapshotOf } from './helpers/maps.js';
import { answerOf, ReferenceMap, U64_MAX } from './helpers/reference.js';
import { NextAnswerRemote } from './helpers/remotes.js';

const KEYS = ['a', 'b', 'c', 'd'];

type Op =
  | { t: 'set'; k: number; v: string }
  | { t: 'batch'; sets: [number, string][] }
  | { t: 'jump'; back: number; delta: number; pairs: [number, string][] }
  | { t: 'trim'; back: number };

const op: fc.Arbitrary<Op> = fc.oneof(
  { weight: 6, arbitrary: fc.record({ t: fc.constant('set' as const), k: fc.nat(3), v: fc.constantFrom('x', 'y', '\u{1F600}') }) },
  { weight: 2, arbitrary: fc.record({ t: fc.constant('batch' as const), sets: fc.array(fc.tuple(fc.nat(3), fc.constantFrom('p', 'q')), { maxLength: 3 }) }) },
  {
    weight: 1,
    arbitrary: fc.record({
      t: fc.constant('jump' as const),
      back: fc.integer({ min: 0, max: 3 }),
      delta: fc.integer({ min: -3, max: 4 }),
      pairs: fc.array(fc.tuple(fc.nat(3), fc.constantFrom('j', 'k')), { minLength: 1, maxLength: 2 }),
    }),
  },
  { weight: 2, arbitrary: fc.record({ t: fc.constant('trim' as const), back: fc.integer({ min: -1, max: 6 }) }) },
);

function exact(d: Diff<string, string>): unknown {
  return { isFull: d.isFull, from: d.fromUpdateId, upto: d.uptoUpdateId, keys: [...d.keys], values: [...d.values] };
}

describe('restore, historyEntries, trimHistory', () => {
  it('a restored map answers like the original and like Rust over the trimmed history', async () => {
    await fc.assert(
      fc.asyncProperty(
        fc.array(op, { maxLength: 40 }),
        fc.array(fc.tuple(fc.nat(), fc.nat()), { minLength: 1, maxLength: 30 }),
        async (ops, queries) => {
          const remote = new NextAnswerRemote();
          const map = new StateMap({ key: kinds.string, value: kinds.string, remote });
          const ref = new ReferenceMap();
          for (const k of KEYS) {
            map.push(k, `${k}0`);
            ref.push(k, `${k}0`);
          }
          map.setMaster(true);
          ref.master = true;
          await map.freeze();
          ref.freeze();
          for (const o of ops) {
            if (o.t === 'set') {
              map.set(KEYS[o.k]!, o.v);
              ref.set(KEYS[o.k]!, o.v);
            } else if (o.t === 'batch') {
              const m = map.beginModification();
              for (const [k, v] of o.sets) m.set(KEYS[k]!, v);
              m.commit();
              ref.batch(o.sets.map(([k, v]) => [KEYS[k]!, v]));
            } else if (o.t === 'jump') {
              // A master map taking a diff from a remote: the id may go back, history gets no entry.
              const current = ref.updateId;
              const from = current - BigInt(Math.min(o.back, Number(current)));
              const upto = current + BigInt(o.delta) < 0n ? 0n : current + BigInt(o.delta);
              const pairs = o.pairs.map(([k, v]) => [KEYS[k]!, v] as [string, string]);
              remote.next = new Diff(pairs, false, from, upto);
              await map.setUpdateId(current + 1n);
              expect(ref.setUpdateId(current + 1n, { pairs, isFull: false, from, upto })).toBe('ok');
            } else {
              const at = ref.updateId - BigInt(o.back) < 0n ? 0n : ref.updateId - BigInt(o.back);
              expect(map.trimHistory(at)).toBe(ref.trimHistory(at));
            }
          }
          expect(map.historySize).toBe(ref.diffs.length);
          const restored = StateMap.restore(snapshotOf(map));
          expect(restored.hash()).toEqual(map.hash());
          expect(restored.getUpdateId()).toBe(map.getUpdateId());
          expect(restored.historySize).toBe(map.historySize);
          expect(exact(restored.fullDiff())).toEqual(exact(map.fullDiff()));
          expect(restored.historyEntries().map(exact)).toEqual(map.historyEntries().map(exact));

          const ids = new Set<bigint>([0n, 1n, U64_MAX, ref.updateId, ref.updateId + 1n]);
          for (const d of ref.diffs) for (const x of [d.from, d.upto]) for (const y of [x - 1n, x, x + 1n]) if (y >= 0n) ids.add(y);
          const list = [...ids].sort((a, b) => (a < b ? -1 : a > b ? 1 : 0));
          for (const [i, j] of queries) {
            const from = list[i % list.length]!;
            const upto = list[j % list.length]!;
            const got = map.getDiff(from, upto);
            expect(exact(restored.getDiff(from, upto)), `restored getDiff(${from}, ${upto})`).toEqual(exact(got));
            expect(answerOf(got)).toEqual(ref.answer(from, upto));
          }
        },
      ),
      { numRuns: 500 },
    );
  });

  it('historyEntries(after) gives the entries added since a master map was at that id', async () => {
    const map = await frozenMaster([
      ['a', '0'],
      ['b', '0'],
    ]);
    expect(map.historyEntries().map(exact)).toEqual([
      { isFull: false, from: 0n, upto: 0n, keys: ['a', 'b'], values: ['0', '0'] },
    ]);
    expect(map.historyEntries(0n)).toEqual([]);
    map.set('a', '1');
    map.beginModification().set('b', '2').set('a', '3').commit();
    map.beginModification().commit();
    expect(map.historyEntries(0n).map(exact)).toEqual([
      { isFull: false, from: 0n, upto: 1n, keys: ['a'], values: ['1'] },
      { isFull: false, from: 1n, upto: 2n, keys: ['b', 'a'], values: ['2', '3'] },
      { isFull: false, from: 2n, upto: 3n, keys: [], values: [] },
    ]);
    expect(map.historyEntries(2n).map((d) => d.uptoUpdateId)).toEqual([3n]);
    expect(map.historyEntries(3n)).toEqual([]);
    expect(() => map.historyEntries(-1n)).toThrow(InvalidValueError);
  });

  it('trims across chunk boundaries and keeps answering like an untrimmed twin within the kept range', async () => {
    const keys = 50;
    const pairs = Array.from({ length: keys }, (_, i) => [`k${i}`, 'v'] as const);
    const trimmed = await frozenMaster(pairs);
    const full = await frozenMaster(pairs);
    const KEEP = 1000n;
    for (let j = 0; j < 150_000; j++) {
      const k = `k${(j * 7) % keys}`;
      trimmed.set(k, `v${j}`);
      full.set(k, `v${j}`);
      if ((j % 97 === 0 || j === 149_999) && trimmed.getUpdateId() > KEEP) trimmed.trimHistory(trimmed.getUpdateId() - KEEP);
    }
    expect(trimmed.historySize).toBe(Number(KEEP));
    const n = trimmed.getUpdateId();
    const restored = StateMap.restore(snapshotOf(trimmed));
    for (const [from, upto] of [
      [n - KEEP, n],
      [n - 500n, n - 3n],
      [n - 1n, n],
      [n - KEEP + 1n, n - KEEP + 2n],
    ] as const) {
      expect(exact(trimmed.getDiff(from, upto))).toEqual(exact(full.getDiff(from, upto)));
      expect(exact(restored.getDiff(from, upto))).toEqual(exact(full.getDiff(from, upto)));
    }
    // Before the kept history: full diff; an upto before it: empty.
    expect(trimmed.getDiff(n - KEEP - 1n, n).isFull).toBe(true);
    expect(exact(trimmed.getDiff(n - KEEP, n - KEEP))).toEqual(exact(Diff.empty()));
    expect(trimmed.trimHistory(n)).toBe(Number(KEEP));
    expect(trimmed.historySize).toBe(0);
    expect(exact(trimmed.getDiff(n - 1n, n))).toEqual(exact(Diff.empty()));
    trimmed.set('k0', 'again');
    expect(exact(trimmed.getDiff(n, n + 1n))).toEqual({ isFull: false, from: n, upto: n + 1n, keys: ['k0'], values: ['again'] });
  });

  it('restores arbitrary histories and trims them like Rust over the entries left (rebuilds included)', () => {
    const entry = fc.record({
      from: fc.bigInt({ min: 0n, max: 8n }),
      upto: fc.bigInt({ min: 0n, max: 8n }),
      pairs: fc.array(fc.tuple(fc.constantFrom(...KEYS), fc.constantFrom('x', 'y')), { maxLength: 2 }),
    });
    fc.assert(
      fc.property(
        fc.array(entry, { maxLength: 12 }),
        fc.array(fc.bigInt({ min: 0n, max: 9n }), { maxLength: 3 }),
        (entries, trims) => {
          const ref = new ReferenceMap();
          for (const k of KEYS) ref.push(k, `${k}0`);
          ref.frozen = true;
          ref.master = true;
          ref.updateId = 8n;
          ref.diffs = entries.map((e) => ({ pairs: e.pairs, isFull: false, from: e.from, upto: e.upto }));
          const map = StateMap.restore({
            key: kinds.string,
            value: kinds.string,
            hash: new Uint8Array(32),
            entries: [...ref.data],
            updateId: 8n,
            history: entries.map((e) => new Diff(e.pairs, false, e.from, e.upto)),
            isMaster: true,
          });
          for (const at of trims) {
            expect(map.trimHistory(at)).toBe(ref.trimHistory(at));
            for (let from = 0n; from <= 9n; from++) {
              for (let upto = 0n; upto <= 9n; upto++) expect(answerOf(map.getDiff(from, upto))).toEqual(ref.answer(from, upto));
            }
          }
        },
      ),
      { numRuns: 300 },
    );
  });

  it('restore validates its input', async () => {
    const base = { key: kinds.string, value: kinds.string, updateId: 0n, isMaster: true, history: [] as Diff<string, string>[] };
    const hash = new Uint8Array(32);
    expect(() => StateMap.restore({ ...base, hash: new Uint8Array(31), entries: [] })).toThrow(InvalidValueError);
    expect(() => StateMap.restore({ ...base, hash, entries: [['a', '1'], ['a', '2']] })).toThrow(/push each key once/);
    expect(() => StateMap.restore({ ...base, hash, entries: [], updateId: -1n })).toThrow(InvalidValueError);
    expect(() => StateMap.restore({ ...base, hash, entries: [['a', '1']], history: [new Diff([['b', '1']], false, 0n, 1n)] })).toThrow(
      KeyNotFoundError,
    );
    const map = StateMap.restore({ ...base, hash, entries: [['a', '1']], updateId: 7n });
    expect(map.isFrozen()).toBe(true);
    expect(map.isMaster).toBe(true);
    await map.freeze(); // already frozen: no init
    hash[0] = 1; // restore copied it
    expect(map.hash()).toEqual(new Uint8Array(32));
    // No history: where Rust panics, an empty diff (as for any map without history).
    expect(exact(map.getDiff(3n, 7n))).toEqual(exact(Diff.empty()));
    map.set('a', '2');
    expect(exact(map.getDiff(7n, 8n))).toEqual({ isFull: false, from: 7n, upto: 8n, keys: ['a'], values: ['2'] });
  });
});

describe('applyDiff of a diff without pairs', () => {
  it('is EmptyDiffError, as in Rust', async () => {
    const map = new StateMap({ key: kinds.string, value: kinds.string });
    map.push('a', '0');
    await map.freeze();
    map.applyDiff(new Diff([['a', '1']], false, 0n, 4n));
    expect(() => map.applyDiff(new Diff([], false, 4n, 5n))).toThrow(EmptyDiffError);
    expect(map.getUpdateId()).toBe(4n);
  });
});

