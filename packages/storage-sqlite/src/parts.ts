// A big map's pairs as parts: bincode Vec<(K, V)> blobs of about PART_BYTES
// each, in push order. Blob by blob, the writes and reads cost a few
// milliseconds each (a row per pair cost microseconds per pair), and the
// event loop runs between them.

import { Writer } from '@syncstate-ts/codec';
import { inSlices, type Kind, type Pace } from '@syncstate-ts/core';

/** Maps of at least this many pairs are stored in parts; smaller ones a row per pair (a change updates its row). */
export const PARTS_MIN_PAIRS = 4096;

/** Target size of a part: one insert or read of it takes a few milliseconds. */
export const PART_BYTES = 256 * 1024;

/**
 * The pairs as Vec<(K, V)> blobs, each cut once it reaches `maxBytes`
 * (Infinity: one blob), encoded in slices.
 */
export async function encodePairBlobs<K, V>(
  keys: readonly K[],
  values: readonly V[],
  key: Kind<K>,
  value: Kind<V>,
  pace: Pace,
  maxBytes = PART_BYTES,
): Promise<Uint8Array[]> {
  const blobs: Uint8Array[] = [];
  const body = new Writer(Number.isFinite(maxBytes) ? maxBytes + 4096 : 1024);
  let count = 0;
  const cut = (): void => {
    const head = new Writer(16);
    head.writeVarint(count); // a Vec's length: varint u64
    const bytes = body.view();
    const blob = new Uint8Array(head.length + bytes.length);
    blob.set(head.view());
    blob.set(bytes, head.length);
    blobs.push(blob);
    body.reset();
    count = 0;
  };
  const ks = key.schema;
  const vs = value.schema;
  await inSlices(keys.length, pace, (a, b) => {
    for (let i = a; i < b; i++) {
      ks.write(body, keys[i]!);
      vs.write(body, values[i]!);
      count++;
      if (body.length >= maxBytes) cut();
    }
  });
  if (count > 0 || blobs.length === 0) cut();
  return blobs;
}
