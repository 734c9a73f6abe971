// Diff: construction, accessors, merge, compress, fullDiff.
import { describe, expect, it } from 'vitest';
import { Diff, U64_MAX, kinds } from '@syncstate-ts/core';
import { frozenMaster } from './helpers/maps.js';

describe('Diff', () => {
  it('empty(): no pairs, not full, from 0 upto 0', () => {
    const d = Diff.empty<string, string>();
    expect([d.isEmpty(), d.size, d.isFull, d.fromUpdateId, d.uptoUpdateId, d.entries]).toEqual([true, 0, false, 0n, 0n, []]);
  });

  it('keeps its pairs in order, repeats included, with column accessors', () => {
    const d = new Diff(
      [
        ['a', '1'],
        ['b', '2'],
        ['a', '3'],
      ],
      true,
      4n,
      9n,
    );
    expect(d.entries).toEqual([
      ['a', '1'],
      ['b', '2'],
      ['a', '3'],
    ]);
    expect(d.entries).toBe(d.entries); // built once
    expect(d.keys).toEqual(['a', 'b', 'a']);
    expect(d.values).toEqual(['1', '2', '3']);
    expect([d.isFull, d.fromUpdateId, d.uptoUpdateId, d.size, d.isEmpty()]).toEqual([true, 4n, 9n, 3, false]);
  });

  it('defaults: not full, from 0 upto 0', () => {
    const d = new Diff([['k', 'v']]);
    expect([d.isFull, d.fromUpdateId, d.uptoUpdateId]).toEqual([false, 0n, 0n]);
  });

  it('fromColumns checks the columns match', () => {
    expect(() => Diff.fromColumns(['a'], [], false, 0n, 0n)).toThrow(RangeError);
    expect(Diff.fromColumns(['a'], ['1'], false, 1n, 2n).entries).toEqual([['a', '1']]);
  });

  it('merge: smallest from, largest upto, the last value per key, ordered by last write', () => {
    const m = Diff.merge(
      [
        new Diff([['a', '1'], ['b', '1']], true, 5n, 6n),
        new Diff([['a', '2']], false, 2n, 3n),
        new Diff([], false, 7n, 8n),
      ],
      kinds.string,
    );
    expect([m.isFull, m.fromUpdateId, m.uptoUpdateId]).toEqual([false, 2n, 8n]);
    expect(m.entries).toEqual([
      ['b', '1'],
      ['a', '2'],
    ]);
  });

  it('merge of nothing: from 2^64 - 1, upto 0 (as Rust)', () => {
    const m = Diff.merge<string, string>([], kinds.string);
    expect([m.isEmpty(), m.fromUpdateId, m.uptoUpdateId, m.isFull]).toEqual([true, U64_MAX, 0n, false]);
  });

  it('merge and compress compare bytes keys by content', () => {
    const k1: Uint8Array = new Uint8Array([1]);
    const k1b: Uint8Array = new Uint8Array([1]);
    const m = Diff.merge([new Diff([[k1, 'x']]), new Diff([[k1b, 'y']])], kinds.bytes);
    expect(m.size).toBe(1);
    expect(m.values).toEqual(['y']);
    const c = new Diff([[k1, 'x'], [new Uint8Array([2]), 'z'], [k1b, 'y']], true, 3n, 4n).compress(kinds.bytes);
    expect(c.values).toEqual(['z', 'y']);
    expect([c.isFull, c.fromUpdateId, c.uptoUpdateId]).toEqual([true, 3n, 4n]);
  });

  it('merge handles diffs larger than the argument limit of push(...spread)', () => {
    const big = Array.from({ length: 200_000 }, (_, i) => [`k${i}`, 'v'] as const);
    expect(Diff.merge([new Diff(big)], kinds.string).size).toBe(200_000);
  });

  it('fullDiff(map): every pair, full, from 0 upto the map id', async () => {
    const map = await frozenMaster([
      ['a', '1'],
      ['b', '2'],
    ]);
    map.set('b', '3');
    const f = Diff.fullDiff(map);
    expect([f.isFull, f.fromUpdateId, f.uptoUpdateId, f.entries]).toEqual([
      true,
      0n,
      1n,
      [
        ['a', '1'],
        ['b', '3'],
      ],
    ]);
    map.set('a', 'later');
    expect(f.values).toEqual(['1', '3']); // a snapshot
  });
});
