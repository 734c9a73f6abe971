// Map hashes against the real Rust StateMap (fixtures/golden/core-hashes.json):
// freeze() + hash() of maps with String, Vec<u8> and [u8; 32] keys, keys whose
// UTF-8 order differs from JavaScript's UTF-16 order, 0-byte and 1 MiB values,
// and 100,000 pairs (re-created from the generator recipe Rust recorded).
import { describe, expect, it } from 'vitest';
import { StateMap } from '@syncstate-ts/core';
import { kindOf, loadGolden, toHex, valueOf } from './helpers/golden.js';
import type { Json, KindName } from './helpers/golden.js';

interface HashCase {
  name: string;
  keyKind: KindName;
  valueKind: KindName;
  hash: string;
  pairs?: [string, string][];
  rustOrder?: string[];
  generator?:
    | { type: 'indexed'; count: number; key: string; value: string }
    | { type: 'explicit'; pairs: [string, Json][] };
}

const { cases } = loadGolden<{ cases: HashCase[] }>('core-hashes.json');

/** Byte j of a generated value: (j * 31 + 7) mod 256, as capture_core.rs makes it. */
function pattern(n: number): Uint8Array {
  const out = new Uint8Array(n);
  for (let j = 0; j < n; j++) out[j] = (j * 31 + 7) & 0xff;
  return out;
}

function pairsOf(c: HashCase): [unknown, unknown][] {
  if (c.pairs) return c.pairs.map(([k, v]) => [valueOf(c.keyKind, k), valueOf(c.valueKind, v)]);
  const g = c.generator!;
  if (g.type === 'indexed') {
    const out: [unknown, unknown][] = [];
    for (let i = 0; i < g.count; i++) out.push([g.key.replace('{i}', String(i)), g.value.replace('{i}', String(i))]);
    return out;
  }
  return g.pairs.map(([k, v]) => [
    valueOf(c.keyKind, k),
    typeof v === 'object' && v !== null && 'pattern' in v ? pattern(v.pattern as number) : valueOf(c.valueKind, v),
  ]);
}

describe('map hash matches Rust StateMap::freeze + hash', () => {
  it('covers the cases the issue asks for', () => {
    const names = cases.map((c) => c.name);
    expect(names).toEqual(expect.arrayContaining(['empty map', 'one pair', '100000 indexed pairs']));
    expect(new Set(cases.map((c) => c.keyKind))).toEqual(new Set(['string', 'bytes', 'bytes32']));
  });

  for (const c of cases) {
    it(c.name, async () => {
      const map = new StateMap<any, any>({ key: kindOf(c.keyKind), value: kindOf(c.valueKind) });
      for (const [k, v] of pairsOf(c)) map.push(k, v);
      expect(map.hash()).toBeUndefined();
      await map.freeze();
      expect(toHex(map.hash()!)).toBe(c.hash);
    });
  }

  // The same keys in reverse push order: the hash sorts them first.
  for (const c of cases.filter((c) => c.pairs && c.pairs.length > 1)) {
    it(`${c.name} (pushed in reverse)`, async () => {
      const map = new StateMap<any, any>({ key: kindOf(c.keyKind), value: kindOf(c.valueKind) });
      for (const [k, v] of pairsOf(c).reverse()) map.push(k, v);
      await map.freeze();
      expect(toHex(map.hash()!)).toBe(c.hash);
    });
  }
});

describe('key order is Rust Ord', () => {
  for (const c of cases.filter((c) => c.rustOrder)) {
    it(c.name, () => {
      const kind = kindOf(c.keyKind);
      const keys = c.pairs!.map(([k]) => valueOf(c.keyKind, k));
      const sorted = [...keys].sort((a, b) => kind.compare(a, b)).map((k) => (typeof k === 'string' ? k : toHex(k)));
      expect(sorted).toEqual(c.rustOrder);
    });
  }

  it('the unicode case tells UTF-8 order from JavaScript default order', () => {
    const c = cases.find((c) => c.name === 'U+FF61 vs U+1F600 only')!;
    const keys = c.pairs!.map(([k]) => k);
    expect([...keys].sort()).not.toEqual(c.rustOrder);
  });
});
