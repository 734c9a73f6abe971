// Payloads built from map data against Rust (fixtures/golden/core-wire.json):
// encoded_diff (Vec<(K, V)>), init_data (HashMap<K, V>) and Event::serialize.
import { describe, expect, it } from 'vitest';
import { DecodeError, t } from '@syncstate-ts/codec';
import type { Infer } from '@syncstate-ts/codec';
import { Diff, Event, StateMap, decodeDiffEntries, decodeInitData, encodeDiffEntries, encodeInitData } from '@syncstate-ts/core';
import { fromHex, goldenPairSet, kindOf, loadGolden, pairSet, toHex, valueOf } from './helpers/golden.js';
import type { KindName } from './helpers/golden.js';

type WireCase =
  | { type: 'diffEntries'; name: string; keyKind: KindName; valueKind: KindName; pairs: [string, string][]; hex: string }
  | { type: 'initData'; name: string; keyKind: KindName; valueKind: KindName; hex: string; decoded: [string, string][]; note: string }
  | { type: 'event'; name: string; debug: string; hex: string };

const { cases } = loadGolden<{ cases: WireCase[] }>('core-wire.json');

const sampleEvent = t.enumOf({
  Ping: t.unit,
  Echo: t.string,
  Move: t.struct({ x: t.i32, y: t.i64 }),
  Batch: t.vec(t.tuple(t.string, t.u64)),
  Set: t.tuple(t.string, t.bytes),
});
const events: Record<string, Infer<typeof sampleEvent>> = {
  Ping: { type: 'Ping' },
  Echo: { type: 'Echo', value: 'hello \u{1F600}' },
  Move: { type: 'Move', x: -5, y: 1n << 40n },
  Batch: { type: 'Batch', value: [['a', 0n], ['b', (1n << 64n) - 1n]] },
  Set: { type: 'Set', value: ['k', new Uint8Array([0, 1, 255])] },
};

describe('encoded_diff: Vec<(K, V)>', () => {
  for (const c of cases) {
    if (c.type !== 'diffEntries') continue;
    it(c.name, () => {
      const k = kindOf(c.keyKind);
      const v = kindOf(c.valueKind);
      const pairs = c.pairs.map(([a, b]) => [valueOf(c.keyKind, a), valueOf(c.valueKind, b)] as const);
      expect(toHex(encodeDiffEntries(pairs, k, v))).toBe(c.hex);
      expect(toHex(encodeDiffEntries(new Diff(pairs, false, 0n, 1n), k, v))).toBe(c.hex);
      const back = decodeDiffEntries(fromHex(c.hex), k, v);
      expect(back.map(([a, b]) => [a, b])).toEqual(pairs.map(([a, b]) => [a, b]));
    });
  }

  it('truncated input is a DecodeError', () => {
    const c = cases.find((c) => c.name === 'unicode and empty strings')!;
    const bytes = fromHex(c.hex);
    for (let cut = 0; cut < bytes.length; cut++) {
      expect(() => decodeDiffEntries(bytes.subarray(0, cut), kindOf('string'), kindOf('string'))).toThrow(DecodeError);
    }
  });
});

describe('init_data: HashMap<K, V>', () => {
  for (const c of cases) {
    if (c.type !== 'initData') continue;
    it(`${c.name}: decodes as Rust does`, () => {
      const got = decodeInitData(fromHex(c.hex), kindOf(c.keyKind), kindOf(c.valueKind));
      expect(pairSet(got)).toEqual(goldenPairSet(c.decoded));
      expect(got.length).toBe(c.decoded.length);
    });
    if (c.note !== 'bytes of a Vec of pairs') {
      it(`${c.name}: a map pushed in the same order encodes to the same bytes`, () => {
        // BTreeMap / one-entry HashMap bytes: entries in key order.
        const map = new StateMap<any, any>({ key: kindOf(c.keyKind), value: kindOf(c.valueKind) });
        const pairs = c.decoded.map(([a, b]) => [valueOf(c.keyKind, a), valueOf(c.valueKind, b)] as const);
        const kind = kindOf(c.keyKind);
        for (const [a, b] of [...pairs].sort((x, y) => kind.compare(x[0], y[0]))) map.push(a, b);
        expect(toHex(encodeInitData(map))).toBe(c.hex);
      });
    }
  }
});

describe('Event', () => {
  for (const c of cases) {
    if (c.type !== 'event') continue;
    it(`${c.name} (${c.debug})`, () => {
      const e = new Event(sampleEvent, events[c.name]!);
      expect(toHex(e.serialize())).toBe(c.hex);
      expect(Event.deserialize(sampleEvent, fromHex(c.hex)).content).toEqual(events[c.name]);
    });
  }

  it('covers every recorded event', () => {
    expect(cases.filter((c) => c.type === 'event').map((c) => c.name).sort()).toEqual(Object.keys(events).sort());
  });

  it('bad bytes are a DecodeError; trailing bytes are ignored unless strict', () => {
    expect(() => Event.deserialize(sampleEvent, new Uint8Array([9]))).toThrow(DecodeError);
    expect(Event.deserialize(sampleEvent, new Uint8Array([0, 0xff])).content).toEqual({ type: 'Ping' });
    expect(() => Event.deserialize(sampleEvent, new Uint8Array([0, 0xff]), { strict: true })).toThrow(DecodeError);
  });
});
