// The gateway in front of the real Rust server: what a browser gets through
// it is what the Rust server answers over TLS, byte for byte, though the
// browser never holds the password; tokens decide what a connection may do;
// and the Rust server's defects that a relay can see coming never reach it.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { encode, encodeFrame, encodeRequestWrapper, t, toHex, type Request } from '@syncstate-ts/codec';
import { encodeInitData, Event, kinds } from '@syncstate-ts/core';
import { AuthenticationError, ForbiddenError, TcpStateRemote } from '@syncstate-ts/remote';
import { FULL_ACCESS, READ_ONLY_ACCESS } from '@syncstate-ts/server';
import { tokenAuthorize } from '@syncstate-ts/server-websocket';
import { rawTls } from '@syncstate-ts/testkit/wire';
import { EDITOR, kvEvent, mapWith, RawClient, READER, startStack, wsRemote, type Stack } from './helpers.js';

const NOT_THE_PASSWORD = new TextEncoder().encode('whatever a browser puts here');
const ZERO_HASH = new Uint8Array(32);

let stack: Stack;
let direct: TcpStateRemote<string, string>;
const SET_ONLY = 'set-only-token-0123';
let limitedMap = '';
const MAP_ONLY = 'map-only-token-0123';

beforeAll(async () => {
  // The grants of two tokens name a map made below; the authorize hook reads them when a connection says Hello.
  const grants = tokenAuthorize([
    { token: EDITOR, access: FULL_ACCESS },
    { token: READER, access: READ_ONLY_ACCESS },
  ]);
  stack = await startStack({
    authorize: (token, peer) => {
      const text = new TextDecoder().decode(token);
      if (text === SET_ONLY) return { readOnly: false, events: new Set(['Set']) };
      if (text === MAP_ONLY) return { readOnly: false, maps: new Set([limitedMap]) };
      return grants(token, peer);
    },
  });
  direct = new TcpStateRemote({ port: stack.rust.port, tls: { ca: stack.rust.cert }, password: stack.rust.password, key: kinds.string, value: kinds.string });
});
afterAll(async () => {
  await stack?.close();
});

const set = (k: string, v: string): Event<unknown> => new Event(kvEvent, { type: 'Set', value: [k, v] }) as Event<unknown>;

/** The Rust server's raw answer over TLS to `request` with its password (frame header removed). */
async function overTls(request: Request): Promise<string> {
  const wrapper = encodeRequestWrapper({ password: new TextEncoder().encode(stack.rust.password), request });
  const result = await rawTls(stack.rust.port, stack.rust.cert, encodeFrame(wrapper));
  return toHex(result.bytes.subarray(4));
}

async function waitForUpdate(hash: Uint8Array, id: bigint): Promise<void> {
  for (let i = 0; (await direct.getUpdateId(hash)) < id; i++) {
    if (i > 200) throw new Error(`update ${id} never came`);
    await new Promise((r) => setTimeout(r, 20));
  }
}

describe('relaying', () => {
  it('answers each request with the bytes the Rust server answers over TLS, whatever password the browser sent', async () => {
    const map = mapWith(direct, [['a', '1'], ['b', '2']]);
    await map.freeze();
    const hash = map.hash()!;
    await direct.sendEvent(set('a', 'x'), hash);
    await direct.sendEvent(set('b', 'y'), hash);
    await waitForUpdate(hash, 2n);
    const rejected = mapWith(undefined, [['__reject__', 'yes']]);
    await rejected.freeze();

    const requests: Request[] = [
      { type: 'GetUpdateId', hash },
      { type: 'GetUpdateId', hash: ZERO_HASH }, // HashNotFound
      { type: 'GetDiff', hash, fromUpdateId: 1n, uptoUpdateId: 2n }, // one pair
      { type: 'GetDiff', hash, fromUpdateId: 1n, uptoUpdateId: 1n }, // Rust's from == upto quirk: from u64::MAX, upto 0
      { type: 'GetDiff', hash: ZERO_HASH, fromUpdateId: 0n, uptoUpdateId: 1n },
      { type: 'Init', hash, initData: encodeInitData(map) }, // known map: InitSuccess
      { type: 'Init', hash: rejected.hash()!, initData: encodeInitData(rejected) }, // the init hook refuses: InitFailure with its message
      { type: 'Event', hash, eventData: encode(kvEvent, { type: 'Noop' }) },
      { type: 'Event', hash: ZERO_HASH, eventData: encode(kvEvent, { type: 'Noop' }) }, // HashNotFound
    ];
    const client = await RawClient.hello(stack.url, EDITOR);
    expect(await client.next()).toMatchObject({ type: 'Welcome', readOnly: false });
    for (const [i, request] of requests.entries()) {
      const answer = await client.request(i + 1, encodeRequestWrapper({ password: NOT_THE_PASSWORD, request }));
      expect(answer.type, request.type).toBe('Response');
      expect(toHex((answer as { payload: Uint8Array }).payload), `${request.type} #${i}`).toBe(await overTls(request));
    }
    client.ws.close();
  });

  it('syncs, sends events and follows pushes with only a token', async () => {
    const remote = wsRemote(stack.url);
    const map = mapWith(remote, [['color', 'red'], ['size', 'M']]);
    await map.freeze();
    const updates = remote.watch(map, { signal: AbortSignal.timeout(10_000) });
    await remote.sendEvent(set('color', 'blue'), map.hash()!);
    const first = await updates.next();
    expect(first.value).toMatchObject({ toUpdateId: 1n });
    expect(map.get('color')).toBe('blue');
    // A change made by a TLS client of the Rust server arrives as a push too.
    await direct.sendEvent(set('size', 'L'), map.hash()!);
    expect((await updates.next()).value).toMatchObject({ toUpdateId: 2n });
    expect(map.get('size')).toBe('L');
    await updates.return();
    remote.close();
  });
});

describe('tokens', () => {
  it('refuses a wrong token: Error unauthorized, close 4401, AuthenticationError', async () => {
    const raw = await RawClient.hello(stack.url, 'not-a-token-at-all');
    expect(await raw.next()).toMatchObject({ type: 'Error', id: 0, code: 'unauthorized' });
    expect((await raw.closed).code).toBe(4401);
    // The upstream password is no token either: browsers never hold it, and it opens nothing.
    await expect(wsRemote(stack.url, stack.rust.password).connect()).rejects.toBeInstanceOf(AuthenticationError);
  });

  it('a read-only token reads and follows, and its events and Inits are refused', async () => {
    const map = mapWith(direct, [['read', 'only']]);
    await map.freeze();
    const reader = wsRemote(stack.url, READER);
    expect((await reader.connect()).readOnly).toBe(true);
    expect(await reader.getUpdateId(map.hash()!)).toBe(0n);
    await expect(reader.sendEvent(set('read', 'write'), map.hash()!)).rejects.toBeInstanceOf(ForbiddenError);
    const fresh = mapWith(undefined, [['never', 'created']]);
    await fresh.freeze();
    await expect(reader.init(fresh)).rejects.toBeInstanceOf(ForbiddenError); // GetUpdateId: HashNotFound, then Init: refused
    expect(await direct.request({ type: 'GetUpdateId', hash: fresh.hash()! })).toEqual({ type: 'HashNotFound' });
    reader.close();
  });

  it('event grants are checked on the decoded variant; map grants on the hash', async () => {
    const map = mapWith(direct, [['k', 'v'], ['other', 'w']]);
    await map.freeze();
    const hash = map.hash()!;
    const setOnly = wsRemote(stack.url, SET_ONLY);
    await setOnly.sendEvent(set('k', 'v2'), hash);
    await expect(setOnly.sendEvent(new Event(kvEvent, { type: 'SetMany', value: [['k', 'v3']] }), hash)).rejects.toBeInstanceOf(ForbiddenError);
    await waitForUpdate(hash, 1n);
    const seen = mapWith(direct, [['k', 'v'], ['other', 'w']]);
    await seen.freeze();
    await direct.sync(seen);
    expect(seen.get('k')).toBe('v2'); // the Set went through, the SetMany did not
    setOnly.close();

    limitedMap = toHex(hash);
    const mapOnly = wsRemote(stack.url, MAP_ONLY);
    expect(await mapOnly.getUpdateId(hash)).toBeGreaterThanOrEqual(1n);
    await expect(mapOnly.getUpdateId(ZERO_HASH)).rejects.toBeInstanceOf(ForbiddenError);
    mapOnly.close();
  });
});

describe('the Rust server is guarded from what would break it', () => {
  it('GetDiff with upto < from inside the history (a panic that stops the Rust server serving) gets the empty diff, and the server keeps serving', async () => {
    const map = mapWith(direct, [['p', '0']]);
    await map.freeze();
    const hash = map.hash()!;
    for (let i = 1; i <= 3; i++) await direct.sendEvent(set('p', String(i)), hash);
    await waitForUpdate(hash, 3n);
    const client = await RawClient.hello(stack.url, EDITOR);
    await client.next();
    const answer = await client.request(1, encodeRequestWrapper({ password: NOT_THE_PASSWORD, request: { type: 'GetDiff', hash, fromUpdateId: 2n, uptoUpdateId: 1n } }));
    expect(answer.type).toBe('Response');
    // Diff { from 0, upto 0, not full, no pairs }: what @syncstate-ts/server answers there.
    // 06 Diff, 00 from, 00 upto, 00 not full, 01 length of encoded_diff, 00 no pairs.
    expect(toHex((answer as { payload: Uint8Array }).payload)).toBe('060000000100');
    // upto < from past the map's id: the full diff Rust answers (no panic possible there).
    const full = await client.request(2, encodeRequestWrapper({ password: NOT_THE_PASSWORD, request: { type: 'GetDiff', hash, fromUpdateId: 9n, uptoUpdateId: 1n } }));
    expect(toHex((full as { payload: Uint8Array }).payload)).toBe(await overTls({ type: 'GetDiff', hash, fromUpdateId: 9n, uptoUpdateId: 1n }));
    // Still serving every map (a poisoned Rust server closes every later connection unanswered).
    expect(await direct.getUpdateId(hash)).toBe(3n);
    client.ws.close();
  });

  it('an Init whose data does not hash to its hash gets HashMismatch from the gateway; the correct Init then creates the map', async () => {
    const good = mapWith(undefined, [['x', '1']]);
    await good.freeze();
    const wrong = mapWith(undefined, [['x', '2']]);
    const client = await RawClient.hello(stack.url, EDITOR);
    await client.next();
    const mismatch = await client.request(1, encodeRequestWrapper({ password: NOT_THE_PASSWORD, request: { type: 'Init', hash: good.hash()!, initData: encodeInitData(wrong) } }));
    expect(toHex((mismatch as { payload: Uint8Array }).payload)).toBe('05'); // HashMismatch
    // Relayed, that Init would have left the hash "in progress" on the Rust server for ever: every
    // later Init answered InitSuccess and no map made. Here the correct one creates it.
    const created = await client.request(2, encodeRequestWrapper({ password: NOT_THE_PASSWORD, request: { type: 'Init', hash: good.hash()!, initData: encodeInitData(good) } }));
    expect(toHex((created as { payload: Uint8Array }).payload)).toBe('04'); // InitSuccess
    expect(await direct.getUpdateId(good.hash()!)).toBe(0n);
    client.ws.close();
  });

  it('payloads claiming a 2^40-byte string (which abort the Rust process) are refused at the gateway', async () => {
    const map = mapWith(direct, [['alive', 'yes']]);
    await map.freeze();
    const hash = map.hash()!;
    // Set(String, String) whose first string claims 2^40 bytes: 00, then FD + u64 little endian.
    const hugeString = Uint8Array.of(0xfd, 0, 0, 0, 0, 0, 1, 0, 0);
    const event = Uint8Array.of(0x00, ...hugeString);
    const initData = Uint8Array.of(0x01, ...hugeString); // a HashMap of one pair whose key claims 2^40 bytes
    const client = await RawClient.hello(stack.url, EDITOR);
    await client.next();
    expect(await client.request(1, encodeRequestWrapper({ password: NOT_THE_PASSWORD, request: { type: 'Event', hash, eventData: event } }))).toMatchObject({
      type: 'Error',
      code: 'no-answer',
    });
    expect(await client.request(2, encodeRequestWrapper({ password: NOT_THE_PASSWORD, request: { type: 'Init', hash: ZERO_HASH, initData } }))).toMatchObject({
      type: 'Error',
      code: 'no-answer',
    });
    expect(stack.rust.isRunning()).toBe(true);
    expect(await direct.getUpdateId(hash)).toBe(0n);
    client.ws.close();
  });

  it('an answer the Rust server cuts at 64 KiB is a no-answer error that says so, not a hang or a broken Response', async () => {
    const pairs: Array<[string, string]> = Array.from({ length: 1000 }, (_, i) => [`key-${i}`, 'v'.repeat(100)]);
    const big = mapWith(direct, pairs); // ~110 KB of pairs: our TLS client sends the Init whole
    await big.freeze();
    const client = await RawClient.hello(stack.url, EDITOR);
    await client.next();
    const answer = await client.request(1, encodeRequestWrapper({ password: NOT_THE_PASSWORD, request: { type: 'GetDiff', hash: big.hash()!, fromUpdateId: 0n, uptoUpdateId: 0n } }));
    expect(answer).toMatchObject({ type: 'Error', code: 'no-answer' });
    expect((answer as { message: string }).message).toMatch(/65,536 bytes/);
    client.ws.close();
  });

  it('an event that does not decode is answered as Rust would: HashNotFound for an unknown map, no answer otherwise', async () => {
    const map = mapWith(direct, [['e', '1']]);
    await map.freeze();
    const variant9 = encode(t.u32, 9); // no such KvEvent variant
    const client = await RawClient.hello(stack.url, EDITOR);
    await client.next();
    const unknown = await client.request(1, encodeRequestWrapper({ password: NOT_THE_PASSWORD, request: { type: 'Event', hash: ZERO_HASH, eventData: variant9 } }));
    expect(toHex((unknown as { payload: Uint8Array }).payload)).toBe(await overTls({ type: 'Event', hash: ZERO_HASH, eventData: variant9 }));
    expect(await client.request(2, encodeRequestWrapper({ password: NOT_THE_PASSWORD, request: { type: 'Event', hash: map.hash()!, eventData: variant9 } }))).toMatchObject({
      type: 'Error',
      code: 'no-answer',
    });
    client.ws.close();
  });
});
