// Two servers' protocol handlers (no sockets) on one PostgreSQL database:
// what the shared store adds to the contract. A read on one server sees the
// other's commits first; a copy too far behind (its updates trimmed below
// the history floor) is loaded again; `maps()` says how far behind each
// loaded copy is.
import { kinds } from '@syncstate-ts/core';
import type { ProtocolHandler } from '@syncstate-ts/server';
import { openPostgresStorage } from '@syncstate-ts/storage-postgres';
import { answer, kvHandler, payload, req } from '@syncstate-ts/testkit/fixtures';
import type { KvEvent } from '@syncstate-ts/testkit/kv-server';
import { startPostgres, type TestPostgres } from '@syncstate-ts/testkit/postgres';
import type { Request } from '@syncstate-ts/codec';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';

const PASSWORD = 'shared';
let postgres: TestPostgres;
beforeAll(async () => {
  postgres = await startPostgres();
});
afterAll(() => postgres.stop());

type Handler = ProtocolHandler<string, string, KvEvent>;
const ask = async (h: Handler, request: Request) => answer(await h.respond(payload(PASSWORD, request)));
const pairs: Array<[string, string]> = Array.from({ length: 8 }, (_, i) => [`k${i}`, '0']);

async function twoServers(maxHistory = Infinity): Promise<[Handler, Handler]> {
  const url = await postgres.database();
  const open = async (): Promise<Handler> =>
    kvHandler(PASSWORD, { storage: await openPostgresStorage({ connectionString: url, key: kinds.string, value: kinds.string }), limits: { maxHistory } });
  return [await open(), await open()];
}

describe('two servers on one database', () => {
  it('a copy behind the other server catches up before a read; maps() shows how far behind it is', async () => {
    const [a, b] = await twoServers();
    const init = await req.init(pairs);
    const hash = (init as { hash: Uint8Array }).hash;
    expect(await ask(a, init)).toEqual({ type: 'InitSuccess' });
    expect(await ask(b, init)).toEqual({ type: 'InitSuccess' }); // exists: B loads it
    expect(await ask(b, req.getUpdateId(hash))).toEqual({ type: 'UpdateId', updateId: 0n });
    for (let i = 0; i < 3; i++) expect(await ask(a, req.event(hash, { type: 'Set', value: [`k${i}`, `a${i}`] }))).toEqual({ type: 'EventInProcess' });
    expect((await b.maps()).map((m) => [m.updateId, m.storedUpdateId, m.behind])).toEqual([[0n, 3n, 3n]]);
    expect(await ask(b, req.getUpdateId(hash))).toEqual({ type: 'UpdateId', updateId: 3n });
    expect((await b.maps()).map((m) => m.behind)).toEqual([0n]);
    // Both answer the same bytes for every diff.
    for (const [from, upto] of [[0n, 3n], [1n, 3n], [2n, 3n], [0n, 1n]] as const) {
      expect(await ask(b, req.getDiff(hash, from, upto))).toEqual(await ask(a, req.getDiff(hash, from, upto)));
    }
    // B's event lands after A's, against A's values.
    expect(await ask(b, req.event(hash, { type: 'Set', value: ['k0', 'b'] }))).toEqual({ type: 'EventInProcess' });
    expect(await ask(a, req.getUpdateId(hash))).toEqual({ type: 'UpdateId', updateId: 4n });
    await Promise.all([a.close(), b.close()]);
  });

  it('a copy whose missing updates are below the shared history floor is loaded again, and answers as the other', async () => {
    const [a, b] = await twoServers(3);
    const init = await req.init(pairs);
    const hash = (init as { hash: Uint8Array }).hash;
    await ask(a, init);
    expect(await ask(b, req.getUpdateId(hash))).toEqual({ type: 'UpdateId', updateId: 0n });
    await ask(b, req.getDiff(hash, 0n, 0n)); // B holds the map at 0
    for (let i = 0; i < 10; i++) await ask(a, req.event(hash, { type: 'Set', value: [`k${i % 8}`, `a${i}`] }));
    expect(await ask(b, req.getUpdateId(hash))).toEqual({ type: 'UpdateId', updateId: 10n });
    for (const [from, upto] of [[0n, 10n], [5n, 10n], [7n, 10n], [9n, 10n]] as const) {
      expect(await ask(b, req.getDiff(hash, from, upto)), `GetDiff(${from}, ${upto})`).toEqual(await ask(a, req.getDiff(hash, from, upto)));
    }
    const old = await ask(b, req.getDiff(hash, 5n, 10n));
    expect(old?.type === 'Diff' && old.isFull).toBe(true); // from before the floor: the full map
    await Promise.all([a.close(), b.close()]);
  });
});
