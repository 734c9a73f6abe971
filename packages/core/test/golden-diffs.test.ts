// get_diff against the real Rust StateMap (fixtures/golden/core-diffs.json):
// scripted master histories (sets, batches, empty commits, sets before
// freeze, jumps made by a remote, u64::MAX) and Rust's answer for every
// (from, upto) of a grid. Entries are compared as sets (Rust merges through a
// HashMap). Where Rust panics, ours answers an empty diff.
import { describe, expect, it } from 'vitest';
import { loadGolden, goldenPairSet, pairSet } from './helpers/golden.js';
import { replay } from './helpers/script.js';
import type { ScriptCase } from './helpers/script.js';

const { cases } = loadGolden<{ cases: ScriptCase[] }>('core-diffs.json');

describe('scripted histories match Rust, op by op and get_diff by get_diff', () => {
  it('has grids with panics, merges of nothing and full diffs', () => {
    const rows = cases.flatMap((c) => c.getDiffGrid ?? []);
    expect(rows.length).toBeGreaterThan(1000);
    expect(rows.some((r) => 'panic' in r)).toBe(true);
    expect(rows.some((r) => 'from' in r && r.from === '18446744073709551615' && r.upto === '0')).toBe(true);
    expect(rows.some((r) => 'isFull' in r && r.isFull)).toBe(true);
  });

  for (const c of cases) {
    it(c.name, async () => {
      const { map, remote, results } = await replay(c);
      expect(results).toEqual(c.results);
      expect(remote.fetchCalls).toEqual(c.fetchCalls);
      expect(map.getUpdateId()).toBe(BigInt(c.final.updateId));
      expect(pairSet(map.entries())).toEqual(goldenPairSet(c.final.contents));

      let compared = 0;
      for (const row of c.getDiffGrid!) {
        const [from, upto] = row.at.map(BigInt) as [bigint, bigint];
        const d = map.getDiff(from, upto);
        const got = { isFull: d.isFull, from: String(d.fromUpdateId), upto: String(d.uptoUpdateId), entries: pairSet(d.entries) };
        const want =
          'panic' in row
            ? { isFull: false, from: '0', upto: '0', entries: [] }
            : { isFull: row.isFull, from: row.from, upto: row.upto, entries: goldenPairSet(row.entries) };
        expect(got, `get_diff(${from}, ${upto})`).toEqual(want);
        // One pair per key, like Rust's HashMap merge.
        expect(new Set(d.keys).size).toBe(d.size);
        compared++;
      }
      expect(compared).toBeGreaterThan(0);
    });
  }
});
