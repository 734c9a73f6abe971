// Peers that do not play by the rules of the WebSocket carrier, on real
// sockets: malformed and oversized messages, slow and silent peers, too many
// sockets, requests or subscriptions. Each is refused with its typed message
// or cut off, and the server keeps serving the others.
import { afterEach, beforeAll, describe, expect, it } from 'vitest';
import { CLOSE_TIMEOUT, CLOSE_UNAUTHORIZED, encodeRequestWrapper, MESSAGE_HEADER_SIZE, toHex, type ServerMessage } from '@syncstate-ts/codec';
import { Event } from '@syncstate-ts/core';
import { LimitExceededError } from '@syncstate-ts/remote';
import { createSelfSignedCertificate } from '@syncstate-ts/server';
import { kvEvent } from '@syncstate-ts/testkit/kv-server';
import { mapWith, RawClient, startStack, wsRemote, type Stack } from './helpers.js';

let tls: { cert: string; key: string };
let stack: Stack | undefined;

beforeAll(async () => {
  tls = await createSelfSignedCertificate();
});
afterEach(async () => {
  await stack?.close();
  stack = undefined;
});

const hash9 = new Uint8Array(32).fill(9);
const empty = new Uint8Array(0);
const getUpdateId = (hash: Uint8Array): Uint8Array => encodeRequestWrapper({ password: empty, request: { type: 'GetUpdateId', hash } });

async function mapOn(s: Stack, pairs: Array<[string, string]>): Promise<Uint8Array> {
  const remote = wsRemote(s);
  const map = mapWith(remote, pairs);
  await map.freeze();
  remote.close();
  return map.hash()!;
}

describe('malformed messages', () => {
  it('a text message closes the connection with 1003', async () => {
    stack = await startStack(tls);
    const client = await RawClient.welcomed(stack.url, tls.cert);
    client.ws.send('hello?');
    expect((await client.closed).code).toBe(1003);
    expect(stack.listener.stats().errors.malformed).toBe(1);
  });

  it('an unknown tag, a request before Hello, a second Hello: Error malformed (id 0), then close 1002', async () => {
    stack = await startStack(tls);
    const attempts: Array<(c: RawClient) => void> = [
      (c) => c.send(Uint8Array.of(0x7f, 1, 2, 3)),
      (c) => c.send({ type: 'Request', id: 1, payload: getUpdateId(hash9) }),
      (c) => c.send(Uint8Array.of(0x03, 0, 0, 0, 1, 9)), // a Subscribe cut short
    ];
    for (const attempt of attempts) {
      const client = new RawClient(stack.url, tls.cert);
      await client.opened();
      attempt(client);
      const [error] = await client.messages(1);
      expect(error).toMatchObject({ type: 'Error', id: 0, code: 'malformed' });
      expect((await client.closed).code).toBe(1002);
    }
    const twice = await RawClient.welcomed(stack.url, tls.cert);
    twice.send({ type: 'Hello', token: empty });
    expect((await twice.messages(2))[1]).toMatchObject({ type: 'Error', id: 0, code: 'malformed' });
    expect((await twice.closed).code).toBe(1002);
  });

  it('an undecodable request or event gets Error no-answer for its id, and the connection keeps serving', async () => {
    stack = await startStack(tls);
    const hash = await mapOn(stack, [['k', 'v']]);
    const client = await RawClient.welcomed(stack.url, tls.cert);
    client.send({ type: 'Request', id: 1, payload: Uint8Array.of(0xff, 0xff) });
    const badEvent = encodeRequestWrapper({ password: empty, request: { type: 'Event', hash, eventData: Uint8Array.of(0x09) } });
    client.send({ type: 'Request', id: 2, payload: badEvent });
    client.send({ type: 'Request', id: 3, payload: getUpdateId(hash) });
    const answers = (await client.messages(4)).slice(1);
    const byId = new Map(answers.map((m) => [(m as { id: number }).id, m]));
    expect(byId.get(1)).toMatchObject({ type: 'Error', code: 'no-answer' });
    expect(byId.get(2)).toMatchObject({ type: 'Error', code: 'no-answer' });
    expect(byId.get(3)).toMatchObject({ type: 'Response', payload: Uint8Array.of(1, 0) }); // UpdateId { 0 }
    expect(stack.server.metrics().errors).toMatchObject({ 'undecodable-request': 1, 'undecodable-event': 1 });
    client.ws.close();
  });

  it('an upgrade without the syncstate.v1 subprotocol is refused before any WebSocket exists', async () => {
    stack = await startStack(tls);
    const client = new RawClient(stack.url, tls.cert, { protocols: ['chat'] });
    await expect(client.opened()).rejects.toThrow('HTTP 400');
    expect(stack.listener.stats().connections).toMatchObject({ total: 0, rejected: 1 });
  });
});

describe('sizes', () => {
  it('a frame announcing more than maxMessageSize is refused on its header (1009), before any of it is buffered', async () => {
    stack = await startStack(tls, { limits: { maxMessageSize: 1024 } });
    const client = await RawClient.welcomed(stack.url, tls.cert);
    // A masked binary frame header claiming 2^40 bytes, and nothing after it.
    const header = Uint8Array.of(0x82, 0x80 | 127, 0, 0, 1, 0, 0, 0, 0, 0, 1, 2, 3, 4);
    (client.ws as unknown as { _socket: { write(b: Uint8Array): void } })._socket.write(header);
    expect((await client.closed).code).toBe(1009);
    expect(stack.listener.stats().errors['message-too-large']).toBe(1);
  });

  it('the client refuses to send a message above the server\'s maxMessageSize (LimitExceededError)', async () => {
    stack = await startStack(tls, { limits: { maxMessageSize: 200 } });
    const remote = wsRemote(stack);
    const map = mapWith(remote, [['big', 'x'.repeat(500)]]);
    await expect(remote.sendInit(new Uint8Array(32), new Uint8Array(500))).rejects.toMatchObject({ name: 'LimitExceededError', limit: 'message-size' });
    expect(map.size).toBe(1);
    remote.close();
  });

  it('request bytes beyond the shared budget cut that connection off; others go on', async () => {
    stack = await startStack(tls, { limits: { maxBufferedRequestBytes: 4096 } });
    const hash = await mapOn(stack, [['k', 'v']]);
    const greedy = await RawClient.welcomed(stack.url, tls.cert);
    greedy.send({ type: 'Request', id: 1, payload: new Uint8Array(8000) });
    await greedy.closed;
    expect(stack.listener.stats().errors['memory-budget']).toBe(1);
    const remote = wsRemote(stack);
    expect(await remote.getUpdateId(hash)).toBe(0n);
    remote.close();
  });
});

describe('slow and silent peers', () => {
  it('a peer that never says Hello is cut off after the handshake timeout (4408)', async () => {
    stack = await startStack(tls, { limits: { handshakeTimeoutMs: 300 } });
    const client = new RawClient(stack.url, tls.cert);
    await client.opened();
    expect((await client.closed).code).toBe(CLOSE_TIMEOUT);
    expect(stack.listener.stats().errors['handshake-timeout']).toBe(1);
  });

  it('a peer that stops answering pings is cut off', async () => {
    stack = await startStack(tls, { limits: { pingIntervalMs: 100 } });
    const client = await RawClient.welcomed(stack.url, tls.cert);
    client.ws.pause(); // reads nothing more, so answers no ping (and does not see the close either)
    await until(() => stack!.listener.stats().connections.active === 0);
    expect(stack.listener.stats().errors['ping-timeout']).toBe(1);
    client.ws.terminate();
  });

  it('a peer that never reads: the server stops reading it, holds a bounded amount, and cuts it off', async () => {
    const maxBufferedAnswerBytes = 256 * 1024;
    const maxInFlight = 4;
    stack = await startStack(tls, { limits: { maxBufferedAnswerBytes, maxInFlight, drainTimeoutMs: 1000, pingIntervalMs: 60_000 } });
    // 2,000 pairs of ~110 bytes: each full diff is ~230 KB.
    const pairs = Array.from({ length: 2000 }, (_, i): [string, string] => [`key-${i}`, 'v'.repeat(100)]);
    const hash = await mapOn(stack, pairs);
    const answerSize = 240 * 1024;
    const client = await RawClient.welcomed(stack.url, tls.cert);
    client.ws.pause();
    const getDiff = encodeRequestWrapper({ password: empty, request: { type: 'GetDiff', hash, fromUpdateId: 0n, uptoUpdateId: 0n } });
    // Waves of as many requests as may be in flight, until the server gives up on the peer
    // (which, paused, does not see the close: watch the server's side).
    let most = 0;
    let id = 0;
    const deadline = Date.now() + 20_000;
    while (stack.listener.stats().connections.active > 0) {
      if (Date.now() > deadline) throw new Error('the server did not cut the peer off within 20 s');
      for (let i = 0; i < maxInFlight; i++) client.send({ type: 'Request', id: ++id, payload: getDiff });
      await new Promise((r) => setTimeout(r, 5));
      most = Math.max(most, stack.listener.stats().unsentBytes);
    }
    client.ws.terminate();
    expect(stack.listener.stats().errors['drain-timeout']).toBe(1);
    expect(most).toBeGreaterThan(maxBufferedAnswerBytes);
    expect(most).toBeLessThanOrEqual(maxBufferedAnswerBytes + (maxInFlight + 1) * answerSize);
    expect(stack.listener.stats().unsentBytes).toBe(0);
    // The others are served.
    const remote = wsRemote(stack);
    expect(await remote.getUpdateId(hash)).toBe(0n);
    remote.close();
  });
});

describe('counts', () => {
  it('connections above maxConnections are refused; closing some makes room', async () => {
    stack = await startStack(tls, { limits: { maxConnections: 5 } });
    const outcomes = await Promise.all(
      Array.from({ length: 12 }, async () => {
        const c = new RawClient(stack!.url, tls.cert);
        return c.opened().then(
          () => c,
          () => undefined,
        );
      }),
    );
    const open = outcomes.filter((c): c is RawClient => c !== undefined);
    expect(open.length).toBe(5);
    expect(stack.listener.stats().connections.rejected).toBeGreaterThanOrEqual(7);
    for (const c of open) c.ws.close();
    await Promise.all(open.map((c) => c.closed));
    await until(() => stack!.listener.stats().connections.active === 0);
    const later = await RawClient.welcomed(stack.url, tls.cert);
    later.ws.close();
  });

  it('requests above the connection\'s rate get Error rate-limited and do not run', async () => {
    stack = await startStack(tls, { limits: { requestsPerSecond: 20 } });
    const client = await RawClient.welcomed(stack.url, tls.cert);
    for (let i = 1; i <= 60; i++) client.send({ type: 'Request', id: i, payload: getUpdateId(hash9) });
    const answers = (await client.messages(61)).slice(1);
    const limited = answers.filter((m) => m.type === 'Error' && m.code === 'rate-limited').length;
    const answered = answers.filter((m) => m.type === 'Response').length;
    expect(limited + answered).toBe(60);
    expect(answered).toBeGreaterThanOrEqual(20);
    expect(limited).toBeGreaterThanOrEqual(30);
    client.ws.close();
  });

  it('requests above maxInFlight get Error too-many-in-flight', async () => {
    stack = await startStack(tls, { limits: { maxInFlight: 2 } });
    const hash = await mapOn(stack, [['k', 'v']]);
    const client = await RawClient.welcomed(stack.url, tls.cert);
    for (let i = 1; i <= 50; i++) client.send({ type: 'Request', id: i, payload: getUpdateId(hash) });
    const answers = (await client.messages(51)).slice(1);
    expect(answers.filter((m) => m.type === 'Error' && m.code === 'too-many-in-flight').length).toBeGreaterThan(0);
    expect(new Set(answers.map((m) => (m as { id: number }).id)).size).toBe(50);
    client.ws.close();
  });

  it('a peer subscribing to thousands of maps: at most maxSubscriptions, unknown maps hold nothing', async () => {
    // In flight without bound here, so that every Subscribe is judged by the subscription limit.
    stack = await startStack(tls, { limits: { maxSubscriptions: 100, maxInFlight: 10_000 } });
    const writer = wsRemote(stack);
    const maps = Array.from({ length: 150 }, (_, i) => mapWith(writer, [['n', String(i)]]));
    await Promise.all(maps.map((m) => m.freeze()));
    const client = await RawClient.welcomed(stack.url, tls.cert);
    // 3,000 maps that do not exist: refused (a Subscribe in progress holds a place until answered).
    for (let i = 1; i <= 3000; i++) {
      const hash = new Uint8Array(32);
      new DataView(hash.buffer).setUint32(0, i);
      client.send({ type: 'Subscribe', id: i, hash });
    }
    const unknown = (await client.messages(1 + 3000)).slice(1);
    expect(unknown.filter((m) => m.type === 'Error' && m.code === 'hash-not-found').length).toBeGreaterThanOrEqual(100);
    expect(unknown.every((m) => m.type === 'Error' && (m.code === 'hash-not-found' || m.code === 'too-many-subscriptions'))).toBe(true);
    expect(stack.listener.stats()).toMatchObject({ subscriptions: 0, followedMaps: 0 });
    // Then the 150 that do.
    for (const [i, m] of maps.entries()) client.send({ type: 'Subscribe', id: 10_000 + i, hash: m.hash()! });
    const answers = (await client.messages(1 + 3000 + 150)).slice(1 + 3000);
    const count = (f: (m: ServerMessage) => boolean): number => answers.filter(f).length;
    expect(count((m) => m.type === 'Subscribed')).toBe(100);
    expect(count((m) => m.type === 'Error' && m.code === 'too-many-subscriptions')).toBe(50);
    expect(stack.listener.stats()).toMatchObject({ subscriptions: 100, followedMaps: 100 });

    // The subscribed ones are pushed; closing the connection drops every subscription.
    const first = maps.find((m, i) => answers.some((a) => a.type === 'Subscribed' && a.id === 10_000 + i))!;
    await writer.sendEvent(new Event(kvEvent, { type: 'Set', value: ['n', 'pushed'] }), first.hash()!);
    await until(() => client.received.some((m) => m.type === 'Update' && toHex(m.hash) === toHex(first.hash()!)));
    client.ws.close();
    await client.closed;
    await until(() => stack!.listener.stats().subscriptions === 0);
    expect(stack.listener.stats().followedMaps).toBe(0);

    // A client's watch beyond the limit falls back to polling.
    const limited = wsRemote(stack);
    const subscriptions = await Promise.all(maps.slice(0, 100).map((m) => limited.subscribe(m.hash()!, () => {})));
    const extra = mapWith(limited, [['n', '149']]);
    await extra.freeze();
    await expect(limited.subscribe(extra.hash()!, () => {})).rejects.toBeInstanceOf(LimitExceededError);
    const controller = new AbortController();
    const updates = limited.watch(extra, { intervalMs: 20, signal: controller.signal });
    const next = updates.next();
    await writer.sendEvent(new Event(kvEvent, { type: 'Set', value: ['n', 'polled'] }), extra.hash()!);
    expect((await next).value).toMatchObject({ changes: [{ key: 'n', value: 'polled' }] });
    controller.abort();
    for (const s of subscriptions) s.unsubscribe();
    limited.close();
    writer.close();
  });
});

describe('tokens', () => {
  it('a wrong token: Error unauthorized, close 4401, AuthenticationError for the client', async () => {
    stack = await startStack(tls);
    const client = new RawClient(stack.url, tls.cert);
    await client.opened();
    client.send({ type: 'Hello', token: new TextEncoder().encode('guess') });
    expect((await client.messages(1))[0]).toMatchObject({ type: 'Error', id: 0, code: 'unauthorized' });
    expect((await client.closed).code).toBe(CLOSE_UNAUTHORIZED);
    const remote = wsRemote(stack, 'another guess');
    await expect(remote.getUpdateId(hash9)).rejects.toMatchObject({ name: 'AuthenticationError', code: 'authentication-failed' });
    await expect(remote.connect()).rejects.toMatchObject({ name: 'AuthenticationError' });
    remote.close();
    expect(stack.listener.stats().errors.unauthorized).toBe(3);
  });

  it('Welcome tells the grants and limits', async () => {
    stack = await startStack(tls, { limits: { maxInFlight: 7, maxSubscriptions: 9, maxMessageSize: 4096 } });
    const remote = wsRemote(stack);
    expect(await remote.connect()).toEqual({ readOnly: false, maxMessageSize: 4096, maxInFlight: 7, maxSubscriptions: 9 });
    remote.close();
    expect(MESSAGE_HEADER_SIZE).toBe(5);
  });
});

async function until(condition: () => boolean): Promise<void> {
  const deadline = Date.now() + 10_000;
  while (!condition()) {
    if (Date.now() > deadline) throw new Error('condition not met within 10 s');
    await new Promise((r) => setTimeout(r, 5));
  }
}
