// Authorization for browsers: tokens instead of the password, read-only
// tokens, tokens limited to maps or event variants, the tokens file, and a
// Rust client over TLS sharing a map with a WebSocket client.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { toHex } from '@syncstate-ts/codec';
import { Event, kinds } from '@syncstate-ts/core';
import { ForbiddenError, TcpStateRemote } from '@syncstate-ts/remote';
import { createSelfSignedCertificate, FULL_ACCESS, READ_ONLY_ACCESS } from '@syncstate-ts/server';
import { parseTokens, tokenAuthorize, TokenFileError, WebSocketListener, type PeerInfo } from '@syncstate-ts/server-websocket';
import { kvEvent } from '@syncstate-ts/testkit/kv-server';
import { RustClient } from '@syncstate-ts/testkit/rust';
import { mapWith, PASSWORD, startStack, wsRemote, type Stack } from './helpers.js';

const set = (k: string, v: string) => new Event(kvEvent, { type: 'Set', value: [k, v] });
const setMany = (pairs: Array<[string, string]>) => new Event(kvEvent, { type: 'SetMany', value: pairs });

let tls: { cert: string; key: string };
let stack: Stack;
let shared: Uint8Array;
let other: Uint8Array;
const seenPeers: PeerInfo[] = [];

beforeAll(async () => {
  tls = await createSelfSignedCertificate();
  // Hashes of two maps, computed locally, for the token table.
  const a = mapWith(undefined, [['color', 'red'], ['size', 'M']]);
  const b = mapWith(undefined, [['other', 'map']]);
  await a.freeze();
  await b.freeze();
  shared = a.hash()!;
  other = b.hash()!;
  const table = tokenAuthorize([
    { token: 'reader-token-0001', access: READ_ONLY_ACCESS },
    { token: 'writer-token-0001', access: FULL_ACCESS },
    { token: 'one-map-token-001', access: { readOnly: false, maps: new Set([toHex(shared)]) } },
    { token: 'set-only-token-01', access: { readOnly: false, events: new Set(['Set']) } },
  ]);
  stack = await startStack(tls, {
    authorize: (token, peer) => {
      seenPeers.push(peer);
      return table(token, peer);
    },
  });
  // The maps exist on the server (created through a full-access connection).
  const admin = wsRemote(stack, 'writer-token-0001');
  for (const pairs of [[['color', 'red'], ['size', 'M']], [['other', 'map']]] as Array<Array<[string, string]>>) {
    await mapWith(admin, pairs).freeze();
  }
  admin.close();
});
afterAll(async () => {
  await stack.close();
});

describe('tokens', () => {
  it('the password is not a token when an authorize hook is given', async () => {
    const remote = wsRemote(stack, PASSWORD);
    await expect(remote.getUpdateId(shared)).rejects.toMatchObject({ name: 'AuthenticationError' });
    remote.close();
  });

  it('authorize sees the peer, its Origin and path', async () => {
    const remote = wsRemote({ ...stack, url: `${stack.url}sync?room=1` }, 'reader-token-0001');
    await remote.connect();
    expect(seenPeers.at(-1)).toMatchObject({ path: '/sync?room=1', peer: expect.stringMatching(/^127\.0\.0\.1:\d+$/) });
    remote.close();
  });

  it('a read-only token reads and subscribes, but cannot send events or Init', async () => {
    const remote = wsRemote(stack, 'reader-token-0001');
    expect(await remote.connect()).toMatchObject({ readOnly: true });
    const map = mapWith(remote, [['color', 'red'], ['size', 'M']]);
    await map.freeze(); // GetUpdateId only: the map exists
    await remote.sync(map);
    const sub = await remote.subscribe(shared, () => {});
    sub.unsubscribe();
    await expect(remote.sendEvent(set('color', 'green'), shared)).rejects.toBeInstanceOf(ForbiddenError);
    const fresh = mapWith(remote, [['never', 'created']]);
    await expect(fresh.freeze()).rejects.toMatchObject({ cause: expect.any(ForbiddenError) });
    // Refusals do not close the connection.
    expect(await remote.getUpdateId(shared)).toBeGreaterThanOrEqual(0n);
    remote.close();
  });

  it('a token limited to one map cannot read, subscribe to or change another', async () => {
    const remote = wsRemote(stack, 'one-map-token-001');
    expect(await remote.getUpdateId(shared)).toBeGreaterThanOrEqual(0n);
    await expect(remote.getUpdateId(other)).rejects.toBeInstanceOf(ForbiddenError);
    await expect(remote.subscribe(other, () => {})).rejects.toBeInstanceOf(ForbiddenError);
    await expect(remote.sendEvent(set('other', 'x'), other)).rejects.toBeInstanceOf(ForbiddenError);
    await remote.sendEvent(set('size', 'L'), shared);
    remote.close();
  });

  it('a token limited to Set events cannot send SetMany', async () => {
    const remote = wsRemote(stack, 'set-only-token-01');
    await remote.sendEvent(set('color', 'blue'), shared);
    await expect(remote.sendEvent(setMany([['color', 'x']]), shared)).rejects.toThrow(/may not send SetMany events/);
    remote.close();
    expect(stack.server.metrics().errors.forbidden).toBeGreaterThanOrEqual(1);
  });
});

describe('the tokens file', () => {
  it('parses tokens, access, maps and events', () => {
    const hash = 'AB'.repeat(32);
    const entries = parseTokens(`# comment\n\nreader-5f1c2a8e  read\n  editor-91b0d4c7 write ${hash} events=Set,SetMany\n`);
    expect(entries).toEqual([
      { token: 'reader-5f1c2a8e', access: { readOnly: true }, line: 3 },
      { token: 'editor-91b0d4c7', access: { readOnly: false, maps: new Set(['ab'.repeat(32)]), events: new Set(['Set', 'SetMany']) }, line: 4 },
    ]);
  });

  it('refuses what it cannot read, with the line', () => {
    for (const [text, line] of [
      ['short read', 1],
      ['ok-token-00001 read\nok-token-00001 write', 2],
      ['ok-token-00001 admin', 1],
      ['ok-token-00001', 1],
      ['ok-token-00001 read abc', 1],
      ['ok-token-00001 read events=', 1],
    ] as const) {
      expect(() => parseTokens(text), text).toThrow(TokenFileError);
      try {
        parseTokens(text);
      } catch (err) {
        expect((err as TokenFileError).line).toBe(line);
        expect((err as TokenFileError).code).toBe('invalid-token-file');
      }
    }
  });
});

describe('plain WebSocket', () => {
  it('is refused on an address other than loopback', () => {
    const service = { authorize: () => undefined, respond: async () => ({ type: 'no-answer' as const }), updateId: async () => undefined, follow: () => () => {} };
    expect(() => new WebSocketListener({ service, host: '0.0.0.0' })).toThrow(/loopback/);
    expect(() => new WebSocketListener({ service, host: '127.0.0.1' })).not.toThrow();
  });

  it('serves ws:// on 127.0.0.1', async () => {
    const plain = await startStack(tls, { tls: undefined });
    expect(plain.url).toMatch(/^ws:\/\/127\.0\.0\.1:\d+\/$/);
    const remote = wsRemote(plain);
    const map = mapWith(remote, [['plain', 'yes']]);
    await map.freeze();
    expect(await remote.getUpdateId(map.hash()!)).toBe(0n);
    remote.close();
    await plain.close();
  });
});

describe('with the Rust client', () => {
  it('a Rust client over TLS and a WebSocket client on one map see each other\'s changes', async () => {
    const rust = RustClient.start({ port: stack.server.address()!.port, rootCert: tls.cert, password: PASSWORD });
    try {
      const pairs: Array<[string, string]> = [['from', 'nobody'], ['to', 'nobody']];
      await rust.ok({ op: 'new', id: 'm', pairs });
      const { hash } = await rust.ok<{ hash: string }>({ op: 'freeze', id: 'm' });
      const ws = wsRemote(stack, 'writer-token-0001');
      const map = mapWith(ws, pairs);
      await map.freeze();
      expect(toHex(map.hash()!)).toBe(hash);

      await rust.ok({ op: 'send_event', id: 'm', event: { Set: ['from', 'rust'] } });
      const updates = ws.watch(map, { signal: AbortSignal.timeout(10_000) });
      expect((await updates.next()).value).toMatchObject({ toUpdateId: 1n, changes: [{ key: 'from', value: 'rust' }] });
      await updates.return();

      await ws.sendEvent(set('to', 'websocket'), map.hash()!);
      expect(await rust.ok({ op: 'set_update_id', id: 'm', target: '2' })).toEqual({ update_id: '2' });
      expect((await rust.ok<{ pairs: unknown }>({ op: 'get', id: 'm' })).pairs).toEqual([
        ['from', 'rust'],
        ['to', 'websocket'],
      ]);
      ws.close();
      // The TLS port still takes the password as before.
      const tlsRemote = new TcpStateRemote({ port: stack.server.address()!.port, tls: { ca: tls.cert }, password: PASSWORD, key: kinds.string, value: kinds.string });
      expect(await tlsRemote.getUpdateId(map.hash()!)).toBe(2n);
    } finally {
      await rust.close();
    }
  });
});
