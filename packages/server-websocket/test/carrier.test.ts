// The WebSocket carrier end to end on real sockets: the same bytes as TLS,
// many requests in flight on one socket, pushes, unsubscribe, close and abort.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { encodeRequestWrapper, toHex } from '@syncstate-ts/codec';
import { Event } from '@syncstate-ts/core';
import { ConnectionClosedError, ConnectionError, HashNotFoundError, TcpStateRemote } from '@syncstate-ts/remote';
import { createSelfSignedCertificate } from '@syncstate-ts/server';
import { rawTls } from '@syncstate-ts/testkit/wire';
import { kvEvent } from '@syncstate-ts/testkit/kv-server';
import { kinds } from '@syncstate-ts/core';
import { encodeFrame } from '@syncstate-ts/codec';
import { listenWebSocket } from '@syncstate-ts/server-websocket';
import { mapWith, PASSWORD, RawClient, startStack, wsRemote, type Stack } from './helpers.js';

const set = (k: string, v: string): Event<unknown> => new Event(kvEvent, { type: 'Set', value: [k, v] }) as Event<unknown>;

let tls: { cert: string; key: string };
let stack: Stack;

beforeAll(async () => {
  tls = await createSelfSignedCertificate();
  stack = await startStack(tls);
});
afterAll(async () => {
  await stack.close();
});

describe('the same protocol as TLS', () => {
  it('answers the same request bytes with the same answer bytes on both carriers', async () => {
    const tlsRemote = new TcpStateRemote({ port: stack.server.address()!.port, tls: { ca: tls.cert }, password: PASSWORD, key: kinds.string, value: kinds.string });
    const map = mapWith(tlsRemote, [['color', 'red'], ['size', 'M']]);
    await map.freeze();
    const hash = map.hash()!;
    await tlsRemote.sendEvent(set('color', 'blue'), hash);
    await tlsRemote.sync(map);

    const client = await RawClient.welcomed(stack.url, tls.cert);
    const requests = [
      { type: 'GetUpdateId' as const, hash },
      { type: 'GetDiff' as const, hash, fromUpdateId: 0n, uptoUpdateId: 1n },
      { type: 'GetDiff' as const, hash, fromUpdateId: 5n, uptoUpdateId: 9n },
      { type: 'GetUpdateId' as const, hash: new Uint8Array(32) },
    ];
    for (const [i, request] of requests.entries()) {
      // The TLS frame's body, byte for byte (password included: the WebSocket ignores it).
      const wrapper = encodeRequestWrapper({ password: new TextEncoder().encode(PASSWORD), request });
      const overTls = await rawTls(stack.server.address()!.port, tls.cert, encodeFrame(wrapper));
      client.send({ type: 'Request', id: 100 + i, payload: wrapper });
      const answer = (await client.messages(2 + i))[1 + i]!;
      expect(answer).toMatchObject({ type: 'Response', id: 100 + i });
      expect(toHex((answer as { payload: Uint8Array }).payload)).toBe(toHex(overTls.bytes.subarray(4)));
    }
    client.ws.close();
  });

  it('a TLS client and a WebSocket client see each other\'s changes on one map', async () => {
    const tlsRemote = new TcpStateRemote({ port: stack.server.address()!.port, tls: { ca: tls.cert }, password: PASSWORD, key: kinds.string, value: kinds.string });
    const ws = wsRemote(stack);
    const a = mapWith(tlsRemote, [['x', '0'], ['y', '0']]);
    const b = mapWith(ws, [['x', '0'], ['y', '0']]);
    await a.freeze();
    await b.freeze();
    expect(toHex(a.hash()!)).toBe(toHex(b.hash()!));
    await ws.sendEvent(set('x', 'from-ws'), b.hash()!);
    await tlsRemote.sync(a);
    expect(a.get('x')).toBe('from-ws');
    await tlsRemote.sendEvent(set('y', 'from-tls'), a.hash()!);
    await ws.sync(b);
    expect([b.get('x'), b.get('y')]).toEqual(['from-ws', 'from-tls']);
    ws.close();
  });
});

describe('one persistent connection', () => {
  it('carries many requests in flight at once, each answer matched to its request', async () => {
    const ws = wsRemote(stack);
    const maps = Array.from({ length: 20 }, (_, i) => mapWith(ws, [['n', String(i)]]));
    await Promise.all(maps.map((m) => m.freeze()));
    await Promise.all(maps.map((m, i) => ws.sendEvent(set('n', `v${i}`), m.hash()!)));
    // 200 reads at once, more than Welcome.maxInFlight (64): the client queues the rest.
    const reads = await Promise.all(Array.from({ length: 200 }, (_, i) => ws.getUpdateId(maps[i % 20]!.hash()!)));
    expect(reads.every((id) => id === 1n)).toBe(true);
    const synced = await Promise.all(maps.map((m) => ws.sync(m)));
    expect(synced.map((r, i) => [r.toUpdateId, maps[i]!.get('n')])).toEqual(maps.map((_, i) => [1n, `v${i}`]));
    expect(stack.listener.stats().connections.active).toBeGreaterThanOrEqual(1);
    ws.close();
  });

  it('rejects unknown maps with the typed error, and keeps serving', async () => {
    const ws = wsRemote(stack);
    await expect(ws.getUpdateId(new Uint8Array(32).fill(9))).rejects.toBeInstanceOf(HashNotFoundError);
    await expect(ws.subscribe(new Uint8Array(32).fill(9), () => {})).rejects.toBeInstanceOf(HashNotFoundError);
    const map = mapWith(ws, [['still', 'here']]);
    await map.freeze();
    expect(await ws.getUpdateId(map.hash()!)).toBe(0n);
    ws.close();
  });
});

describe('pushes', () => {
  it('pushes the new update id to every subscriber once the event is applied, until unsubscribed', async () => {
    const writer = wsRemote(stack);
    const map = mapWith(writer, [['k', 'a']]);
    await map.freeze();
    const hash = map.hash()!;
    const readers = [wsRemote(stack), wsRemote(stack)];
    const seen: bigint[][] = [[], []];
    const subs = await Promise.all(readers.map((r, i) => r.subscribe(hash, (id) => seen[i]!.push(id))));
    expect(subs.map((s) => s.updateId)).toEqual([0n, 0n]);
    expect(stack.listener.stats().followedMaps).toBeGreaterThanOrEqual(1);

    await writer.sendEvent(set('k', 'b'), hash);
    await until(() => seen.every((s) => s.includes(1n)));
    // A read after the push sees the change.
    expect(await readers[0]!.getUpdateId(hash)).toBe(1n);

    subs[0]!.unsubscribe();
    await writer.sendEvent(set('k', 'c'), hash);
    await until(() => seen[1]!.includes(2n));
    expect(seen[0]).toEqual([1n]);
    for (const r of [writer, ...readers]) r.close();
  });

  it('watch follows a map by pushes, with no polling between them', async () => {
    const writer = wsRemote(stack);
    const watcher = wsRemote(stack);
    const ours = mapWith(writer, [['k', '0']]);
    await ours.freeze();
    const theirs = mapWith(watcher, [['k', '0']]);
    await theirs.freeze();
    const before = stack.server.metrics().requests.GetUpdateId;
    const controller = new AbortController();
    // An interval of an hour: only pushes can make this watch see anything in time.
    const updates = watcher.watch(theirs, { intervalMs: 3_600_000, signal: controller.signal });
    const first = updates.next();
    await new Promise((r) => setTimeout(r, 100));
    await writer.sendEvent(set('k', '1'), ours.hash()!);
    expect((await first).value).toMatchObject({ toUpdateId: 1n, changes: [{ key: 'k', previous: '0', value: '1' }] });
    await writer.sendEvent(set('k', '2'), ours.hash()!);
    expect((await updates.next()).value).toMatchObject({ toUpdateId: 2n });
    // Its own initial sync and one sync per push, nothing in between.
    expect(stack.server.metrics().requests.GetUpdateId - before).toBeLessThanOrEqual(3 + 1);
    controller.abort();
    expect(await updates.next()).toEqual({ done: true, value: undefined });
    writer.close();
    watcher.close();
  });
});

describe('close and abort', () => {
  it('an aborted call rejects with the reason; the connection and later calls go on', async () => {
    const ws = wsRemote(stack);
    const map = mapWith(ws, [['a', '1']]);
    await map.freeze();
    const controller = new AbortController();
    const call = ws.getUpdateId(map.hash()!, { signal: controller.signal });
    controller.abort(new Error('changed my mind'));
    await expect(call).rejects.toThrow('changed my mind');
    expect(await ws.getUpdateId(map.hash()!)).toBe(0n);
    ws.close();
  });

  it('close() fails the calls in flight and every later call', async () => {
    const ws = wsRemote(stack);
    const map = mapWith(ws, [['b', '1']]);
    await map.freeze();
    const inFlight = ws.getUpdateId(map.hash()!);
    ws.close();
    await expect(inFlight).rejects.toBeInstanceOf(ConnectionClosedError);
    await expect(ws.getUpdateId(map.hash()!)).rejects.toBeInstanceOf(ConnectionError);
  });

  it('after the server closed the connection, a call fails once and the next opens a new connection', async () => {
    const own = await startStack(tls);
    const ws = wsRemote(own);
    const map = mapWith(ws, [['c', '1']]);
    await map.freeze();
    const { port } = own.listener.address()!;
    await own.listener.close();
    // On the closing connection (ConnectionClosedError), or refused on a new one (ConnectionError).
    const failure = await ws.getUpdateId(map.hash()!).then(() => undefined, (err: unknown) => err);
    expect(failure instanceof ConnectionClosedError || failure instanceof ConnectionError, String(failure)).toBe(true);
    const again = await listenWebSocket(own.server, { tls, password: PASSWORD, port });
    expect(await ws.getUpdateId(map.hash()!)).toBe(0n);
    ws.close();
    await again.close();
    await own.server.close();
  });
});

async function until(condition: () => boolean): Promise<void> {
  const deadline = Date.now() + 10_000;
  while (!condition()) {
    if (Date.now() > deadline) throw new Error('condition not met within 10 s');
    await new Promise((r) => setTimeout(r, 5));
  }
}
