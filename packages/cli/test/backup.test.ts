// `syncstate backup` and `syncstate restore`, as users run them: a real
// `syncstate serve` keeps taking Set events from a Rust client (the crate's
// TcpStateRemote, through the fixture program) and TypeScript clients while
// `syncstate backup` runs; the backup is restored into a fresh data folder,
// and a server started there serves every map with the update ids and
// history of the backup. Then the refusals and their exit codes.
import { existsSync, readFileSync, unlinkSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { encode } from '@syncstate-ts/codec';
import { kinds, StateMap } from '@syncstate-ts/core';
import { TcpStateRemote } from '@syncstate-ts/remote';
import { storedMapOf } from '@syncstate-ts/storage';
import { SqliteStorage } from '@syncstate-ts/storage-sqlite';
import { RustClient } from '@syncstate-ts/testkit/rust';
import { kvEvent } from '../src/kv.js';
import { runCli, type ServeProcess, startServe, tempDir } from './helpers/cli.js';

const dir = tempDir('backup');
afterAll(() => dir.remove());

function remoteFor(serve: ServeProcess, data: string): TcpStateRemote<string, string> {
  return new TcpStateRemote({
    port: serve.port,
    tls: { ca: readFileSync(join(data, 'cert.pem'), 'utf8') },
    password: readFileSync(join(data, 'password'), 'utf8').trim(),
    key: kinds.string,
    value: kinds.string,
    connectTimeoutMs: 5000,
  });
}

const set = (key: string, value: string): Uint8Array => encode(kvEvent, { type: 'Set', value: [key, value] });
const cli = (...args: string[]) => runCli(args, { cwd: dir.path });

describe('backup while serving, restore into a fresh folder', () => {
  it('a server on the restored folder serves every map with the update ids and history of the backup', { timeout: 180_000 }, async () => {
    const data = join(dir.path, '.syncstate');
    const original = await startServe(['--port', '0', '--log-level', 'warn'], { cwd: dir.path });
    const remote = remoteFor(original, data);
    const keys = Array.from({ length: 3000 }, (_, i) => `e${i}`);
    const a = new StateMap({ key: kinds.string, value: kinds.string, remote });
    for (const k of keys) a.push(k, '0');
    await a.freeze();
    const b = new StateMap({ key: kinds.string, value: kinds.string, remote });
    for (let i = 0; i < 20; i++) b.push(`b${i}`, '0');
    await b.freeze();
    const rust = RustClient.start({ port: original.port, rootCert: readFileSync(join(data, 'cert.pem'), 'utf8'), password: readFileSync(join(data, 'password'), 'utf8').trim() });
    // Every Set names a key of map A no other event names: what was acknowledged can be checked key by key.
    const acknowledged: number[] = [];
    let next = 0;
    let streaming = true;
    const tsWorker = async (): Promise<void> => {
      while (streaming && next < keys.length) {
        const i = next++;
        await remote.sendEvent(set(`e${i}`, `ack-${i}`), a.hash()!);
        acknowledged.push(i);
      }
    };
    const rustWorker = async (): Promise<void> => {
      while (streaming && next < keys.length) {
        const i = next++;
        await rust.ok({ op: 'send_event', id: 'r', event: { Set: [`e${i}`, `ack-${i}`] } });
        acknowledged.push(i);
      }
    };
    const bWorker = async (): Promise<void> => {
      for (let n = 0; streaming; n++) await remote.sendEvent(set(`b${n % 20}`, `n${n}`), b.hash()!);
    };
    let backup: Awaited<ReturnType<typeof cli>>;
    let before: number[];
    try {
      await rust.ok({ op: 'new', id: 'r', pairs: keys.map((k) => [k, '0']) });
      await rust.ok({ op: 'freeze', id: 'r' }); // the same map as A: its hash, GetUpdateId only
      const workers = [tsWorker(), tsWorker(), rustWorker(), bWorker()];
      while (acknowledged.length < 100) await new Promise((resolve) => setTimeout(resolve, 20));
      before = [...acknowledged];
      const idsBefore = [await remote.getUpdateId(a.hash()!), await remote.getUpdateId(b.hash()!)];
      backup = await cli('backup', 'maps-backup.db');
      const idsAfter = [await remote.getUpdateId(a.hash()!), await remote.getUpdateId(b.hash()!)];
      streaming = false;
      await Promise.all(workers);
      // The events went on while the backup ran.
      expect(idsAfter[0]! > idsBefore[0]! && idsAfter[1]! > idsBefore[1]!).toBe(true);
    } finally {
      streaming = false;
      await rust.close();
    }
    expect(backup.code, backup.stderr).toBe(0);
    expect(backup.stdout).toMatch(/^backup maps-backup\.db: 2 maps, [\d.]+ KiB\n$/);
    expect(backup.stderr).toContain('copied .syncstate/maps.db online, from the running server');
    // Not over an existing file without --force.
    const again = await cli('backup', 'maps-backup.db');
    expect([again.code, again.stderr]).toEqual([1, 'syncstate: maps-backup.db exists: add --force to replace it\n']);

    const restore = await cli('restore', 'maps-backup.db', '--data', 'fresh');
    expect(restore.code, restore.stderr).toBe(0);
    expect(restore.stderr).toBe('restored 2 maps from maps-backup.db into fresh/maps.db\n');
    const printed = new Map(restore.stdout.trim().split('\n').map((line) => {
      const m = /^map ([0-9a-f]{64}): update id (\d+)$/.exec(line)!;
      return [m[1]!, BigInt(m[2]!)] as const;
    }));
    const hex = (map: StateMap<string, string>) => Buffer.from(map.hash()!).toString('hex');
    expect([...printed.keys()].sort()).toEqual([hex(a), hex(b)].sort());

    const restored = await startServe(['--port', '0', '--data', 'fresh', '--log-level', 'warn'], { cwd: dir.path });
    try {
      const r = remoteFor(restored, join(dir.path, 'fresh'));
      for (const map of [a, b]) {
        const id = printed.get(hex(map))!;
        expect(await r.getUpdateId(map.hash()!)).toBe(id);
        expect(id).toBeLessThanOrEqual(await remote.getUpdateId(map.hash()!));
        // History: every GetDiff up to the backup's id answers as the original server does (it keeps all history).
        const froms = [...new Set([0n, 1n, id / 3n, id / 2n, id - 2n, id - 1n].filter((f) => f >= 0n && f < id))];
        for (const from of froms) {
          const request = { type: 'GetDiff', hash: map.hash()!, fromUpdateId: from, uptoUpdateId: id } as const;
          expect(await r.request(request), `${hex(map).slice(0, 8)} GetDiff(${from}, ${id})`).toEqual(await remote.request(request));
        }
      }
      // Every event acknowledged before `syncstate backup` started is in the backup.
      const at = await r.fetchUpdates(0n, printed.get(hex(a))!, a.hash()!);
      const values = new Map(at.entries);
      expect(before.filter((i) => values.get(`e${i}`) !== `ack-${i}`)).toEqual([]);

      // Restore refuses while a server uses the folder, even with --force; the server serves on.
      const refused = await cli('restore', 'maps-backup.db', '--data', 'fresh', '--force');
      expect(refused.code).toBe(1);
      expect(refused.stderr).toMatch(/^syncstate: a server \(pid \d+\) is serving fresh: stop it, then restore\n$/);
      expect(await r.getUpdateId(a.hash()!)).toBe(printed.get(hex(a)));
    } finally {
      expect((await restored.stop()).code).toBe(0);
      expect((await original.stop()).code).toBe(0);
    }
    // A stopped server leaves no control socket behind.
    expect(existsSync(join(dir.path, 'fresh', 'control.sock'))).toBe(false);
    expect(existsSync(join(data, 'control.sock'))).toBe(false);
  });
});

describe('refusals and exit codes', () => {
  it('backup: no maps.db, a missing folder; a killed server\'s socket; a server that does not answer', { timeout: 120_000 }, async () => {
    const none = await cli('backup', 'x.db', '--data', 'no-such-data');
    expect(none.code).toBe(2);
    expect(none.stderr).toMatch(/no-such-data\/maps\.db does not exist: no maps to back up/);
    const folder = await cli('backup', 'no/such/folder/x.db');
    expect(folder.code).toBe(2);

    // A server killed with SIGKILL leaves its socket: nobody answers there, so the file itself is copied.
    writeFileSync(join(dir.path, 'm.json'), JSON.stringify({ k: 'v' }));
    const killed = await startServe(['--port', '0', '--data', 'quiet', '--log-level', 'warn'], { cwd: dir.path });
    expect((await runCli(['init', 'm.json', '--data', 'quiet', '--address', killed.address], { cwd: dir.path })).code).toBe(0);
    killed.child.kill('SIGKILL');
    await killed.stop();
    expect(existsSync(join(dir.path, 'quiet', 'control.sock'))).toBe(true);
    const offline = await cli('backup', 'quiet.db', '--data', 'quiet');
    expect(offline.code, offline.stderr).toBe(0);
    expect(offline.stdout).toMatch(/^backup quiet\.db: 1 map, /);
    expect(offline.stderr).toContain('from the file: no server is running on the data folder');

    // The next server replaces that socket and answers on it.
    const serve = await startServe(['--port', '0', '--data', 'quiet', '--log-level', 'warn'], { cwd: dir.path });
    try {
      const online = await cli('backup', 'quiet.db', '--data', 'quiet', '--force');
      expect(online.code, online.stderr).toBe(0);
      expect(online.stderr).toContain('online, from the running server');
      // Its control socket gone, the server still holds maps.db: the copy is refused, not made behind its back.
      unlinkSync(join(dir.path, 'quiet', 'control.sock'));
      const silent = await cli('backup', 'quiet-2.db', '--data', 'quiet');
      expect(silent.code).toBe(5);
      expect(silent.stderr).toMatch(/quiet\/maps\.db is in use by a server that does not answer on quiet\/control\.sock/);
      expect(existsSync(join(dir.path, 'quiet-2.db'))).toBe(false);
    } finally {
      expect((await serve.stop()).code).toBe(0);
    }
  });

  it('restore: no such file, not a backup, a damaged backup (exit 2, nothing changed); over maps only with --force (exit 1, then 0)', { timeout: 120_000 }, async () => {
    // A store no process holds is a backup too: one map, written here through the storage package.
    const good = join(dir.path, 'one-map.db');
    const store = new SqliteStorage({ path: good, key: kinds.string, value: kinds.string });
    const map = new StateMap({ key: kinds.string, value: kinds.string });
    map.push('k', 'v');
    map.setMaster(true);
    await map.freeze();
    await store.create(map.hash()!, Buffer.from(map.hash()!).toString('hex'), await storedMapOf(map));
    await store.close();
    expect((await cli('restore', 'one-map.db', '--data', 'target')).code).toBe(0);
    const target = join(dir.path, 'target', 'maps.db');
    const bytes = readFileSync(target);

    const missing = await cli('restore', 'nothing.db', '--data', 'target');
    expect([missing.code, missing.stderr]).toEqual([2, 'syncstate: nothing.db: no such file\n']);
    // Into a folder that did not exist: refused, and the folder made for it goes again.
    writeFileSync(join(dir.path, 'notes.txt'), 'notes, not maps');
    expect((await cli('restore', 'notes.txt', '--data', 'never')).code).toBe(2);
    expect(existsSync(join(dir.path, 'never'))).toBe(false);
    const notBackup = await cli('restore', 'notes.txt', '--data', 'target', '--force');
    expect(notBackup.code).toBe(2);
    expect(notBackup.stderr).toMatch(/^syncstate: notes\.txt is not a usable backup \(nothing was changed\): .*not an SQLite database/);
    const damaged = Buffer.from(readFileSync(good));
    damaged.fill(0x5a, 2 * 4096, damaged.length);
    writeFileSync(join(dir.path, 'damaged.db'), damaged);
    const bad = await cli('restore', 'damaged.db', '--data', 'target', '--force');
    expect(bad.code).toBe(2);
    expect(bad.stderr).toMatch(/^syncstate: damaged\.db is not a usable backup \(nothing was changed\): .*damaged/);
    expect(readFileSync(target).equals(bytes)).toBe(true);

    const over = await cli('restore', 'one-map.db', '--data', 'target');
    expect([over.code, over.stderr]).toEqual([1, 'syncstate: target/maps.db holds 1 map(s): add --force to replace them with the backup\n']);
    const forced = await cli('restore', 'one-map.db', '--data', 'target', '--force');
    expect([forced.code, forced.stderr]).toEqual([0, 'restored 1 map from one-map.db into target/maps.db (its maps were replaced)\n']);
  });
});
