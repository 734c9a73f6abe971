// PostgresStorage: @syncstate-ts/storage's contract, shared by any number of
// servers (SharedMapStorage). Every write of a map happens under its row
// lock (SELECT ... FOR UPDATE on syncstate_maps), so update ids come out in
// one order, once each, whichever server runs the hooks; a server that dies
// loses its connection and with it the lock. Reads catch up with one query
// (updatesSince). Everything a client is told about is committed first.
import { decode, encode } from '@syncstate-ts/codec';
import { decodeDiffEntries, Diff, encodeDiffEntries, type Kind } from '@syncstate-ts/core';
import {
  checkCommit,
  type MapCommit,
  type MapLock,
  type MapUpdates,
  type SharedMapStorage,
  StorageError,
  type StoredMap,
  walkUpdates,
} from '@syncstate-ts/storage';
import pg from 'pg';
import { fromPostgres } from './errors.js';
import { ensureSchema } from './schema.js';

export interface PostgresStorageOptions<K, V> {
  /** e.g. postgres://user:password@host:5432/database (node-postgres connection string). */
  connectionString: string;
  key: Kind<K>;
  value: Kind<V>;
  /** Most connections this server opens (default 16). A map being written holds one until its commit. */
  maxConnections?: number;
  /** How long a request waits for a free connection before failing (default 10,000 ms). */
  connectTimeoutMs?: number;
}

/** Rows per INSERT when a map is created (PostgreSQL takes at most 65,535 parameters; these are arrays, one each). */
const CHUNK = 20_000;
const strict = { strict: true } as const;

export class PostgresStorage<K, V> implements SharedMapStorage<K, V> {
  readonly shared = true;
  readonly durable = true;
  readonly #pool: pg.Pool;
  readonly #key: Kind<K>;
  readonly #value: Kind<V>;
  #closed: Promise<void> | undefined;

  /** Use `openPostgresStorage`, which also creates or checks the schema. */
  constructor(options: PostgresStorageOptions<K, V>) {
    this.#key = options.key;
    this.#value = options.value;
    this.#pool = new pg.Pool({
      connectionString: options.connectionString,
      max: options.maxConnections ?? 16,
      connectionTimeoutMillis: options.connectTimeoutMs ?? 10_000,
    });
    // A connection cut by a PostgreSQL restart: the query in flight (if any) reports it, and the
    // pool drops the connection and opens a new one when needed.
    this.#pool.on('error', () => undefined);
    this.#pool.on('connect', (client) => client.on('error', () => undefined));
  }

  /** Creates the schema in an empty database, or checks the one there. */
  async prepare(): Promise<void> {
    await this.#withClient('preparing the schema', (c) => ensureSchema(c, { key: this.#key.name ?? 'unnamed', value: this.#value.name ?? 'unnamed' }));
  }

  async load(hash: Uint8Array, hashHex: string): Promise<StoredMap<K, V> | undefined> {
    return this.#withClient(`loading map ${hashHex}`, async (c) => {
      // One snapshot: the pairs and history of one commit, whatever other servers write meanwhile.
      await c.query('BEGIN ISOLATION LEVEL REPEATABLE READ READ ONLY');
      try {
        const row = await this.#mapRow(c, hash);
        if (row === undefined) return undefined;
        const pairs = await c.query<{ key: Buffer; value: Buffer }>({
          text: 'SELECT key, value FROM syncstate_pairs WHERE map_id = $1 ORDER BY slot',
          values: [row.id],
        });
        if (pairs.rows.length !== row.pairCount) throw new StorageError('corrupt', `map ${hashHex} has ${pairs.rows.length} pairs stored, ${row.pairCount} expected`);
        const keys = pairs.rows.map((p) => decode(this.#key.schema, p.key, strict));
        const values = pairs.rows.map((p) => decode(this.#value.schema, p.value, strict));
        const history = await this.#history(c, row.id, -1n);
        return { hash: new Uint8Array(hash), keys, values, updateId: row.updateId, history };
      } finally {
        await c.query('COMMIT');
      }
    });
  }

  async peek(hash: Uint8Array, hashHex: string): Promise<{ updateId: bigint } | undefined> {
    this.#open();
    try {
      const got = await this.#pool.query<{ update_id: string }>('SELECT update_id FROM syncstate_maps WHERE hash = $1', [Buffer.from(hash)]);
      return got.rows[0] === undefined ? undefined : { updateId: BigInt(got.rows[0].update_id) };
    } catch (err) {
      throw fromPostgres(err, `reading map ${hashHex}`);
    }
  }

  async create(hash: Uint8Array, hashHex: string, map: StoredMap<K, V>): Promise<void> {
    await this.#withClient(`storing new map ${hashHex}`, async (c) => {
      await c.query('BEGIN');
      try {
        // A concurrent create of the same hash on another server waits here for that one's outcome.
        const inserted = await c.query<{ id: string }>(
          'INSERT INTO syncstate_maps (hash, update_id, pair_count) VALUES ($1, $2, $3) ON CONFLICT (hash) DO NOTHING RETURNING id',
          [Buffer.from(hash), map.updateId.toString(), map.keys.length],
        );
        const id = inserted.rows[0]?.id;
        if (id === undefined) throw new StorageError('duplicate-map', `map ${hashHex} is stored already`);
        for (let a = 0; a < map.keys.length; a += CHUNK) {
          const b = Math.min(map.keys.length, a + CHUNK);
          const slots: number[] = [];
          const keys: Buffer[] = [];
          const values: Buffer[] = [];
          for (let i = a; i < b; i++) {
            slots.push(i);
            keys.push(Buffer.from(encode(this.#key.schema, map.keys[i]!)));
            values.push(Buffer.from(encode(this.#value.schema, map.values[i]!)));
          }
          await c.query(
            'INSERT INTO syncstate_pairs (map_id, slot, key, value) SELECT $1, s, k, v FROM unnest($2::int[], $3::bytea[], $4::bytea[]) AS t (s, k, v)',
            [id, slots, keys, values],
          );
        }
        await this.#insertHistory(c, id, map.history);
        await c.query('COMMIT');
      } catch (err) {
        await c.query('ROLLBACK').catch(() => undefined);
        throw err;
      }
    });
  }

  async commit(hash: Uint8Array, hashHex: string, commit: MapCommit<K, V>): Promise<void> {
    const lock = await this.lock(hash, hashHex, commit.fromUpdateId);
    await lock.commit(commit);
  }

  async updatesSince(hash: Uint8Array, hashHex: string, updateId: bigint): Promise<MapUpdates<K, V> | undefined> {
    this.#open();
    let rows: Array<{ update_id: string; from_id: string | null; upto_id: string | null; pairs: Buffer | null }>;
    try {
      // One statement, one snapshot: nothing new is the common case, a single row with no history.
      rows = (
        await this.#pool.query({
          text: `SELECT m.update_id, h.from_id, h.upto_id, h.pairs FROM syncstate_maps m
                 LEFT JOIN syncstate_history h ON h.map_id = m.id AND h.upto_id > $2 AND m.update_id > $2
                 WHERE m.hash = $1 ORDER BY h.upto_id`,
          values: [Buffer.from(hash), updateId.toString()],
        })
      ).rows;
    } catch (err) {
      throw fromPostgres(err, `reading the updates of map ${hashHex}`);
    }
    if (rows.length === 0) return undefined;
    const stored = BigInt(rows[0]!.update_id);
    const entries = rows.filter((r) => r.upto_id !== null).map((r) => this.#entry(r.from_id!, r.upto_id!, r.pairs!));
    return { updateId: stored, entries: follows(entries, updateId, stored) ? entries : undefined };
  }

  async lock(hash: Uint8Array, hashHex: string, updateId: bigint): Promise<MapLock<K, V>> {
    const c = await this.#connect(`locking map ${hashHex}`);
    let row;
    let updates: MapUpdates<K, V>;
    try {
      row = await this.#lockRow(c, hash);
      if (row === undefined) throw new StorageError('unknown-map', `map ${hashHex} was never created`);
      const entries = row.updateId > updateId ? await this.#history(c, row.id, updateId) : [];
      updates = { updateId: row.updateId, entries: follows(entries, updateId, row.updateId) ? entries : undefined };
    } catch (err) {
      await c.query('ROLLBACK').catch(() => undefined);
      c.release();
      throw fromPostgres(err, `locking map ${hashHex}`);
    }
    const { id, pairCount } = row;
    let done = false;
    const finish = async (sql: 'COMMIT' | 'ROLLBACK', work: () => Promise<void>): Promise<void> => {
      if (done) throw new StorageError('closed', `the lock of map ${hashHex} was already released`);
      done = true;
      let failed: unknown;
      try {
        await work();
        await c.query(sql);
      } catch (err) {
        failed = err;
        await c.query('ROLLBACK').catch(() => undefined);
      }
      c.release(failed instanceof Error && !(failed instanceof StorageError) ? failed : undefined);
      if (failed !== undefined) throw fromPostgres(failed, `committing to map ${hashHex}`);
    };
    return {
      updates,
      commit: (commit) =>
        finish('COMMIT', async () => {
          checkCommit(hashHex, updates.updateId, pairCount, commit);
          await this.#write(c, id, commit);
        }),
      release: () => finish('ROLLBACK', () => Promise.resolve()),
    };
  }

  /** Closes every connection once the queries in flight are done. Idempotent. */
  close(): Promise<void> {
    this.#closed ??= this.#pool.end();
    return this.#closed;
  }

  /** One commit in one statement: its history rows, its changed pairs, the map's update id and floor, the rows below the floor. */
  async #write(c: pg.PoolClient, id: string, commit: MapCommit<K, V>): Promise<void> {
    const { entries, changed, updateId, floor } = commit;
    const slots = changed.map((p) => p.slot);
    const values = changed.map((p) => Buffer.from(encode(this.#value.schema, p.value)));
    await c.query({
      text: `WITH history AS (
               INSERT INTO syncstate_history (map_id, upto_id, from_id, pairs)
               SELECT $1, u, f, p FROM unnest($2::bigint[], $3::bigint[], $4::bytea[]) AS t (u, f, p)),
             pairs AS (
               UPDATE syncstate_pairs SET value = t.v FROM unnest($5::int[], $6::bytea[]) AS t (s, v)
               WHERE map_id = $1 AND slot = t.s),
             trimmed AS (
               DELETE FROM syncstate_history WHERE map_id = $1 AND upto_id <= $8::bigint)
             UPDATE syncstate_maps SET update_id = $7, floor = GREATEST(floor, $8::bigint) WHERE id = $1`,
      values: [
        id,
        entries.map((e) => e.uptoUpdateId.toString()),
        entries.map((e) => e.fromUpdateId.toString()),
        entries.map((e) => Buffer.from(encodeDiffEntries(e, this.#key, this.#value))),
        slots,
        values,
        updateId.toString(),
        floor === undefined ? null : floor.toString(),
      ],
    });
  }

  async #insertHistory(c: pg.PoolClient, id: string, history: readonly Diff<K, V>[]): Promise<void> {
    for (const entry of history) {
      await c.query('INSERT INTO syncstate_history (map_id, upto_id, from_id, pairs) VALUES ($1, $2, $3, $4)', [
        id,
        entry.uptoUpdateId.toString(),
        entry.fromUpdateId.toString(),
        Buffer.from(encodeDiffEntries(entry, this.#key, this.#value)),
      ]);
    }
  }

  async #mapRow(c: pg.ClientBase, hash: Uint8Array): Promise<MapRow | undefined> {
    const got = await c.query<MapRowColumns>(`${SELECT_MAP_ROW} WHERE hash = $1`, [Buffer.from(hash)]);
    return mapRow(got.rows[0]);
  }

  /**
   * BEGIN and the map row's lock in one round trip: a simple query cannot take
   * parameters, so the hash goes in as a bytea literal of our own hex digits.
   */
  async #lockRow(c: pg.ClientBase, hash: Uint8Array): Promise<MapRow | undefined> {
    const hex = Buffer.from(hash).toString('hex');
    const results = (await c.query(`BEGIN; ${SELECT_MAP_ROW} WHERE hash = '\\x${hex}'::bytea FOR UPDATE`)) as unknown as Array<
      pg.QueryResult<MapRowColumns>
    >;
    return mapRow(results[1]!.rows[0]);
  }

  /** History entries ending above `after`, oldest first. */
  async #history(c: pg.ClientBase, id: string, after: bigint): Promise<Diff<K, V>[]> {
    const got = await c.query<{ from_id: string; upto_id: string; pairs: Buffer }>({
      text: 'SELECT from_id, upto_id, pairs FROM syncstate_history WHERE map_id = $1 AND upto_id > $2 ORDER BY upto_id',
      values: [id, after.toString()],
    });
    return got.rows.map((r) => this.#entry(r.from_id, r.upto_id, r.pairs));
  }

  #entry(from: string, upto: string, pairs: Buffer): Diff<K, V> {
    return new Diff(decodeDiffEntries(pairs, this.#key, this.#value, strict), false, BigInt(from), BigInt(upto));
  }

  async #withClient<T>(doing: string, work: (c: pg.PoolClient) => Promise<T>): Promise<T> {
    const c = await this.#connect(doing);
    let failed: unknown;
    try {
      return await work(c);
    } catch (err) {
      failed = err;
      throw fromPostgres(err, doing);
    } finally {
      // A connection that failed mid-query is not handed out again.
      c.release(failed instanceof Error && !(failed instanceof StorageError) ? failed : undefined);
    }
  }

  async #connect(doing: string): Promise<pg.PoolClient> {
    this.#open();
    try {
      return await this.#pool.connect();
    } catch (err) {
      throw fromPostgres(err, doing);
    }
  }

  #open(): void {
    if (this.#closed !== undefined) throw new StorageError('closed', 'the PostgreSQL storage is closed');
  }
}

/** Opens a storage on a PostgreSQL database, creating or checking its schema. */
export async function openPostgresStorage<K, V>(options: PostgresStorageOptions<K, V>): Promise<PostgresStorage<K, V>> {
  const storage = new PostgresStorage(options);
  try {
    await storage.prepare();
  } catch (err) {
    await storage.close();
    throw err;
  }
  return storage;
}

/** Whether `entries` lead one update at a time from `from` to `to`. */
function follows<K, V>(entries: readonly Diff<K, V>[], from: bigint, to: bigint): boolean {
  const { outOfStep, reached } = walkUpdates(entries, from);
  return outOfStep === undefined && reached === to;
}

/** A map's row: its id, where it stands, and how many pairs it has. */
interface MapRow {
  id: string;
  updateId: bigint;
  pairCount: number;
}
interface MapRowColumns {
  id: string;
  update_id: string;
  pair_count: number;
}
const SELECT_MAP_ROW = 'SELECT id, update_id, pair_count FROM syncstate_maps';

function mapRow(row: MapRowColumns | undefined): MapRow | undefined {
  return row === undefined ? undefined : { id: row.id, updateId: BigInt(row.update_id), pairCount: row.pair_count };
}
