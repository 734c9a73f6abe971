// The prepared statements of the storage, typed. Integer columns are read as
// bigint: update ids are u64s. Reads of a map go page by page
// (never `iterate()`, which keeps the connection busy until it ends), so a
// big map is read in slices with other maps' writes in between.

import type { Connection, Statement } from './connection.js';

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
  /** Empty: the entry holds exactly the map's parts (see schema.ts). */
  pairs: Uint8Array;
}

/** The meta row of a big map being created (its rows are written, its maps row is not yet). */
const CREATING = 'creating ';

const bigints = { bigints: true } as const;
const pluck = { pluck: true } as const;

export class Statements {
  readonly #db: Connection;
  readonly #findMap: Statement<[Uint8Array], MapRow>;
  readonly #hashes: Statement<[], Uint8Array>;
  readonly #maxId: Statement<[], bigint | null>;
  /** Prepared once the file has a parts table. */
  #part: Statement<[bigint, number], Uint8Array> | undefined;
  #insertPart: Statement<[number, number, Uint8Array]> | undefined;
  readonly #firstPairs: Statement<[bigint, number], PairRow>;
  readonly #nextPairs: Statement<[bigint, Uint8Array, number], PairRow>;
  readonly #history: Statement<[bigint, bigint, number], HistoryRow>;
  readonly #insertMap: Statement<[number, Uint8Array, bigint, number, number]>;
  readonly #insertPair: Statement<[number, Uint8Array, number, Uint8Array]>;
  readonly #insertHistory: Statement<[number, bigint, bigint, bigint, Uint8Array]>;
  readonly #updatePair: Statement<[Uint8Array, number, Uint8Array]>;
  readonly #upsertPair: Statement<[number, Uint8Array, number, Uint8Array]>;
  readonly #setUpdateId: Statement<[bigint, number]>;
  readonly #creating: Statement<[string, string]>;
  readonly #created: Statement<[string]>;
  readonly #unfinished: Statement<[], string>;
  readonly #deleteRows: Statement<[{ id: number }]>[];
  readonly #trim: Statement<[{ map: number; upto: bigint }]>;
  #deleteParts: Statement<[{ id: number }]> | undefined;

  constructor(db: Connection) {
    this.#db = db;
    this.#findMap = db.prepare<[Uint8Array], MapRow>('SELECT id, hash, update_id, is_master, pair_count FROM maps WHERE hash = ?', bigints);
    this.#hashes = db.prepare<[], Uint8Array>('SELECT hash FROM maps ORDER BY id', pluck);
    this.#maxId = db.prepare<[], bigint | null>('SELECT max(id) FROM maps', { pluck: true, bigints: true });
    this.#firstPairs = db.prepare<[bigint, number], PairRow>('SELECT key, slot, value FROM pairs WHERE map_id = ? ORDER BY key LIMIT ?', bigints);
    this.#nextPairs = db.prepare<[bigint, Uint8Array, number], PairRow>(
      'SELECT key, slot, value FROM pairs WHERE map_id = ? AND key > ? ORDER BY key LIMIT ?',
      bigints,
    );
    this.#history = db.prepare<[bigint, bigint, number], HistoryRow>(
      'SELECT seq, from_id, upto_id, pairs FROM history WHERE map_id = ? AND seq >= ? ORDER BY seq LIMIT ?',
      bigints,
    );
    // Ids are given by the storage (nextId), never by SQLite: a big map's rows use its id before its maps row exists.
    this.#insertMap = db.prepare('INSERT INTO maps (id, hash, update_id, is_master, pair_count) VALUES (?, ?, ?, ?, ?)');
    this.#insertPair = db.prepare('INSERT INTO pairs (map_id, key, slot, value) VALUES (?, ?, ?, ?)');
    this.#insertHistory = db.prepare('INSERT INTO history (map_id, seq, from_id, upto_id, pairs) VALUES (?, ?, ?, ?, ?)');
    this.#updatePair = db.prepare('UPDATE pairs SET value = ? WHERE map_id = ? AND key = ?');
    this.#upsertPair = db.prepare(
      'INSERT INTO pairs (map_id, key, slot, value) VALUES (?, ?, ?, ?) ON CONFLICT (map_id, key) DO UPDATE SET value = excluded.value',
    );
    this.#setUpdateId = db.prepare('UPDATE maps SET update_id = ? WHERE id = ?');
    this.#creating = db.prepare('INSERT INTO meta (name, value) VALUES (?, ?)');
    this.#created = db.prepare('DELETE FROM meta WHERE name = ?');
    this.#unfinished = db.prepare<[], string>(`SELECT name FROM meta WHERE name LIKE '${CREATING}%'`, pluck);
    this.#deleteRows = ['pairs', 'history'].map((table) => db.prepare(`DELETE FROM ${table} WHERE map_id = :id`));
    if (db.value("SELECT count(*) FROM sqlite_schema WHERE type = 'table' AND name = 'parts'") === 1) this.#prepareParts();
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

  /** The largest map id in use (0 for none). */
  maxId(): number {
    return Number(this.#maxId.get() ?? 0n);
  }

  get hasParts(): boolean {
    return this.#part !== undefined;
  }

  /** Creates the parts table (in the caller's transaction; call `partsCreated` once it is committed). */
  createParts(ddl: string): void {
    this.#db.exec(ddl);
  }

  partsCreated(): void {
    this.#prepareParts();
  }

  /** Part `part` of a big map's pairs, or undefined past the last one (or in a file without parts). */
  part(mapId: bigint, part: number): Uint8Array | undefined {
    return this.#part?.get(mapId, part);
  }

  insertPart(mapId: number, part: number, pairs: Uint8Array): void {
    this.#insertPart!.run(mapId, part, pairs);
  }

  /** Up to `limit` pair rows, by key, after `afterKey` (from the first with undefined). */
  pairs(mapId: bigint, afterKey: Uint8Array | undefined, limit: number): PairRow[] {
    return afterKey === undefined ? this.#firstPairs.all(mapId, limit) : this.#nextPairs.all(mapId, afterKey, limit);
  }

  /** Up to `limit` history rows from `fromSeq` on, oldest first. */
  history(mapId: bigint, fromSeq: bigint, limit: number): HistoryRow[] {
    return this.#history.all(mapId, fromSeq, limit);
  }

  /** Every stored map is a server's master map (is_master 1; the column predates the storage contract). */
  insertMap(id: number, hash: Uint8Array, updateId: bigint, pairCount: number): void {
    this.#insertMap.run(id, hash, updateId, 1, pairCount);
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

  /** A big map's changed value: its row, added or updated. */
  upsertPair(mapId: number, key: Uint8Array, slot: number, value: Uint8Array): void {
    this.#upsertPair.run(mapId, key, slot, value);
  }

  setUpdateId(mapId: number, updateId: bigint): void {
    this.#setUpdateId.run(updateId, mapId);
  }

  /** Records that big map `id`'s rows are being written (its maps row comes last). */
  creating(id: number, hashHex: string): void {
    this.#creating.run(`${CREATING}${id}`, hashHex);
  }

  /** Its maps row is in: the record goes (same transaction). */
  created(id: number): void {
    this.#created.run(`${CREATING}${id}`);
  }

  /** Ids of big maps whose creation did not finish. */
  unfinished(): number[] {
    return this.#unfinished.all().map((name) => Number(name.slice(CREATING.length)));
  }

  /** Deletes the rows of an unfinished creation and its record. */
  dropUnfinished(id: number): void {
    for (const statement of this.#deleteRows) statement.run({ id });
    this.#deleteParts?.run({ id });
    this.#created.run(`${CREATING}${id}`);
  }

  trim(mapId: number, upto: bigint): void {
    this.#trim.run({ map: mapId, upto });
  }

  #prepareParts(): void {
    this.#part = this.#db.prepare<[bigint, number], Uint8Array>('SELECT pairs FROM parts WHERE map_id = ? AND part = ?', pluck);
    this.#insertPart = this.#db.prepare('INSERT INTO parts (map_id, part, pairs) VALUES (?, ?, ?)');
    this.#deleteParts = this.#db.prepare('DELETE FROM parts WHERE map_id = :id');
  }
}
