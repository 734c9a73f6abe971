// Graceful restart: a server on a SqliteStorage is closed and a new one
// opened on the same file; both answer a grid of GetDiff requests (and
// GetUpdateId) with the same bytes, with unbounded and with bounded history.
import Database from 'better-sqlite3';
import { describe, expect, it } from 'vitest';
import { encodeResponse, type Request } from '@syncstate-ts/codec';
import { kinds, StateMap } from '@syncstate-ts/core';
import { TcpStateRemote } from '@syncstate-ts/remote';
import { createSelfSignedCertificate, type SyncStateServer } from '@syncstate-ts/server';
import { startKvServer } from '@syncstate-ts/testkit/kv-server';
import { eventBytes, hex, type KvEvent, openStorage, PASSWORD, perTest } from './helpers/setup.js';

const U64_MAX = (1n << 64n) - 1n;
const { defer, dbPath } = perTest('restart');

async function start(path: string, tls: { cert: string; key: string }, maxHistory?: number): Promise<SyncStateServer<string, string, KvEvent>> {
  const storage = openStorage(path);
  return startKvServer({ ...tls, password: PASSWORD, storage, ...(maxHistory === undefined ? {} : { limits: { maxHistory } }) });
}

function remote(server: SyncStateServer<string, string, KvEvent>, ca: string): TcpStateRemote<string, string> {
  return new TcpStateRemote({ port: server.address()!.port, tls: { ca }, password: PASSWORD, key: kinds.string, value: kinds.string });
}

/** Sends the events and waits until the server has applied them (its update id reaches `expected`). */
async function play(r: TcpStateRemote<string, string>, hash: Uint8Array, events: KvEvent[], expected: bigint): Promise<void> {
  for (const e of events) await r.sendEvent(eventBytes(e), hash);
  for (let i = 0; i < 500 && (await r.getUpdateId(hash)) !== expected; i++) await new Promise((ok) => setTimeout(ok, 10));
  expect(await r.getUpdateId(hash)).toBe(expected);
}

/** Encoded answers to GetUpdateId and GetDiff over a grid of ids around the history. */
async function grid(r: TcpStateRemote<string, string>, hash: Uint8Array, n: bigint): Promise<string[]> {
  const ids = [...new Set([0n, 1n, 2n, 3n, n / 2n - 1n, n / 2n, n / 2n + 1n, n - 9n, n - 8n, n - 2n, n - 1n, n, n + 1n, U64_MAX])].filter(
    (x) => x >= 0n,
  );
  const requests: Request[] = [{ type: 'GetUpdateId', hash }];
  for (const from of ids) for (const upto of ids) requests.push({ type: 'GetDiff', hash, fromUpdateId: from, uptoUpdateId: upto });
  const out: string[] = [];
  for (const request of requests) {
    const answer = await r.request(request);
    const where = request.type === 'GetDiff' ? `${request.fromUpdateId}->${request.uptoUpdateId}` : 'id';
    out.push(`${where} ${hex(encodeResponse(answer))}`);
  }
  return out;
}

/** 30 events on keys k0..k(size-1); returns them with the update id they lead to. */
function events(size: number): { events: KvEvent[]; n: bigint } {
  const out: KvEvent[] = [];
  let n = 0n;
  for (let i = 0; i < 30; i++) {
    if (i % 11 === 4) {
      out.push({ type: 'Noop' }); // no update
      continue;
    }
    n++;
    if (i % 7 === 3) out.push({ type: 'SetMany', value: [] }); // an empty commit: an id without pairs
    else if (i % 5 === 0) out.push({ type: 'SetMany', value: [[`k${i % size}`, `many-${i}`], ['k0', `zero-${i}`]] });
    else out.push({ type: 'Set', value: [`k${(i * 5) % size}`, `set-${i}`] });
  }
  return { events: out, n };
}

describe('close, reopen: the same answers, byte for byte', () => {
  for (const maxHistory of [undefined, 8]) {
    it(`maxHistory ${maxHistory ?? 'unbounded'}`, async () => {
      const path = dbPath();
      const tls = await createSelfSignedCertificate();
      let server = await start(path, tls, maxHistory);
      defer(() => server.close());
      let r = remote(server, tls.cert);
      const maps: Array<{ hash: Uint8Array; n: bigint }> = [];
      for (const size of [6, 2]) {
        const map = new StateMap({ key: kinds.string, value: kinds.string, remote: r });
        for (let i = 0; i < size; i++) map.push(`k${i}`, `init-${i}`);
        await map.freeze(); // Init
        const { events: played, n } = events(size);
        await play(r, map.hash()!, played, n);
        maps.push({ hash: map.hash()!, n });
      }
      const before = await Promise.all(maps.map((m) => grid(r, m.hash, m.n)));
      await server.close(); // closes the storage

      if (maxHistory !== undefined) {
        // The file keeps only the entries the bound leaves.
        const db = new Database(path, { readonly: true });
        const counts = db.prepare('SELECT count(*) FROM history GROUP BY map_id ORDER BY map_id').pluck().all();
        db.close();
        expect(counts).toEqual([maxHistory, maxHistory]);
      }

      server = await start(path, tls, maxHistory);
      r = remote(server, tls.cert);
      const after = await Promise.all(maps.map((m) => grid(r, m.hash, m.n)));
      expect(after).toEqual(before);
      // With the bound, a request from before the kept history gets the whole map, after the restart too.
      const old = await r.fetchUpdates(1n, maps[0]!.n, maps[0]!.hash);
      expect(old.isFull).toBe(maxHistory !== undefined);
    });
  }
});
