// TcpStateRemote against a scripted local TLS server: what the client does
// with answers no correct server gives, and with servers that stall.
import type { TLSSocket } from 'node:tls';
import { decodeRequestWrapper, DecodeError, encodeFrame, encodeResponse, type Response } from '@syncstate-ts/codec';
import { Diff, kinds } from '@syncstate-ts/core';
import {
  AuthenticationError,
  ProtocolError,
  TcpStateRemote,
  TimeoutError,
  type TcpStateRemoteOptions,
} from '@syncstate-ts/remote';
import { createSelfSignedCertificate, type CertificateAndKey } from '@syncstate-ts/server';
import { localMap } from '@syncstate-ts/testkit/kv';
import { afterEach, beforeAll, describe, expect, it } from 'vitest';
import { readRequestFrame, startTlsStub, type StubServer } from './helpers/tls-stub.js';

let identity: CertificateAndKey;
let stub: StubServer | undefined;
beforeAll(async () => {
  identity = await createSelfSignedCertificate();
});
afterEach(async () => {
  await stub?.close();
  stub = undefined;
});

const hash = new Uint8Array(32).fill(7);

/** A stub that answers every request with `answer(request)` (raw frame bytes), or never when it returns undefined. */
async function serve(answer: (req: ReturnType<typeof decodeRequestWrapper>) => Uint8Array | undefined): Promise<StubServer> {
  stub = await startTlsStub(identity, (socket: TLSSocket) => {
    void readRequestFrame(socket).then((bytes) => {
      const out = answer(decodeRequestWrapper(bytes));
      if (out !== undefined) socket.end(out);
    });
  });
  return stub;
}

const respond = (r: Response): Uint8Array => encodeFrame(encodeResponse(r));

function remote(port: number, extra: Partial<TcpStateRemoteOptions<string, string>> = {}): TcpStateRemote<string, string> {
  return new TcpStateRemote({ port, tls: { ca: identity.cert }, password: 'pw', key: kinds.string, value: kinds.string, ...extra });
}

describe('TcpStateRemote with a scripted server', () => {
  it('sends the wrapper Rust expects: password bytes and the request', async () => {
    const seen: unknown[] = [];
    const s = await serve((req) => {
      seen.push(req);
      return respond({ type: 'UpdateId', updateId: 300n });
    });
    expect(await remote(s.port, { password: 'pässword' }).getUpdateId(hash)).toBe(300n);
    expect(seen).toEqual([{ password: new TextEncoder().encode('pässword'), request: { type: 'GetUpdateId', hash } }]);
  });

  it('times out a server that accepts the request and never answers', async () => {
    const s = await serve(() => undefined);
    const started = Date.now();
    const err = await remote(s.port, { responseTimeoutMs: 150 }).getUpdateId(hash).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(TimeoutError);
    expect(err).toMatchObject({ code: 'timeout', phase: 'response', timeoutMs: 150 });
    expect(Date.now() - started).toBeGreaterThanOrEqual(140);
    expect(s.accepted.length).toBe(1);
  });

  it('aborts a call waiting on a silent server with the signal reason', async () => {
    const s = await serve(() => undefined);
    const controller = new AbortController();
    const pending = remote(s.port).getUpdateId(hash, { signal: controller.signal });
    setTimeout(() => controller.abort(new Error('caller gave up')), 30);
    await expect(pending).rejects.toThrow('caller gave up');
    // An already aborted signal: no connection at all.
    await expect(remote(s.port).getUpdateId(hash, { signal: controller.signal })).rejects.toThrow('caller gave up');
    expect(s.accepted.length).toBe(1);
  });

  it('raises ProtocolError for an undecodable answer', async () => {
    const s = await serve(() => encodeFrame(new Uint8Array([42])));
    const err = await remote(s.port).getUpdateId(hash).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(ProtocolError);
    expect((err as Error).message).toContain('undecodable answer to GetUpdateId');
    expect((err as Error).cause).toBeInstanceOf(DecodeError);
  });

  it('raises ProtocolError for an answer the request does not allow', async () => {
    const s = await serve(() => respond({ type: 'EventInProcess' }));
    const r = remote(s.port);
    await expect(r.getUpdateId(hash)).rejects.toThrow(new ProtocolError('unexpected answer EventInProcess to GetUpdateId'));
    await expect(r.fetchUpdates(0n, 1n, hash)).rejects.toThrow('unexpected answer EventInProcess to GetDiff');
    await expect(r.sendInit(hash, new Uint8Array([0]))).rejects.toThrow('unexpected answer EventInProcess to Init');
  });

  it('raises ProtocolError for diff entries that are not (String, String)', async () => {
    const s = await serve(() =>
      respond({ type: 'Diff', fromUpdateId: 0n, uptoUpdateId: 1n, isFull: false, encodedDiff: new Uint8Array([1, 1, 0xff, 0]) }),
    );
    const err = await remote(s.port).fetchUpdates(0n, 1n, hash).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(ProtocolError);
    expect(((err as Error).cause as DecodeError).code).toBe('invalid-utf8');
  });

  it('refuses a diff that does not move the map forward, leaving the map as it was', async () => {
    const map = localMap([['k', 'v']]);
    await map.freeze();
    const s = await serve((req) =>
      req.request.type === 'GetUpdateId'
        ? respond({ type: 'UpdateId', updateId: 5n })
        : respond({ type: 'Diff', fromUpdateId: 0n, uptoUpdateId: 0n, isFull: false, encodedDiff: new Uint8Array([1, 1, 0x6b, 1, 0x78]) }),
    );
    const err = await remote(s.port).sync(map).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(ProtocolError);
    expect((err as Error).message).toBe('asked for the diff 0 → 5, got 0 → 0, which does not advance this map');
    expect([map.get('k'), map.getUpdateId()]).toEqual(['v', 0n]);
  });

  it('refuses a diff naming a key the map does not have', async () => {
    const map = localMap([['k', 'v']]);
    await map.freeze();
    const s = await serve((req) =>
      req.request.type === 'GetUpdateId'
        ? respond({ type: 'UpdateId', updateId: 1n })
        : respond({ type: 'Diff', fromUpdateId: 0n, uptoUpdateId: 1n, isFull: false, encodedDiff: new Uint8Array([1, 1, 0x7a, 1, 0x78]) }),
    );
    await expect(remote(s.port).sync(map)).rejects.toThrow(ProtocolError);
    expect([map.get('k'), map.getUpdateId(), map.has('z')]).toEqual(['v', 0n, false]);
  });

  it('refuses a server whose update id went backwards', async () => {
    const map = localMap([['k', 'v']]);
    await map.freeze();
    map.applyDiff(new Diff([['k', 'w']], false, 0n, 3n));
    const s = await serve(() => respond({ type: 'UpdateId', updateId: 1n }));
    await expect(remote(s.port).sync(map)).rejects.toThrow(/update id 1 is below this map's 3/);
  });

  it('maps IncorrectPassword to AuthenticationError on every call', async () => {
    const map = localMap([['k', 'v']]);
    await map.freeze();
    const s = await serve(() => respond({ type: 'IncorrectPassword' }));
    const r = remote(s.port);
    for (const call of [
      () => r.getUpdateId(hash),
      () => r.init(map),
      () => r.sendEvent(new Uint8Array([2]), hash),
      () => r.fetchUpdates(0n, 1n, hash),
      () => r.sendInit(hash, new Uint8Array([0])),
      () => r.sync(map),
    ]) {
      await expect(call()).rejects.toBeInstanceOf(AuthenticationError);
    }
  });

  it('validates its options and arguments', async () => {
    const base = { tls: { ca: 'x' }, password: 'pw', key: kinds.string, value: kinds.string };
    expect(new TcpStateRemote({ ...base, address: '[::1]:8080' })).toMatchObject({ host: '::1', port: 8080 });
    expect(new TcpStateRemote({ ...base, address: 'example.org:1' })).toMatchObject({ host: 'example.org', port: 1 });
    expect(new TcpStateRemote({ ...base, port: 9 })).toMatchObject({ host: '127.0.0.1', port: 9 });
    expect(() => new TcpStateRemote({ ...base })).toThrow('`port` (or `address`) is required');
    expect(() => new TcpStateRemote({ ...base, address: 'nope' })).toThrow(TypeError);
    expect(() => new TcpStateRemote({ ...base, port: 70_000 })).toThrow(RangeError);
    expect(() => new TcpStateRemote({ ...base, port: 1, maxFrameSize: 0 })).toThrow(RangeError);
    expect(() => new TcpStateRemote({ ...base, port: 1, responseTimeoutMs: -1 })).toThrow(RangeError);
    const r = new TcpStateRemote({ ...base, port: 1 });
    await expect(r.getUpdateId(new Uint8Array(31))).rejects.toThrow('a state map hash is 32 bytes, got 31 bytes');
    // An unfrozen map has no hash to name it by.
    await expect(r.sync(localMap([['k', 'v']]))).rejects.toThrow('the state map must be frozen first');
  });
});
