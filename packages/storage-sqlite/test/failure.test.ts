// A full disk and a read-only folder: clear typed errors, nothing half
// stored, and the server keeps serving what it can.
//
// Full disk: PRAGMA max_page_count (the `maxPageCount` option) caps the
// file, so SQLite fails writes with SQLITE_FULL exactly as on a full disk.
// Read-only folder: tests run as root, for whom chmod 0555 does not stop
// writes; `chattr +i` (the immutable attribute) on the folder and the file
// does, for root too. On each SQLite binding this Node has (their errors differ in shape).
import { execFileSync } from 'node:child_process';
import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { kinds, StateMap } from '@syncstate-ts/core';
import { ConnectionClosedError, TcpStateRemote } from '@syncstate-ts/remote';
import { createSelfSignedCertificate, type Logger } from '@syncstate-ts/server';
import { StorageError, StorageFullError, StorageReadOnlyError } from '@syncstate-ts/storage-sqlite';
import { startKvServer } from '@syncstate-ts/testkit/kv-server';
import { drivers } from './helpers/drivers.js';
import { startChildServer } from './helpers/process.js';
import { commitMap, createMap, eventBytes, loadMap, masterMap, openStorage, PASSWORD, perTest, serverFiles, storeNew } from './helpers/setup.js';

const { defer, folder, dbPath } = perTest('failure');

function immutable(...paths: string[]): void {
  execFileSync('chattr', ['+i', ...paths]);
  defer(() => {
    execFileSync('chattr', ['-i', ...paths.filter((p) => existsSync(p))]);
  });
}

/** A logger that keeps the warnings and errors the server reports. */
function recorder(): Logger & { errors: Array<{ err?: unknown; msg?: string }> } {
  const errors: Array<{ err?: unknown; msg?: string }> = [];
  const keep = (obj: object, msg?: string): void => void errors.push({ ...(obj as { err?: unknown }), ...(msg === undefined ? {} : { msg }) });
  return { errors, error: keep, warn: keep, info: () => {}, debug: () => {} };
}

async function waitFor(check: () => boolean): Promise<void> {
  for (let i = 0; i < 300 && !check(); i++) await new Promise((ok) => setTimeout(ok, 10));
  expect(check()).toBe(true);
}

describe.each(drivers)('%s', (driver) => {
  const openOn = (path: string, options: Parameters<typeof openStorage>[1] = {}) => openStorage(path, { driver, ...options });

  describe('full disk (max_page_count)', () => {
    it('storage: StorageFullError, the change is not stored, earlier ones are, reads go on', async () => {
      const path = dbPath();
      let storage = openOn(path, { maxPageCount: 40 });
      const a = await masterMap([['a', '']]);
      const b = await masterMap([['b', 'small']]);
      for (const m of [a, b]) await createMap(storage, m);
      let stored = 0n;
      let error: unknown;
      for (let i = 0; i < 200 && error === undefined; i++) {
        a.set('a', 'x'.repeat(3000) + i);
        try {
          await commitMap(storage, a, a.getUpdateId() - 1n);
          stored = a.getUpdateId();
        } catch (err) {
          error = err;
        }
      }
      expect(error).toBeInstanceOf(StorageFullError);
      expect(error).toMatchObject({ code: 'disk-full', message: expect.stringMatching(/full.*not stored/) });
      expect(stored).toBeGreaterThan(3n);
      // Other maps are still read from the file.
      await storage.close();
      storage = openOn(path, { maxPageCount: 40 });
      expect((await loadMap(storage, b.hash()!))!.get('b')).toBe('small');
      const back = (await loadMap(storage, a.hash()!))!;
      expect(back.getUpdateId()).toBe(stored);
      expect(back.get('a')).toBe(`${'x'.repeat(3000)}${stored - 1n}`);
      await storage.close();
      // With room again, the map goes on from its last stored id.
      storage = openOn(path);
      const more = (await loadMap(storage, a.hash()!))!;
      more.set('a', 'room');
      await commitMap(storage, more, stored);
      await storage.close();
    });

    it('server: a change that could not be stored is dropped, unacknowledged and logged; the map is served as stored, other maps keep answering', async () => {
      const path = dbPath();
      const tls = await createSelfSignedCertificate();
      const logger = recorder();
      const storage = openOn(path, { maxPageCount: 40 });
      const server = await startKvServer({ ...tls, password: PASSWORD, storage, logger });
      defer(() => server.close());
      const r = new TcpStateRemote({ port: server.address()!.port, tls: { ca: tls.cert }, password: PASSWORD, key: kinds.string, value: kinds.string });
      const maps = await Promise.all(
        ['full', 'calm'].map(async (k) => {
          const m = new StateMap({ key: kinds.string, value: kinds.string, remote: r });
          m.push(k, 'start');
          await m.freeze();
          return m;
        }),
      );
      const [full, calm] = maps as [StateMap<string, string>, StateMap<string, string>];
      await r.sendEvent(eventBytes({ type: 'Set', value: ['calm', 'once'] }), calm.hash()!);
      // Events are acknowledged while their changes are stored; the first that does not fit is closed without an answer.
      let refused: unknown;
      let acknowledged = 0;
      for (let i = 0; i < 100 && refused === undefined; i++) {
        await r.sendEvent(eventBytes({ type: 'Set', value: ['full', 'y'.repeat(4000) + i] }), full.hash()!).then(
          () => acknowledged++,
          (err: unknown) => (refused = err),
        );
      }
      expect(refused).toBeInstanceOf(ConnectionClosedError);
      await waitFor(() => logger.errors.some((e) => e.err instanceof StorageFullError));
      const logged = logger.errors.find((e) => e.err instanceof StorageFullError)!;
      expect(logged.msg).toMatch(/storing changes failed/);
      // The map comes back as stored: every acknowledged change, not the refused one.
      expect(await r.getUpdateId(full.hash()!)).toBe(BigInt(acknowledged));
      await r.sync(full);
      expect(full.get('full')).toBe('y'.repeat(4000) + (acknowledged - 1));
      // The other map is served as before.
      expect(await r.getUpdateId(calm.hash()!)).toBe(1n);
      await r.sync(calm);
      expect(calm.get('calm')).toBe('once');
    });
  });

  describe('read-only', () => {
    it('readOnly: true serves stored maps; events and new maps are refused with StorageReadOnlyError in the log', async () => {
      const path = dbPath();
      const writer = openOn(path);
      const map = await masterMap([['k', 'v']]);
      map.set('k', 'w');
      await createMap(writer, map);
      await writer.close();
      const bytes = readFileSync(path);

      const tls = await createSelfSignedCertificate();
      const logger = recorder();
      const server = await startKvServer({ ...tls, password: PASSWORD, storage: openOn(path, { readOnly: true }), logger });
      defer(() => server.close());
      const r = new TcpStateRemote({ port: server.address()!.port, tls: { ca: tls.cert }, password: PASSWORD, key: kinds.string, value: kinds.string });
      expect(await r.getUpdateId(map.hash()!)).toBe(1n);
      const diff = await r.fetchUpdates(0n, 1n, map.hash()!);
      expect(diff.entries).toEqual([['k', 'w']]);

      const fresh = new StateMap({ key: kinds.string, value: kinds.string, remote: r });
      fresh.push('new', 'map');
      await expect(fresh.freeze()).rejects.toMatchObject({ name: 'InitError' });
      await waitFor(() => logger.errors.some((e) => String((e.err as Error | undefined)?.cause).includes('read-only')));

      // Its change cannot be stored, so the event is not acknowledged: the connection closes without an answer.
      await expect(r.sendEvent(eventBytes({ type: 'Set', value: ['k', 'lost'] }), map.hash()!)).rejects.toBeInstanceOf(ConnectionClosedError);
      await waitFor(() => logger.errors.some((e) => e.err instanceof StorageReadOnlyError));
      await server.close();
      expect(readFileSync(path).equals(bytes)).toBe(true); // not a byte written
    });

    it('an immutable folder: a plain open fails clearly; readOnly "auto" serves it and says why', async () => {
      const dir = folder();
      const path = join(dir, 'maps.db');
      const { storage: writer, map } = await storeNew(path, [['k', 'v']], { driver });
      await writer.close();
      immutable(path, dir);

      expect(() => openOn(path)).toThrow(StorageReadOnlyError);
      const storage = openOn(path, { readOnly: 'auto' });
      expect(storage.readOnly).toBe(true);
      expect(storage.readOnlyReason).toMatch(/readonly|read-only/i);
      const back = (await loadMap(storage, map.hash()!))!;
      expect(back.get('k')).toBe('v');
      back.set('k', 'w');
      await expect(commitMap(storage, back, 0n)).rejects.toThrow(
        expect.objectContaining({ name: 'StorageReadOnlyError', message: expect.stringMatching(/read-only \(.+\); the change was not stored/) }),
      );
      await storage.close();
    });

    it('an immutable folder after a crash: the leftover write-ahead log is named as the reason', async () => {
      const dir = folder();
      const files = await serverFiles(dir);
      const server = await startChildServer(files, { driver });
      const r = new TcpStateRemote({ port: server.port, tls: { ca: files.pem }, password: PASSWORD, key: kinds.string, value: kinds.string });
      const map = new StateMap({ key: kinds.string, value: kinds.string, remote: r });
      map.push('k', 'v');
      await map.freeze();
      await server.kill();
      expect(existsSync(`${files.db}-wal`)).toBe(true);
      immutable(files.db, `${files.db}-wal`, dir);
      expect(() => openOn(files.db, { readOnly: true })).toThrow(
        expect.objectContaining({ name: 'StorageReadOnlyError', message: expect.stringMatching(/did not close cleanly.*read-write once/) }),
      );
    });

    it('a file made immutable while open: writes fail with a typed error, reads go on', async () => {
      const dir = folder();
      const path = join(dir, 'maps.db');
      const { storage, map } = await storeNew(path, [['k', 'v']], { driver });
      immutable(path, `${path}-wal`, dir);
      map.set('k', 'w');
      const err = await commitMap(storage, map, 0n).catch((e: unknown) => e);
      expect(err).toBeInstanceOf(StorageError);
      expect((err as StorageError).code).toMatch(/io|read-only/);
      expect((await loadMap(storage, map.hash()!))!.get('k')).toBe('v'); // still the stored value
      execFileSync('chattr', ['-i', path, `${path}-wal`, dir]);
      await storage.close();
    });
  });
});
