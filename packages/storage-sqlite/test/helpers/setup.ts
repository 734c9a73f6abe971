// Shared pieces of the storage tests: temp folders with a certificate, clean-ups
// after each test, KvEvent bytes, a seeded random source, maps built like the
// server builds them.
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach } from 'vitest';
import { encode } from '@syncstate-ts/codec';
import { kinds, StateMap } from '@syncstate-ts/core';
import { commitSince, type MapStorage, restoreMap, storedMapOf } from '@syncstate-ts/storage';
import { createSelfSignedCertificate } from '@syncstate-ts/server';
import { SqliteStorage, type SqliteStorageOptions } from '@syncstate-ts/storage-sqlite';
import { kvEvent, type KvEvent } from '@syncstate-ts/testkit/kv-server';
import type { ServerFiles } from './process.js';

export { kvEvent, type KvEvent };

export const PASSWORD = 'durable-maps';

export function tempDir(prefix: string): { dir: string; cleanup: () => void } {
  const dir = mkdtempSync(join(tmpdir(), `syncstate-${prefix}-`));
  return { dir, cleanup: () => rmSync(dir, { recursive: true, force: true }) };
}

export type Cleanup = () => void | Promise<void>;

/**
 * Clean-ups for a test file (call it at the top level): `defer(c)` runs `c`
 * after the current test, the last deferred first; `folder()` is a new temp
 * folder and `dbPath()` a database path in one, both removed after the test.
 */
export function perTest(prefix: string): { defer: (cleanup: Cleanup) => void; folder: () => string; dbPath: () => string } {
  const cleanups: Cleanup[] = [];
  afterEach(async () => {
    for (const c of cleanups.splice(0).reverse()) await c();
  });
  const defer = (cleanup: Cleanup): void => void cleanups.push(cleanup);
  const folder = (): string => {
    const { dir, cleanup } = tempDir(prefix);
    defer(cleanup);
    return dir;
  };
  return { defer, folder, dbPath: () => join(folder(), 'maps.db') };
}

/** A SqliteStorage of string keys and values on `path`. */
export function openStorage(path: string, options: Partial<SqliteStorageOptions<string, string>> = {}): SqliteStorage<string, string> {
  return new SqliteStorage({ path, key: kinds.string, value: kinds.string, ...options });
}

/** A database path and a certificate in `dir`, for durable-server.ts. */
export async function serverFiles(dir: string): Promise<ServerFiles & { pem: string }> {
  const { cert, key } = await createSelfSignedCertificate();
  writeFileSync(join(dir, 'cert.pem'), cert);
  writeFileSync(join(dir, 'key.pem'), key);
  return { db: join(dir, 'maps.db'), cert: join(dir, 'cert.pem'), key: join(dir, 'key.pem'), password: PASSWORD, pem: cert };
}

export function eventBytes(event: KvEvent): Uint8Array {
  return encode(kvEvent, event);
}

export { seededRandom as random } from '@syncstate-ts/testkit/random';

/** A frozen master map of string pairs, as the server builds one from Init data. */
export async function masterMap(pairs: Array<[string, string]>): Promise<StateMap<string, string>> {
  const map = new StateMap<string, string>({ key: kinds.string, value: kinds.string });
  for (const [k, v] of pairs) map.push(k, v);
  map.setMaster(true);
  await map.freeze();
  return map;
}

export function hex(bytes: Uint8Array): string {
  return Buffer.from(bytes).toString('hex');
}

export function sleep(ms: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, ms));
}

type Store = MapStorage<string, string>;

/** Opens a storage on `path` and stores a new master map of `pairs` in it, as after an Init; the storage stays open. */
export async function storeNew(
  path: string,
  pairs: Array<[string, string]>,
  options: Partial<SqliteStorageOptions<string, string>> = {},
): Promise<{ storage: SqliteStorage<string, string>; map: StateMap<string, string> }> {
  const storage = openStorage(path, options);
  const map = await masterMap(pairs);
  await createMap(storage, map);
  return { storage, map };
}

/** Stores a new map, as the server does after an Init. */
export async function createMap(storage: Store, map: StateMap<string, string>): Promise<void> {
  await storage.create(map.hash()!, hex(map.hash()!), await storedMapOf(map));
}

/** Commits the map's updates since `from` (what the server does after events); `floor` as under maxHistory. */
export async function commitMap(storage: Store, map: StateMap<string, string>, from: bigint, floor?: bigint): Promise<void> {
  const commit = commitSince(map, from, floor);
  if (commit !== undefined) await storage.commit(map.hash()!, hex(map.hash()!), commit);
}

/** The map a storage gives back, rebuilt as the server rebuilds it; undefined if not stored. */
export async function loadMap(storage: Store, hash: Uint8Array): Promise<StateMap<string, string> | undefined> {
  const stored = await storage.load(hash, hex(hash));
  return stored === undefined ? undefined : restoreMap(stored, kinds.string, kinds.string);
}
