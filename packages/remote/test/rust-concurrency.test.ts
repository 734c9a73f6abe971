// Live: many clients of one map against the Rust server at once, each on its
// own connections (one per request), racing the init and the events.
import { kv, localMap, remoteFor, snapshot, waitForUpdateId } from '@syncstate-ts/testkit/kv';
import { rustServerForTests } from '@syncstate-ts/testkit/rust';
import { describe, expect, it } from 'vitest';

const CLIENTS = 24;

const server = rustServerForTests();

describe('concurrent clients', () => {
  it('freeze, send and sync the same map from many clients at once', async () => {
    const keys = Array.from({ length: CLIENTS }, (_, i) => `client-${i}`);
    const initial = keys.map((k) => [k, 'start'] as const);
    const clients = keys.map(() => {
      const remote = remoteFor(server());
      return { remote, map: localMap(initial) };
    });

    await Promise.all(clients.map(({ map }) => map.freeze())); // local: DummyRemote
    const hash = clients[0]!.map.hash()!;
    for (const { map } of clients) expect(map.hash()).toEqual(hash);

    // All register at once: several may see HashNotFound and send Init; the
    // Rust server creates the map once and answers InitSuccess to each.
    const inits = await Promise.all(clients.map(({ remote, map }) => remote.ensureInitialized(map)));
    expect(inits.some((r) => r.created)).toBe(true);
    expect(await clients[0]!.remote.getUpdateId(hash)).toBe(0n);

    // Each client sets its own key: the end state does not depend on hook order.
    await Promise.all(clients.map(({ remote }, i) => remote.sendEvent(kv({ type: 'Set', value: [keys[i]!, `done-${i}`] }), hash)));
    await waitForUpdateId(clients[0]!.remote, hash, BigInt(CLIENTS));

    const results = await Promise.all(clients.map(({ remote, map }) => remote.sync(map)));
    const expected = Object.fromEntries(keys.map((k, i) => [k, `done-${i}`]));
    for (const [i, { map }] of clients.entries()) {
      expect(results[i]).toMatchObject({ fromUpdateId: 0n, toUpdateId: BigInt(CLIENTS) });
      expect(results[i]!.changes.length).toBe(CLIENTS);
      expect(map.getUpdateId()).toBe(BigInt(CLIENTS));
      expect(snapshot(map)).toEqual(expected);
    }
  });
});
