// The database layout, its version, and the migrations from older layouts.
//
// A file is ours when its `PRAGMA application_id` is APPLICATION_ID; its
// `PRAGMA user_version` is the schema version. Each migration moves a file
// from `from` to `from + 1` inside the opening transaction, so a failed
// migration leaves the file as it was.
//
// Layout (version 2):
// - meta: the key and value kinds the rows were written with.
// - maps: one row per map; `update_id` is the id of the last stored change.
// - pairs: the current value of every key; `slot` is the key's push order
//   (full diffs list pairs in that order). Keyed by (map, key) so a change
//   updates its row by key; slots are dense, so loading needs no sort.
// - history: one row per stored history entry, oldest first by `seq`;
//   `pairs` is the entry's pairs as bincode Vec<(K, V)> (the wire's
//   encoded_diff). Trimming deletes the oldest rows.
// Keys and values are stored as their bincode bytes. Update ids are SQLite
// integers (signed 64-bit): ids of 2^63 and above are refused.
//
// Big maps (PARTS_MIN_PAIRS pairs and more; see parts.ts, create.ts), an
// addition within version 2 that files get when they first store one:
// - parts: the pairs as the map was created, in push order, as bincode
//   Vec<(K, V)> blobs of about PART_BYTES each, numbered from 0. A million
//   pairs load from a few dozen reads rather than a million rows.
// - pairs then holds only the keys whose value changed since.
// - a history row whose `pairs` is empty (0 bytes; an encoded Vec has at
//   least its count byte) holds exactly the parts' pairs: the full diff of
//   freeze, not stored twice.
// - meta row 'creating <id>' while a big map's rows are written over several
//   transactions; its `maps` row comes last, so it is served only once
//   complete, and a read-write open deletes the rows of a creation a crash
//   interrupted (its Init was never answered).
// Files without big maps are exactly version 2. Earlier versions of this
// package refuse a big map as damaged (CorruptDatabaseError) rather than
// misread it.

import type { Connection } from './connection.js';

/** "SYNC" */
export const APPLICATION_ID = 0x53594e43;
export const SCHEMA_VERSION = 2;

export const CURRENT_SCHEMA = `
CREATE TABLE meta (
  name TEXT PRIMARY KEY,
  value TEXT NOT NULL
) WITHOUT ROWID;
CREATE TABLE maps (
  id INTEGER PRIMARY KEY,
  hash BLOB NOT NULL UNIQUE CHECK (length(hash) = 32),
  update_id INTEGER NOT NULL CHECK (update_id >= 0),
  is_master INTEGER NOT NULL CHECK (is_master IN (0, 1)),
  pair_count INTEGER NOT NULL
);
CREATE TABLE pairs (
  map_id INTEGER NOT NULL,
  key BLOB NOT NULL,
  slot INTEGER NOT NULL,
  value BLOB NOT NULL,
  PRIMARY KEY (map_id, key)
) WITHOUT ROWID;
CREATE TABLE history (
  map_id INTEGER NOT NULL,
  seq INTEGER NOT NULL,
  from_id INTEGER NOT NULL,
  upto_id INTEGER NOT NULL,
  pairs BLOB NOT NULL,
  PRIMARY KEY (map_id, seq)
) WITHOUT ROWID;
`;

/** Created by the first big map a file stores. */
export const PARTS_TABLE = `
CREATE TABLE IF NOT EXISTS parts (
  map_id INTEGER NOT NULL,
  part INTEGER NOT NULL,
  pairs BLOB NOT NULL,
  PRIMARY KEY (map_id, part)
);
`;

/** Tables a current file must have (a file with our id but without them is refused as damaged). */
export const REQUIRED_TABLES = ['meta', 'maps', 'pairs', 'history'] as const;

export interface Migration {
  from: number;
  describe: string;
  up(db: Connection): void;
}

/**
 * Version 1 (the first layout) keyed every row by the 32-byte hash and kept
 * no record of the kinds:
 *   maps (hash BLOB PRIMARY KEY, update_id INTEGER, is_master INTEGER)
 *   pairs (hash BLOB, slot INTEGER, key BLOB, value BLOB, PRIMARY KEY (hash, slot))
 *   history (hash BLOB, seq INTEGER, from_id INTEGER, upto_id INTEGER, pairs BLOB,
 *            PRIMARY KEY (hash, seq))
 * all WITHOUT ROWID. Version 2 gives maps an integer id (rows 32 bytes
 * smaller, and the per-change updates find pairs by key), records the kinds,
 * and counts pairs. History blobs are unchanged.
 */
const v1ToV2: Migration = {
  from: 1,
  describe: 'integer map ids, pairs keyed by key, meta table',
  up(db) {
    db.exec(`
      ALTER TABLE maps RENAME TO maps_v1;
      ALTER TABLE pairs RENAME TO pairs_v1;
      ALTER TABLE history RENAME TO history_v1;
      ${CURRENT_SCHEMA}
      INSERT INTO maps (hash, update_id, is_master, pair_count)
        SELECT m.hash, m.update_id, m.is_master, (SELECT count(*) FROM pairs_v1 p WHERE p.hash = m.hash)
        FROM maps_v1 m ORDER BY m.hash;
      INSERT INTO pairs (map_id, key, slot, value)
        SELECT m.id, p.key, p.slot, p.value FROM pairs_v1 p JOIN maps m ON m.hash = p.hash;
      INSERT INTO history (map_id, seq, from_id, upto_id, pairs)
        SELECT m.id, h.seq, h.from_id, h.upto_id, h.pairs FROM history_v1 h JOIN maps m ON m.hash = h.hash;
      DROP TABLE history_v1;
      DROP TABLE pairs_v1;
      DROP TABLE maps_v1;
    `);
  },
};

/** Oldest first; `migrations[i].from === i + 1`. */
export const MIGRATIONS: readonly Migration[] = [v1ToV2];
