// @syncstate-ts/storage-postgres: maps shared by any number of syncstate servers
// on PostgreSQL (@syncstate-ts/storage's SharedMapStorage), so that a TCP load
// balancer can send any request to any server.

export { openPostgresStorage, PostgresStorage } from './storage.js';
export type { PostgresStorageOptions } from './storage.js';
export { SCHEMA_VERSION } from './schema-version.js';
