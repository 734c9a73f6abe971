// Live: the real Rust client (syncstate 0.3.0 TcpStateRemote + StateMap, via
// `syncstate-fixtures client`) against our TLS server (examples/ts-server.ts).
import { readFileSync } from 'node:fs';
import { createServer as createTlsServer } from 'node:tls';
import { decodeRequestWrapper, decode, type Request } from '@syncstate-ts/codec';
import { decodeInitData, kinds } from '@syncstate-ts/core';
import { createSelfSignedCertificate, createServer, type SyncStateServer } from '@syncstate-ts/server';
import { hashOf, kvHandler, memoryLogger, payload, req } from '@syncstate-ts/testkit/fixtures';
import { RustClient } from '@syncstate-ts/testkit/rust';
import { fixturesDir } from '@syncstate-ts/testkit/rust-fixtures';
import { rustClientScenarios } from '@syncstate-ts/testkit/rust-client-scenarios';
import { request } from '@syncstate-ts/testkit/wire';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { kvEvent, kvHook, rejectMarker, startKvServer, type KvEvent } from '../examples/ts-server.js';
// serveConnection is an internal (the stream layer under every transport): imported from src on purpose.
import { serveConnection } from '../src/transport/stream.js';
import { streamOptions } from './helpers/stream-options.js';

const PASSWORD = 'correct horse';
const hex = (bytes: Uint8Array) => Buffer.from(bytes).toString('hex');

type Got = { pairs: Array<[string, string]>; update_id: string; hash: string | null };

let cert: string;
let key: string;
let server: SyncStateServer<string, string, KvEvent>;
let rust: RustClient;
let logger: ReturnType<typeof memoryLogger>;
let port: number;

beforeAll(async () => {
  ({ cert, key } = await createSelfSignedCertificate());
  logger = memoryLogger();
  // Short read limits: the Rust client's truncated requests (see below) are cut off quickly.
  server = await startKvServer({ cert, key, password: PASSWORD, logger, limits: { idleTimeoutMs: 1_000 } });
  port = server.address()!.port;
  rust = RustClient.start({ port, rootCert: cert, password: PASSWORD });
});

afterAll(async () => {
  await rust?.close();
  await server?.close();
});

describe('Rust client → TypeScript server', () => {
  it('freeze of a new map: GetUpdateId answered HashNotFound, then Init creates it under the same hash', async () => {
    const before = server.metrics();
    const pairs: Array<[string, string]> = [
      ['fruit', 'apple'],
      ['colour', 'red'],
    ];
    await rust.ok({ op: 'new', id: 'fresh', pairs });
    const frozen = await rust.ok<{ hash: string; update_id: string }>({ op: 'freeze', id: 'fresh' });
    expect(frozen).toEqual({ hash: hex(await hashOf(pairs)), update_id: '0' });
    const after = server.metrics();
    expect(after.maps).toBe(before.maps + 1);
    expect(after.responses.HashNotFound - before.responses.HashNotFound).toBe(1);
    expect(after.responses.InitSuccess - before.responses.InitSuccess).toBe(1);
    expect(await request(port, cert, PASSWORD, req.getUpdateId(await hashOf(pairs)))).toEqual({ type: 'UpdateId', updateId: 0n });
  });

  it('freeze of a map the server knows: GetUpdateId answers UpdateId and no Init is sent', async () => {
    const pairs: Array<[string, string]> = [['known', 'yes']];
    await rust.ok({ op: 'new', id: 'k1', pairs });
    await rust.ok({ op: 'freeze', id: 'k1' });
    const before = server.metrics();
    await rust.ok({ op: 'new', id: 'k2', pairs });
    expect(await rust.ok({ op: 'freeze', id: 'k2' })).toEqual({ hash: hex(await hashOf(pairs)), update_id: '0' });
    const after = server.metrics();
    expect(after.requests.Init).toBe(before.requests.Init);
    expect(after.responses.UpdateId - before.responses.UpdateId).toBe(1);
    expect(after.maps).toBe(before.maps);
  });

  it('send_event, then set_update_id brings the values the TypeScript hooks wrote', async () => {
    await rust.ok({ op: 'new', id: 'ev', pairs: [['x', '0'], ['y', '0'], ['z', '0']] });
    await rust.ok({ op: 'freeze', id: 'ev' });
    expect(await rust.ok({ op: 'send_event', id: 'ev', event: { Set: ['x', 'one'] } })).toEqual({ event: '000178036f6e65' });
    await rust.ok({ op: 'send_event', id: 'ev', event: { SetMany: [['y', 'two'], ['z', 'three']] } });
    await rust.ok({ op: 'send_event', id: 'ev', event: 'Noop' });
    expect(await rust.ok({ op: 'set_update_id', id: 'ev', target: '2' })).toEqual({ update_id: '2' });
    const got = await rust.ok<Got>({ op: 'get', id: 'ev' });
    expect(got.pairs).toEqual([['x', 'one'], ['y', 'two'], ['z', 'three']]);
    expect(got.update_id).toBe('2');
  });

  it('a failing hook (Fail event) is logged; later events still apply', async () => {
    await rust.ok({ op: 'new', id: 'fail', pairs: [['f', '0']] });
    const { hash } = await rust.ok<{ hash: string }>({ op: 'freeze', id: 'fail' });
    await rust.ok({ op: 'send_event', id: 'fail', event: { Fail: { reason: 'refused by policy' } } });
    await rust.ok({ op: 'send_event', id: 'fail', event: { Set: ['f', 'after'] } });
    expect(await rust.ok({ op: 'set_update_id', id: 'fail', target: '1' })).toEqual({ update_id: '1' });
    expect((await rust.ok<Got>({ op: 'get', id: 'fail' })).pairs).toEqual([['f', 'after']]);
    const logged = logger.records.find((r) => r.level === 'error' && r.obj.hash === hash);
    expect((logged?.obj.err as Error).message).toBe('hook 0 failed: refused by policy');
  });

  it('an up-to-date poll gets a FULL diff (Rust would turn an empty one into EmptyDiff); the client stays at the server id', async () => {
    await rust.ok({ op: 'new', id: 'poll', pairs: [['p', '0'], ['q', '0']] });
    const { hash } = await rust.ok<{ hash: string }>({ op: 'freeze', id: 'poll' });
    await rust.ok({ op: 'send_event', id: 'poll', event: { Set: ['p', '1'] } });
    await rust.ok({ op: 'set_update_id', id: 'poll', target: '1' });
    // Up to date at 1, asking for 5: Rust's get_diff answers the whole map, from 0 upto 1.
    expect(await rust.ok({ op: 'set_update_id', id: 'poll', target: '5' })).toEqual({ update_id: '1' });
    expect((await rust.ok<Got>({ op: 'get', id: 'poll' })).pairs).toEqual([['p', '1'], ['q', '0']]);
    const answer = await request(port, cert, PASSWORD, req.getDiff(Buffer.from(hash, 'hex'), 1n, 5n));
    expect(answer).toMatchObject({ type: 'Diff', fromUpdateId: 0n, uptoUpdateId: 1n, isFull: true });
  });

  it('wrong password: the Rust client reports freeze as a success (it treats IncorrectPassword as "map exists"); later calls fail', async () => {
    const wrong = RustClient.start({ port, rootCert: cert, password: 'wrong' });
    try {
      const before = server.metrics();
      await wrong.ok({ op: 'new', id: 'w', pairs: [['secret', 's']] });
      expect(await wrong.ok({ op: 'freeze', id: 'w' })).toEqual({ hash: hex(await hashOf([['secret', 's']])), update_id: '0' });
      const afterFreeze = server.metrics();
      expect(afterFreeze.responses.IncorrectPassword - before.responses.IncorrectPassword).toBe(1);
      expect(afterFreeze.requests.Init).toBe(before.requests.Init); // no Init was even tried
      expect(afterFreeze.maps).toBe(before.maps);
      // BasicError's Display is "Err: ": the reason survives only in Debug, or not at all.
      expect(await wrong.err({ op: 'set_update_id', id: 'w', target: '1' })).toEqual({
        err: 'Error while trying to fetch updates: Err: ',
        debug: 'FetchUpdateError("Err: ")',
      });
      expect(await wrong.err({ op: 'send_event', id: 'w', event: 'Noop' })).toEqual({
        err: 'Err: ',
        debug: 'Unknown("Unknown error: IncorrectPassword")',
      });
    } finally {
      await wrong.close();
    }
  });

  it('HashMismatch: a Rust map with a key pushed twice hashes it twice; our server answers HashMismatch every time', async () => {
    const before = server.metrics();
    await rust.ok({ op: 'new', id: 'dup', pairs: [['k', 'first'], ['k', 'second']] });
    // Rust client defect: StateMapError::from(Box<dyn Error>) keeps only BasicError's Display, "Err: ".
    expect(await rust.err({ op: 'freeze', id: 'dup' })).toEqual({ err: 'Unkown error', debug: 'UnknownError("Err: ")' });
    expect(server.metrics().responses.HashMismatch - before.responses.HashMismatch).toBe(1);
    // Not stuck "in progress" (the Rust server would answer InitSuccess to the retry).
    await rust.ok({ op: 'new', id: 'dup2', pairs: [['k', 'first'], ['k', 'second']] });
    await rust.err({ op: 'freeze', id: 'dup2' });
    const after = server.metrics();
    expect(after.responses.HashMismatch - before.responses.HashMismatch).toBe(2);
    expect(after.responses.InitSuccess).toBe(before.responses.InitSuccess);
    expect(after.maps).toBe(before.maps);
  });

  it('InitFailure from a TypeScript init hook fails the Rust freeze; no map is created', async () => {
    const before = server.metrics();
    const pairs: Array<[string, string]> = [['__reject__', 'x'], ['ok', 'y']];
    await rust.ok({ op: 'new', id: 'rej', pairs });
    // The Rust client loses the message (see above); the server did send it:
    expect((await rust.err({ op: 'freeze', id: 'rej' })).debug).toBe('UnknownError("Err: ")');
    const after = server.metrics();
    expect(after.responses.InitFailure - before.responses.InitFailure).toBe(1);
    expect(after.initFailures - before.initFailures).toBe(1);
    expect(after.maps).toBe(before.maps);
    expect(await request(port, cert, PASSWORD, await req.init(pairs))).toEqual({
      type: 'InitFailure',
      errorMessage: 'maps containing the key "__reject__" are rejected by this server',
    });
  });

  rustClientScenarios(() => ({ server, rust, password: PASSWORD }));
});

describe('TLS versions', () => {
  it.each(['TLSv1.2', 'TLSv1.3'] as const)('a Rust client connects over %s', async (version) => {
    const log = memoryLogger();
    const pinned = createServer<string, string, KvEvent>({
      tls: { cert, key, minVersion: version, maxVersion: version },
      password: PASSWORD,
      key: kinds.string,
      value: kinds.string,
      event: kvEvent,
      hooks: [kvHook],
      initHooks: [rejectMarker],
      logger: log,
    });
    const { port: pinnedPort } = await pinned.listen();
    const client = RustClient.start({ port: pinnedPort, rootCert: cert, password: PASSWORD });
    try {
      await client.ok({ op: 'new', id: 'v', pairs: [['tls', version]] });
      await client.ok({ op: 'freeze', id: 'v' });
      const protocols = log.records.filter((r) => r.msg === 'TLS connection').map((r) => r.obj.protocol);
      expect(protocols).toEqual([version, version]);
      expect(pinned.metrics().maps).toBe(1);
    } finally {
      await client.close();
      await pinned.close();
    }
  });
});

describe('bytes the Rust client sends', () => {
  it('decode with @syncstate-ts/codec into exactly the requests we expect', async () => {
    const handler = kvHandler(PASSWORD, { initHooks: [] });
    const connections: Array<Promise<Buffer>> = [];
    // A bare TLS server with the handler plugged in, and a tap on each socket.
    const tap = createTlsServer({ cert, key }, (socket) => {
      const chunks: Buffer[] = [];
      socket.on('data', (c: Buffer) => chunks.push(c));
      connections.push(serveConnection(socket, (p) => handler.respond(p), streamOptions()).then(() => Buffer.concat(chunks)));
    });
    await new Promise<void>((r) => tap.listen(0, '127.0.0.1', r));
    const client = RustClient.start({ port: (tap.address() as { port: number }).port, rootCert: cert, password: PASSWORD });
    try {
      const pairs: Array<[string, string]> = [
        ['ünïcödé', '✓'],
        ['plain', ''],
      ];
      await client.ok({ op: 'new', id: 'c', pairs });
      await client.ok({ op: 'freeze', id: 'c' });
      const { event } = await client.ok<{ event: string }>({ op: 'send_event', id: 'c', event: { Set: ['plain', 'set by Rust'] } });
      await client.ok({ op: 'set_update_id', id: 'c', target: '1' });
      const captured = await Promise.all(connections);
      const hash = await hashOf(pairs);
      const password = new TextEncoder().encode(PASSWORD);
      const decoded = captured.map((bytes) => {
        expect(bytes.readUInt32BE(0)).toBe(bytes.length - 4); // one whole frame per connection
        const wrapper = decodeRequestWrapper(bytes.subarray(4), { strict: true });
        expect(wrapper.password).toEqual(password);
        return wrapper.request;
      });
      expect(decoded.map((r) => r.type)).toEqual(['GetUpdateId', 'Init', 'Event', 'GetDiff']);
      for (const r of decoded) expect(r.hash).toEqual(hash);
      const [, init, ev, getDiff] = decoded as [Request, Extract<Request, { type: 'Init' }>, Extract<Request, { type: 'Event' }>, Request];
      expect(decodeInitData(init.initData, kinds.string, kinds.string, { strict: true }).sort()).toEqual(pairs.slice().sort());
      expect(decode(kvEvent, ev.eventData, { strict: true })).toEqual({ type: 'Set', value: ['plain', 'set by Rust'] });
      expect(hex(ev.eventData)).toBe(event);
      expect(getDiff).toEqual({ type: 'GetDiff', hash, fromUpdateId: 0n, uptoUpdateId: 1n });
    } finally {
      await client.close();
      await handler.close();
      await new Promise((r) => tap.close(r));
    }
  });
});

describe('README', () => {
  const readme = readFileSync(new URL('../README.md', import.meta.url), 'utf8');
  // The code block after `<!-- exercised: <path> -->`.
  const block = (path: string) => {
    const at = readme.indexOf(`<!-- exercised: ${path} -->`);
    const match = /```\w+\n([\s\S]*?)```/.exec(readme.slice(at));
    if (at < 0 || !match) throw new Error(`README shows no block for ${path}`);
    return match[1]!;
  };

  it('shows the Rust functions the fixture client runs, verbatim', () => {
    const source = readFileSync(`${fixturesDir}src/client.rs`, 'utf8');
    const exercised = /\/\/ README:begin\n([\s\S]*?)\/\/ README:end/.exec(source)![1]!;
    expect(block('fixtures/src/client.rs')).toBe(exercised);
  });

  it('shows the TypeScript server the live tests run, verbatim', () => {
    expect(block('packages/server/examples/ts-server.ts')).toBe(readFileSync(new URL('../examples/ts-server.ts', import.meta.url), 'utf8'));
  });
});
