// The prepared statements of the storage, typed. Integer columns are read as
// bigint (safeIntegers): update ids are u64s.

import type Database from 'better-sqlite3';

export interface MapRow {
  id: bigint;
  hash: Uint8Array;
  update_id: bigint;
  is_master: bigint;
  pair_count: bigint;
}

export interface PairRow {
  key: Uint8Array;
  slot: bigint;
  value: Uint8Array;
}

export interface HistoryRow {
  seq: bigint;
  from_id: bigint;
  upto_id: bigint;
  pairs: Uint8Array;
}

export class Statements {
  readonly #findMap: Database.Statement<[Uint8Array], MapRow>;
  readonly #hashes: Database.Statement<[], Uint8Array>;
  readonly #pairs: Database.Statement<[bigint], PairRow>;
  readonly #history: Database.Statement<[bigint], HistoryRow>;
  readonly #insertMap: Database.Statement<[Uint8Array, bigint, number, number]>;
  readonly #insertPair: Database.Statement<[number, Uint8Array, number, Uint8Array]>;
  readonly #insertHistory: Database.Statement<[number, bigint, bigint, bigint, Uint8Array]>;
  readonly #updatePair: Database.Statement<[Uint8Array, number, Uint8Array]>;
  readonly #setUpdateId: Database.Statement<[bigint, number]>;
  readonly #trim: Database.Statement<{ map: number; upto: bigint }>;

  constructor(db: Database.Database) {
    this.#findMap = db.prepare<[Uint8Array], MapRow>('SELECT id, hash, update_id, is_master, pair_count FROM maps WHERE hash = ?').safeIntegers();
    this.#hashes = db.prepare<[], Uint8Array>('SELECT hash FROM maps ORDER BY id').pluck();
    this.#pairs = db.prepare<[bigint], PairRow>('SELECT key, slot, value FROM pairs WHERE map_id = ?').safeIntegers();
    this.#history = db
      .prepare<[bigint], HistoryRow>('SELECT seq, from_id, upto_id, pairs FROM history WHERE map_id = ? ORDER BY seq')
      .safeIntegers();
    this.#insertMap = db.prepare('INSERT INTO maps (hash, update_id, is_master, pair_count) VALUES (?, ?, ?, ?)');
    this.#insertPair = db.prepare('INSERT INTO pairs (map_id, key, slot, value) VALUES (?, ?, ?, ?)');
    this.#insertHistory = db.prepare('INSERT INTO history (map_id, seq, from_id, upto_id, pairs) VALUES (?, ?, ?, ?, ?)');
    this.#updatePair = db.prepare('UPDATE pairs SET value = ? WHERE map_id = ? AND key = ?');
    this.#setUpdateId = db.prepare('UPDATE maps SET update_id = ? WHERE id = ?');
    // The oldest rows up to the first one ending above `upto` (a prefix, found by walking from the oldest).
    this.#trim = db.prepare(`
      DELETE FROM history WHERE map_id = :map AND seq < coalesce(
        (SELECT seq FROM history WHERE map_id = :map AND upto_id > :upto ORDER BY seq LIMIT 1),
        9223372036854775807)`);
  }

  findMap(hash: Uint8Array): MapRow | undefined {
    return this.#findMap.get(hash);
  }

  hashes(): Uint8Array[] {
    return this.#hashes.all();
  }

  pairs(mapId: bigint): IterableIterator<PairRow> {
    return this.#pairs.iterate(mapId);
  }

  history(mapId: bigint): IterableIterator<HistoryRow> {
    return this.#history.iterate(mapId);
  }

  /** Returns the new map's id. */
  insertMap(hash: Uint8Array, updateId: bigint, isMaster: boolean, pairCount: number): number {
    return Number(this.#insertMap.run(hash, updateId, isMaster ? 1 : 0, pairCount).lastInsertRowid);
  }

  insertPair(mapId: number, key: Uint8Array, slot: number, value: Uint8Array): void {
    this.#insertPair.run(mapId, key, slot, value);
  }

  insertHistory(mapId: number, seq: bigint, from: bigint, upto: bigint, pairs: Uint8Array): void {
    this.#insertHistory.run(mapId, seq, from, upto, pairs);
  }

  /** Returns the number of rows changed (0: no such key). */
  updatePair(mapId: number, key: Uint8Array, value: Uint8Array): number {
    return this.#updatePair.run(value, mapId, key).changes;
  }

  setUpdateId(mapId: number, updateId: bigint): void {
    this.#setUpdateId.run(updateId, mapId);
  }

  trim(mapId: number, upto: bigint): void {
    this.#trim.run({ map: mapId, upto });
  }
}
