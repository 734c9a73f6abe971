// The gateway's upstream side against the real Rust server behind a TCP
// relay: an upstream that goes away is a typed error, and the gateway
// recovers by itself when it is back; subscribed maps are polled upstream
// once per map however many browsers follow them, and not at all once nobody does.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { encodeRequestWrapper } from '@syncstate-ts/codec';
import { Event, kinds } from '@syncstate-ts/core';
import { startGateway } from '@syncstate-ts/gateway';
import { ConnectionError, TcpStateRemote, type WebSocketRemote } from '@syncstate-ts/remote';
import { FULL_ACCESS } from '@syncstate-ts/server';
import { tokenAuthorize } from '@syncstate-ts/server-websocket';
import { EDITOR, kvEvent, mapWith, RawClient, startStack, until, wsRemote, type Stack } from './helpers.js';

let stack: Stack;
let direct: TcpStateRemote<string, string>;

beforeAll(async () => {
  stack = await startStack();
  direct = new TcpStateRemote({ port: stack.rust.port, tls: { ca: stack.rust.cert }, password: stack.rust.password, key: kinds.string, value: kinds.string });
});
afterAll(async () => {
  await stack?.close();
});

const set = (k: string, v: string): Event<unknown> => new Event(kvEvent, { type: 'Set', value: [k, v] }) as Event<unknown>;

describe('an upstream that goes away', () => {
  it('is an "unavailable" error (ConnectionError), and the same connection works again once it is back', async () => {
    const map = mapWith(direct, [['up', 'yes']]);
    await map.freeze();
    const hash = map.hash()!;
    const remote = wsRemote(stack.url);
    expect(await remote.getUpdateId(hash)).toBe(0n);

    await stack.proxy.down();
    const raw = await RawClient.hello(stack.url, EDITOR);
    expect(await raw.next()).toMatchObject({ type: 'Welcome' }); // the gateway itself is up
    const refused = await raw.request(1, encodeRequestWrapper({ password: new Uint8Array(0), request: { type: 'GetUpdateId', hash } }));
    expect(refused).toMatchObject({ type: 'Error', code: 'unavailable' });
    await expect(remote.getUpdateId(hash)).rejects.toBeInstanceOf(ConnectionError);

    await stack.proxy.up();
    expect(await remote.getUpdateId(hash)).toBe(0n);
    expect(await raw.request(2, encodeRequestWrapper({ password: new Uint8Array(0), request: { type: 'GetUpdateId', hash } }))).toMatchObject({ type: 'Response' });
    raw.ws.close();
    remote.close();
  });

  it('a watch through the gateway sees the changes made while and after the upstream was away', async () => {
    const remote = wsRemote(stack.url);
    const map = mapWith(remote, [['w', '0']]);
    await map.freeze();
    const updates = remote.watch(map, { signal: AbortSignal.timeout(20_000) });
    const first = updates.next(); // subscribes, syncs, then waits for a push
    await until(() => stack.gateway.stats().upstream.polledMaps === 1, 10_000, 'the map being polled');
    await stack.proxy.down();
    await until(() => stack.gateway.stats().upstream.polls > 0, 10_000, 'a failed poll'); // the poll loop now backs off
    await direct.sendEvent(set('w', '1'), map.hash()!); // the Rust server itself is up: the change happens meanwhile
    await stack.proxy.up();
    expect((await first).value).toMatchObject({ toUpdateId: 1n });
    expect(map.get('w')).toBe('1');
    await updates.return();
    remote.close();
  });

  it('a gateway holding a wrong upstream password answers "unavailable", never IncorrectPassword', async () => {
    const gateway = await startGateway({
      upstream: { address: `127.0.0.1:${stack.rust.port}`, tls: { ca: stack.rust.cert }, password: 'not-the-password', key: kinds.string, value: kinds.string },
      event: kvEvent,
      authorize: tokenAuthorize([{ token: EDITOR, access: FULL_ACCESS }]),
    });
    try {
      const raw = await RawClient.hello(gateway.url!, EDITOR);
      await raw.next();
      const answer = await raw.request(1, encodeRequestWrapper({ password: new Uint8Array(0), request: { type: 'GetUpdateId', hash: new Uint8Array(32) } }));
      expect(answer).toMatchObject({ type: 'Error', code: 'unavailable' });
      expect((answer as { message: string }).message).toMatch(/password/);
      raw.ws.close();
    } finally {
      await gateway.close();
    }
  });
});

describe('pushes through the gateway', () => {
  it('poll the upstream once per map for any number of subscribers, and stop when the last one leaves', async () => {
    const SUBSCRIBERS = 40;
    const setup = mapWith(direct, [['shared', '0']]);
    await setup.freeze();
    const hash = setup.hash()!;
    const remotes: WebSocketRemote<string, string>[] = Array.from({ length: SUBSCRIBERS }, () => wsRemote(stack.url));
    const seen = new Array<bigint>(SUBSCRIBERS).fill(0n);
    const subscriptions = await Promise.all(remotes.map((r, i) => r.subscribe(hash, (id) => (seen[i] = id))));
    const before = stack.gateway.stats();
    expect(before.followedMaps).toBe(1);
    expect(before.upstream.polledMaps).toBe(1);

    // Every upstream connection from here on is a poll of that one map, and there are few of them:
    // one loop (interval 50 ms), where a poll per subscriber would make 40 per interval.
    const connections = stack.proxy.connections;
    const polls = before.upstream.polls;
    const started = performance.now();
    await direct.sendEvent(set('shared', '1'), hash);
    await until(() => seen.every((id) => id === 1n), 10_000, 'the push to every subscriber');
    await new Promise((r) => setTimeout(r, 300));
    const elapsed = performance.now() - started;
    const after = stack.gateway.stats();
    const upstreamConnections = stack.proxy.connections - connections;
    expect(upstreamConnections).toBe(after.upstream.polls - polls);
    expect(upstreamConnections).toBeLessThanOrEqual(Math.ceil(elapsed / 50) + 2);
    expect(after.pushes - before.pushes).toBe(SUBSCRIBERS);

    for (const s of subscriptions) s.unsubscribe();
    await until(() => stack.gateway.stats().followedMaps === 0, 10_000, 'every unsubscribe');
    expect(stack.gateway.stats().upstream.polledMaps).toBe(0);
    const quiet = stack.proxy.connections;
    await new Promise((r) => setTimeout(r, 300)); // six poll intervals
    expect(stack.proxy.connections).toBe(quiet);
    for (const r of remotes) r.close();
  });

  it('polls at most maxMaps maps: a Subscribe for one more is refused (LimitExceededError), and taken once one is free', async () => {
    const gateway = await startGateway({
      upstream: { address: `127.0.0.1:${stack.rust.port}`, tls: { ca: stack.rust.cert }, password: stack.rust.password, key: kinds.string, value: kinds.string },
      event: kvEvent,
      authorize: tokenAuthorize([{ token: EDITOR, access: FULL_ACCESS }]),
      poll: { intervalMs: 50, maxMaps: 3 },
    });
    try {
      const hashes: Uint8Array[] = [];
      for (let i = 0; i < 5; i++) {
        const map = mapWith(direct, [['n', String(i)], ['limit', 'test']]);
        await map.freeze();
        hashes.push(map.hash()!);
      }
      const remote = wsRemote(gateway.url!);
      const outcomes = await Promise.allSettled(hashes.map((hash) => remote.subscribe(hash, () => {})));
      const taken = outcomes.filter((o) => o.status === 'fulfilled');
      const refused = outcomes.filter((o): o is PromiseRejectedResult => o.status === 'rejected');
      expect(taken).toHaveLength(3);
      expect(refused).toHaveLength(2);
      for (const r of refused) expect(r.reason).toMatchObject({ name: 'LimitExceededError', limit: 'subscriptions' });
      expect(gateway.stats().upstream.polledMaps).toBe(3);

      (taken[0] as PromiseFulfilledResult<{ unsubscribe(): void }>).value.unsubscribe();
      await until(() => gateway.stats().upstream.polledMaps === 2, 10_000, 'the unsubscribe');
      const refusedHash = hashes[outcomes.findIndex((o) => o.status === 'rejected')]!;
      await expect(remote.subscribe(refusedHash, () => {})).resolves.toMatchObject({ updateId: 0n });
      expect(gateway.stats().upstream.polledMaps).toBe(3);
      remote.close();
    } finally {
      await gateway.close();
    }
  });
});
