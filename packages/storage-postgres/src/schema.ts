// The tables, created (or checked) when a storage opens. Several servers may
// open one database at once: the DDL runs under a transaction-scoped advisory
// lock, so exactly one of them creates the schema and the others find it.
//
//   syncstate_meta     name -> value: schema_version, key_kind, value_kind
//   syncstate_maps     one row per map: hash, update_id, the history floor,
//                      pair_count. Its row lock is the map's write lock
//                      (SELECT ... FOR UPDATE), held across servers.
//   syncstate_pairs    (map_id, slot) -> bincode key, bincode value: the
//                      current pairs, slot = push order
//   syncstate_history  (map_id, upto_id) -> from_id, bincode Vec<(K, V)>:
//                      one row per history entry (the freeze entry is 0 -> 0)
import type pg from 'pg';
import { StorageError } from '@syncstate-ts/storage';
import { SCHEMA_VERSION } from './schema-version.js';
/** pg_advisory_xact_lock key of schema changes ('syncstat' in ASCII). */
const SCHEMA_LOCK = 0x73796e6373746174n;

const CREATE = `
CREATE TABLE syncstate_meta (
  name text PRIMARY KEY,
  value text NOT NULL
);
CREATE TABLE syncstate_maps (
  id bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
  hash bytea NOT NULL UNIQUE CHECK (length(hash) = 32),
  update_id bigint NOT NULL CHECK (update_id >= 0),
  floor bigint,
  pair_count integer NOT NULL
);
CREATE TABLE syncstate_pairs (
  map_id bigint NOT NULL REFERENCES syncstate_maps (id) ON DELETE CASCADE,
  slot integer NOT NULL,
  key bytea NOT NULL,
  value bytea NOT NULL,
  PRIMARY KEY (map_id, slot)
);
CREATE TABLE syncstate_history (
  map_id bigint NOT NULL REFERENCES syncstate_maps (id) ON DELETE CASCADE,
  upto_id bigint NOT NULL,
  from_id bigint NOT NULL,
  pairs bytea NOT NULL,
  PRIMARY KEY (map_id, upto_id)
);`;

/** Creates the schema in an empty database, or checks the one there (version, kinds). */
export async function ensureSchema(client: pg.ClientBase, kinds: { key: string; value: string }): Promise<void> {
  await client.query('BEGIN');
  try {
    await client.query('SELECT pg_advisory_xact_lock($1)', [SCHEMA_LOCK.toString()]);
    const exists = await client.query<{ ok: boolean }>("SELECT to_regclass('syncstate_meta') IS NOT NULL AS ok");
    if (!exists.rows[0]!.ok) {
      await client.query(CREATE);
      await client.query('INSERT INTO syncstate_meta (name, value) VALUES ($1, $2), ($3, $4), ($5, $6)', [
        'schema_version',
        String(SCHEMA_VERSION),
        'key_kind',
        kinds.key,
        'value_kind',
        kinds.value,
      ]);
    } else {
      const meta = new Map((await client.query<{ name: string; value: string }>('SELECT name, value FROM syncstate_meta')).rows.map((r) => [r.name, r.value]));
      const version = Number(meta.get('schema_version'));
      if (version > SCHEMA_VERSION) {
        throw new StorageError('newer-schema', `the database has syncstate schema version ${version}; this @syncstate-ts/storage-postgres knows up to ${SCHEMA_VERSION}`);
      }
      if (version !== SCHEMA_VERSION) throw new StorageError('corrupt', `the database's syncstate_meta holds no usable schema_version (${String(meta.get('schema_version'))})`);
      for (const [name, want] of [
        ['key_kind', kinds.key],
        ['value_kind', kinds.value],
      ] as const) {
        if (meta.get(name) !== want) {
          throw new StorageError('kind-mismatch', `the database's maps have ${name} ${String(meta.get(name))}, not ${want}`);
        }
      }
    }
    await client.query('COMMIT');
  } catch (err) {
    await client.query('ROLLBACK').catch(() => undefined);
    throw err;
  }
}
