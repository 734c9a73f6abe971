// Storing a new map. A small map: its row, a row per pair and its history,
// in one transaction, as always. A big map (PARTS_MIN_PAIRS pairs and more):
// its parts and history a few hundred KiB per transaction, then its maps row
// in a last one. One transaction of the whole map (24 MB for a million
// pairs) would hold the event loop for the write and its sync; between these
// small ones it runs. Without its maps row the map is not served, and a
// crash leaves rows that the next read-write open deletes (meta records the
// creation in progress): its Init was never answered, so no client relies
// on it.

import { encode } from '@syncstate-ts/codec';
import { type Diff, encodeDiffEntries, inSlices, type Kind, type Pace } from '@syncstate-ts/core';
import type { StoredMap } from '@syncstate-ts/storage';
import type { GroupCommit } from './batch.js';
import { encodePairBlobs, PART_BYTES, PARTS_MIN_PAIRS } from './parts.js';
import { PARTS_TABLE } from './schema.js';
import type { Statements } from './statements.js';

export interface WriteContext<K, V> {
  sql: Statements;
  commits: GroupCommit;
  key: Kind<K>;
  value: Kind<V>;
  pace: Pace;
  /** Throws if the storage was closed meanwhile (before each transaction). */
  open(): void;
  /** Refuses update ids SQLite cannot store. */
  checkId(id: bigint): bigint;
  /** A map id never used in the file. */
  nextId(): number;
}

export interface Created {
  id: number;
  inParts: number;
  nextSeq: bigint;
}

/** Resolves once the map is durable and complete; on failure nothing of it is served. */
export async function createMap<K, V>(c: WriteContext<K, V>, hash: Uint8Array, hashHex: string, map: StoredMap<K, V>): Promise<Created> {
  const updateId = c.checkId(map.updateId);
  const size = map.keys.length;
  if (size < PARTS_MIN_PAIRS) return createSmall(c, hash, map, updateId);

  const { keys, values } = map;
  const parts = await encodePairBlobs(keys, values, c.key, c.value, c.pace);
  const rows: Array<{ from: bigint; upto: bigint; pairs: Uint8Array }> = [];
  for (const entry of map.history) {
    // Empty pairs: the entry is the parts' pairs (see schema.ts).
    const pairs = (await holdsExactly(entry, keys, values, c.pace))
      ? new Uint8Array(0)
      : (await encodePairBlobs(entry.keys, entry.values, c.key, c.value, c.pace, Infinity))[0]!;
    rows.push({ from: c.checkId(entry.fromUpdateId), upto: c.checkId(entry.uptoUpdateId), pairs });
  }

  const run = (write: () => (() => void) | undefined): Promise<void> => {
    c.open();
    return c.commits.run(write);
  };
  if (!c.sql.hasParts) await run(() => (c.sql.createParts(PARTS_TABLE), () => c.sql.partsCreated()));
  const id = c.nextId();
  let begun = false;
  try {
    await run(() => {
      c.sql.creating(id, hashHex);
      c.sql.insertPart(id, 0, parts[0]!);
      return () => (begun = true);
    });
    for (let p = 1; p < parts.length; p++) await run(() => void c.sql.insertPart(id, p, parts[p]!));
    for (let seq = 0; seq < rows.length; ) {
      const first = seq;
      let bytes = 0;
      while (seq < rows.length && (seq === first || bytes + rows[seq]!.pairs.length <= PART_BYTES)) bytes += rows[seq++]!.pairs.length;
      await run(() => {
        for (let s = first; s < seq; s++) {
          const r = rows[s]!;
          c.sql.insertHistory(id, BigInt(s), r.from, r.upto, r.pairs);
        }
        return undefined;
      });
    }
    // The maps row last: from this commit on the map exists.
    await run(() => {
      c.sql.insertMap(id, hash, updateId, size);
      c.sql.created(id);
      return undefined;
    });
  } catch (err) {
    // Best effort: what is left now is deleted by the next read-write open.
    if (begun) await Promise.resolve().then(() => run(() => void c.sql.dropUnfinished(id))).catch(() => undefined);
    throw err;
  }
  return { id, inParts: size, nextSeq: BigInt(rows.length) };
}

async function createSmall<K, V>(c: WriteContext<K, V>, hash: Uint8Array, map: StoredMap<K, V>, updateId: bigint): Promise<Created> {
  let created: Created | undefined;
  const id = c.nextId();
  const { keys, values } = map;
  await c.commits.run(() => {
    c.sql.insertMap(id, hash, updateId, keys.length);
    for (let slot = 0; slot < keys.length; slot++) {
      c.sql.insertPair(id, encode(c.key.schema, keys[slot]!), slot, encode(c.value.schema, values[slot]!));
    }
    let seq = 0n;
    for (const entry of map.history) {
      const pairs = encodeDiffEntries(entry, c.key, c.value);
      c.sql.insertHistory(id, seq++, c.checkId(entry.fromUpdateId), c.checkId(entry.uptoUpdateId), pairs);
    }
    return () => (created = { id, inParts: 0, nextSeq: seq });
  });
  return created!;
}

/** Whether the entry lists exactly these pairs, in this order (the full diff of freeze, no change since). */
async function holdsExactly<K, V>(entry: Diff<K, V>, keys: readonly K[], values: readonly V[], pace: Pace): Promise<boolean> {
  const ek = entry.keys;
  const ev = entry.values;
  if (ek.length !== keys.length) return false;
  let same = true;
  await inSlices(ek.length, pace, (a, b) => {
    for (let i = a; same && i < b; i++) if (ek[i] !== keys[i] || ev[i] !== values[i]) same = false;
  });
  return same;
}
