// Reading a stored map back as the contract's record (StoredMap), in slices:
// its parts (big maps), its pair rows (every pair of a small map; the changed
// ones of a big map) and its history. Rows are read page by page, so other
// maps' reads and writes run between the pages of a big map.

import { decode } from '@syncstate-ts/codec';
import { decodePairsSliced, Diff, inSlices, type Kind, type Pace } from '@syncstate-ts/core';
import type { StoredMap } from '@syncstate-ts/storage';
import type { MapRow, Statements } from './statements.js';

/** What the storage keeps of a map it read. */
export interface LoadedMap<K, V> {
  stored: StoredMap<K, V>;
  /** Pairs held in parts (0: a map of rows only). */
  inParts: number;
  /** seq of the next history row. */
  nextSeq: bigint;
}

export interface ReadContext<K, V> {
  sql: Statements;
  key: Kind<K>;
  value: Kind<V>;
  pace: Pace;
  /** Throws if the storage was closed meanwhile (before each statement). */
  open(): void;
}

const PAIR_ROWS = 2048;
const HISTORY_ROWS = 256;
const strict = { strict: true } as const;

/** Throws CorruptDatabaseError-worthy plain errors for rows that do not fit together; the caller wraps them. */
export async function readMap<K, V>(c: ReadContext<K, V>, row: MapRow): Promise<LoadedMap<K, V>> {
  const count = Number(row.pair_count);
  const keys = new Array<K>(count);
  const values = new Array<V>(count);

  // 1. Parts: the pairs as created, in push order.
  let inParts = 0;
  for (let p = 0; ; p++) {
    c.open();
    const blob = c.sql.part(row.id, p);
    if (blob === undefined) break;
    const part = await decodePairsSliced(plain(blob), c.key, c.value, c.pace, strict);
    if (inParts + part.keys.length > count) throw new Error(`parts hold more than the ${count} pairs of the map`);
    await inSlices(part.keys.length, c.pace, (a, b) => {
      for (let i = a; i < b; i++) {
        keys[inParts + i] = part.keys[i]!;
        values[inParts + i] = part.values[i]!;
      }
    });
    inParts += part.keys.length;
  }

  // 2. History, while `values` are still the parts' (a base row lists them).
  const history: Diff<K, V>[] = [];
  let nextSeq = 0n;
  for (;;) {
    c.open();
    const rows = c.sql.history(row.id, nextSeq, HISTORY_ROWS);
    for (const h of rows) {
      if (h.pairs.length === 0) {
        if (inParts !== count) throw new Error(`history row ${h.seq} lists the parts, which hold ${inParts} of ${count} pairs`);
        history.push(Diff.fromColumns(keys, values, false, h.from_id, h.upto_id));
      } else {
        const pairs = await decodePairsSliced(plain(h.pairs), c.key, c.value, c.pace, strict);
        history.push(Diff.fromColumns(pairs.keys, pairs.values, false, h.from_id, h.upto_id));
      }
      nextSeq = h.seq + 1n;
    }
    if (rows.length < HISTORY_ROWS) break;
    if (c.pace.due()) await c.pace.pause();
  }

  // 3. Pair rows: current values (over the parts' for slots they hold).
  let current = values;
  let filled = inParts;
  let after: Uint8Array | undefined;
  for (;;) {
    c.open();
    const rows = c.sql.pairs(row.id, after, PAIR_ROWS);
    for (const p of rows) {
      const slot = Number(p.slot);
      const k = decode(c.key.schema, plain(p.key), strict);
      const v = decode(c.value.schema, plain(p.value), strict);
      if (slot < 0 || slot >= count) throw new Error(`pair slot ${slot} out of place`);
      if (slot < inParts) {
        if (!c.key.equals(keys[slot]!, k)) throw new Error(`pair slot ${slot} names another key than its part`);
        if (current === values) current = values.slice(); // the base history entry keeps the parts' values
      } else {
        if (keys[slot] !== undefined) throw new Error(`pair slot ${slot} out of place`);
        keys[slot] = k;
        filled++;
      }
      current[slot] = v;
    }
    if (rows.length < PAIR_ROWS) break;
    after = rows[rows.length - 1]!.key;
    if (c.pace.due()) await c.pace.pause();
  }
  if (filled !== count) throw new Error(`${filled} pairs stored, ${count} expected`);

  if (row.is_master !== 1n) throw new Error('the map is not a master map');
  const stored = { hash: plain(row.hash).slice(), keys, values: current, updateId: row.update_id, history };
  return { stored, inParts, nextSeq };
}

/** better-sqlite3 returns Buffers; decoded byte values should be plain Uint8Arrays like the ones clients send (node:sqlite gives those). */
export function plain(b: Uint8Array): Uint8Array {
  return new Uint8Array(b.buffer, b.byteOffset, b.byteLength);
}
