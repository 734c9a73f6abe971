// The nested payloads that carry map data (docs/protocol.md, "Messages"):
// `encoded_diff` is the diff's pairs as bincode `Vec<(K, V)>`, `init_data`
// the map as bincode `HashMap<K, V>` (varint count, then key, value...).

import { decode, Reader, t, Writer } from '@syncstate-ts/codec';
import type { DecodeOptions } from '@syncstate-ts/codec';
import { Diff } from './diff.js';
import type { Kind } from './kinds.js';
import { inSlices, type Pace } from './pace.js';

/** bincode `Vec<(K, V)>` of a diff's pairs (or of any pairs). */
export function encodeDiffEntries<K, V>(
  diff: Diff<K, V> | Iterable<readonly [K, V]>,
  key: Kind<K>,
  value: Kind<V>,
): Uint8Array {
  if (diff instanceof Diff) return encodePairs(diff.keys, diff.values, key, value);
  const keys: K[] = [];
  const values: V[] = [];
  for (const [k, v] of diff) {
    keys.push(k);
    values.push(v);
  }
  return encodePairs(keys, values, key, value);
}

/** `encodeDiffEntries` of a diff in slices (`pace`): a full diff of a million pairs is 24 MB of bincode. */
export async function encodeDiffEntriesSliced<K, V>(diff: Diff<K, V>, key: Kind<K>, value: Kind<V>, pace: Pace | undefined): Promise<Uint8Array> {
  const keys = diff.keys;
  const values = diff.values;
  const w = new Writer();
  t.u64.write(w, BigInt(keys.length));
  const ks = key.schema;
  const vs = value.schema;
  await inSlices(keys.length, pace, (a, b) => {
    for (let i = a; i < b; i++) {
      ks.write(w, keys[i]!);
      vs.write(w, values[i]!);
    }
  });
  return w.finish();
}

/** Pairs of a bincode `Vec<(K, V)>`, in order (repeats kept, as Rust keeps them). */
export function decodeDiffEntries<K, V>(
  bytes: Uint8Array,
  key: Kind<K>,
  value: Kind<V>,
  options?: DecodeOptions,
): Array<[K, V]> {
  return decode(t.vec(t.tuple(key.schema, value.schema)), bytes, options) as Array<[K, V]>;
}

/** bincode `HashMap<K, V>` of a map's current pairs (what Rust's remote sends as Init data). */
export function encodeInitData<K, V>(map: { keyKind: Kind<K>; valueKind: Kind<V>; entries(): Iterable<[K, V]> }): Uint8Array {
  const keys: K[] = [];
  const values: V[] = [];
  for (const [k, v] of map.entries()) {
    keys.push(k);
    values.push(v);
  }
  return encodePairs(keys, values, map.keyKind, map.valueKind);
}

/**
 * Pairs of a bincode `HashMap<K, V>`, one per key: a repeated key keeps its
 * last value (as Rust's HashMap does), at its first position.
 */
export function decodeInitData<K, V>(
  bytes: Uint8Array,
  key: Kind<K>,
  value: Kind<V>,
  options?: DecodeOptions,
): Array<[K, V]> {
  return [...decode(t.map(key.schema, value.schema), bytes, options)] as Array<[K, V]>;
}

/** Pairs as two columns, in their order on the wire (repeats kept). */
export interface PairColumns<K, V> {
  keys: K[];
  values: V[];
}

/**
 * The pairs of a bincode `Vec<(K, V)>` or `HashMap<K, V>` (the same bytes: a
 * count, then key, value...), in order, repeats kept, read in slices
 * (`pace`): a million pairs take seconds. Fails as `decode` does (a count the
 * input cannot hold is refused before anything is allocated); with
 * `options.strict`, also on trailing bytes.
 */
export async function decodePairsSliced<K, V>(
  bytes: Uint8Array,
  key: Kind<K>,
  value: Kind<V>,
  pace: Pace | undefined,
  options?: DecodeOptions,
): Promise<PairColumns<K, V>> {
  const r = new Reader(bytes, 0, options);
  const ks = key.schema;
  const vs = value.schema;
  const at = r.offset;
  const n = r.readLength();
  r.claimElements(n, (ks.minSize ?? 1) + (vs.minSize ?? 1), at);
  const keys = new Array<K>(n);
  const values = new Array<V>(n);
  await inSlices(n, pace, (a, b) => {
    for (let i = a; i < b; i++) {
      keys[i] = ks.read(r);
      values[i] = vs.read(r);
    }
  });
  if (options?.strict === true) r.expectEnd();
  return { keys, values };
}

function encodePairs<K, V>(keys: readonly K[], values: readonly V[], key: Kind<K>, value: Kind<V>): Uint8Array {
  const w = new Writer();
  // A Vec's length and a HashMap's count are both a varint u64.
  t.u64.write(w, BigInt(keys.length));
  const ks = key.schema;
  const vs = value.schema;
  for (let i = 0; i < keys.length; i++) {
    ks.write(w, keys[i]!);
    vs.write(w, values[i]!);
  }
  return w.finish();
}
