// Slave maps against the real Rust StateMap over a scripted Remote
// (fixtures/golden/core-slave.json): set_update_id results (EmptyDiff,
// inconsistent from, full diffs, target <= current, unfrozen, remote errors),
// the remote calls made, init at freeze, and the resulting id and contents.
import { describe, expect, it } from 'vitest';
import { goldenPairSet, loadGolden, pairSet } from './helpers/golden.js';
import { replay } from './helpers/script.js';
import type { ScriptCase } from './helpers/script.js';

const { cases } = loadGolden<{ cases: ScriptCase[] }>('core-slave.json');

/**
 * Where ours deliberately differs from Rust, by case name: the op index, our
 * outcome there, and why. Every other op and the final state must match.
 */
const DEVIATIONS: Record<string, { op: number; ours: unknown; why: string }> = {
  'diff with a key the map lacks': {
    op: 4,
    ours: { err: { variant: 'KeyNotFound', message: 'Key not found in the statemap' } },
    why: 'Rust inserts a key the map never had; ours rejects the whole diff and applies nothing',
  },
};

describe('slave maps match Rust', () => {
  for (const c of cases) {
    const deviation = DEVIATIONS[c.name];
    it(c.name, async () => {
      const { map, remote, results } = await replay(c);
      expect(remote.fetchCalls).toEqual(c.fetchCalls);
      expect(remote.initCalls).toEqual(
        c.initCalls.map((i) => ({ hash: i.hash, updateId: i.updateId, contents: goldenPairSet(i.contents) })),
      );
      expect(map.isFrozen()).toBe(c.final.frozen);
      expect(map.hash() === undefined ? null : Buffer.from(map.hash()!).toString('hex')).toBe(c.final.hash);
      if (deviation === undefined) {
        expect(results).toEqual(c.results);
        expect(map.getUpdateId()).toBe(BigInt(c.final.updateId));
        expect(pairSet(map.entries())).toEqual(goldenPairSet(c.final.contents));
        return;
      }
      // The deviating op: Rust succeeded, ours refused; before it, all equal.
      expect(results.slice(0, deviation.op)).toEqual(c.results.slice(0, deviation.op));
      expect(c.results[deviation.op]).not.toEqual(deviation.ours);
      expect(results[deviation.op]).toEqual(deviation.ours);
      // Nothing was applied: id and contents are those the map was frozen with.
      expect(map.getUpdateId()).toBe(BigInt(c.initCalls[0]!.updateId));
      expect(pairSet(map.entries())).toEqual(goldenPairSet(c.initCalls[0]!.contents));
    });
  }

  it('lists only deviations that exist', () => {
    for (const name of Object.keys(DEVIATIONS)) expect(cases.map((c) => c.name)).toContain(name);
  });
});
