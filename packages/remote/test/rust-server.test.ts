// Live: @syncstate-ts/remote against the real Rust TcpStateServer (fixtures
// `server` mode, KvEvent hooks). Each test uses its own map (own hash).
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { createHash, randomBytes } from 'node:crypto';
import { encode } from '@syncstate-ts/codec';
import { encodeInitData, InitError } from '@syncstate-ts/core';
import {
  AuthenticationError,
  ConnectionClosedError,
  HashMismatchError,
  HashNotFoundError,
  InitFailureError,
  RemoteError,
} from '@syncstate-ts/remote';
import { kv, kvEvent, localMap, mapOf, remoteFor, snapshot, waitForUpdateId, type KvEvent } from '@syncstate-ts/testkit/kv';
import { rustServerForTests } from '@syncstate-ts/testkit/rust';
import { goldenDir } from '@syncstate-ts/testkit/rust-fixtures';
import { describe, expect, it } from 'vitest';

const server = rustServerForTests();

describe('KvEvent encoding', () => {
  it('matches the bytes Rust produced for every variant (golden protocol.json)', () => {
    const golden = JSON.parse(readFileSync(join(goldenDir, 'protocol.json'), 'utf8')) as {
      cases: Array<{ name: string; hex: string; value: { variant: string; value?: unknown } }>;
    };
    const events = golden.cases.filter((c) => c.name.startsWith('event/'));
    expect(events.map((c) => c.value.variant).sort()).toEqual(['Fail', 'Noop', 'Set', 'SetMany', 'SetMany']);
    for (const c of events) {
      const v = c.value;
      const value: KvEvent =
        v.variant === 'Noop'
          ? { type: 'Noop' }
          : v.variant === 'Fail'
            ? { type: 'Fail', ...(v.value as { reason: string }) }
            : v.variant === 'Set'
              ? { type: 'Set', value: v.value as [string, string] }
              : { type: 'SetMany', value: v.value as Array<[string, string]> };
      expect(Buffer.from(encode(kvEvent, value)).toString('hex'), c.name).toBe(c.hex);
    }
  });
});

describe('freeze (init)', () => {
  it('creates the map on first freeze (HashNotFound, then Init) and finds it afterwards', async () => {
    const remote = remoteFor(server());
    const pairs = [['init-a', '1'], ['init-b', '2']] as const;
    const first = mapOf(remote, pairs);
    first.freeze(); // computes the hash synchronously; the init runs in the background
    const hash = first.hash()!;
    await first.freeze();
    expect(await remote.getUpdateId(hash)).toBe(0n);

    // Same initial pairs, same hash: GetUpdateId answers, no Init is sent.
    const second = mapOf(remote, [...pairs].reverse());
    second.freeze();
    expect(second.hash()).toEqual(hash);
    await second.freeze();
    expect(await remote.ensureInitialized(second)).toEqual({ created: false });
    // Init of an existing hash is InitSuccess, whatever the data.
    await expect(remote.sendInit(hash, encodeInitData(second))).resolves.toBeUndefined();
  });

  it('reports whether it created the map', async () => {
    const remote = remoteFor(server());
    const dummy = localMap([['created-' + randomBytes(4).toString('hex'), 'x']]);
    await dummy.freeze(); // DummyRemote: the server has not seen this hash yet
    await expect(remote.getUpdateId(dummy.hash()!)).rejects.toBeInstanceOf(HashNotFoundError);
    expect(await remote.ensureInitialized(dummy)).toEqual({ created: true });
    expect(await remote.ensureInitialized(dummy)).toEqual({ created: false });
  });

  it('surfaces the init hook refusal (InitFailure) and creates nothing', async () => {
    const remote = remoteFor(server());
    const map = mapOf(remote, [['__reject__', 'yes'], ['other', 'v']]);
    const err = await map.freeze().catch((e: unknown) => e);
    expect(err).toBeInstanceOf(InitError);
    const cause = (err as InitError).cause as InitFailureError;
    expect(cause).toBeInstanceOf(InitFailureError);
    expect(cause.code).toBe('init-failure');
    expect(cause.serverMessage).toBe('maps containing the key "__reject__" are rejected by this server');
    await expect(remote.getUpdateId(map.hash()!)).rejects.toBeInstanceOf(HashNotFoundError);
    // The server forgets the failed attempt: a retry is refused again, not waved through.
    await expect(remote.ensureInitialized(map)).rejects.toBeInstanceOf(InitFailureError);
  });

  it('raises HashMismatchError for a claimed hash that does not match the data (and shows the Rust defect after it)', async () => {
    const remote = remoteFor(server());
    const claimed = mapOf(remote, [['mismatch-a', '1']]);
    const actual = mapOf(remote, [['mismatch-a', '2']]);
    const claimedHash = sha256Map([['mismatch-a', '1']]);
    const err = await remote.sendInit(claimedHash, encodeInitData(actual)).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(HashMismatchError);
    expect(err).toMatchObject({ code: 'hash-mismatch', hash: claimedHash });
    expect((err as Error).message).toContain(Buffer.from(claimedHash).toString('hex'));
    // Rust keeps the hash marked "in progress": later Inits answer InitSuccess, yet no map exists.
    await expect(remote.sendInit(claimedHash, encodeInitData(claimed))).resolves.toBeUndefined();
    await expect(remote.getUpdateId(claimedHash)).rejects.toBeInstanceOf(HashNotFoundError);
  });
});

describe('events and sync', () => {
  it('applies every KvEvent variant on the server and syncs exactly its values and ids', async () => {
    const remote = remoteFor(server());
    const map = mapOf(remote, [['a', '1'], ['b', '2'], ['c', '3']]);
    await map.freeze();
    const hash = map.hash()!;
    const send = (e: KvEvent): Promise<void> => remote.sendEvent(kv(e), hash);

    await send({ type: 'Set', value: ['a', '10'] });
    await waitForUpdateId(remote, hash, 1n);
    expect(await remote.sync(map)).toEqual({
      fromUpdateId: 0n,
      toUpdateId: 1n,
      isFull: false,
      changes: [{ key: 'a', previous: '1', value: '10' }],
    });

    // SetMany is one batch: one update id for both keys.
    await send({ type: 'SetMany', value: [['b', '20'], ['c', '30']] });
    await waitForUpdateId(remote, hash, 2n);
    const many = await remote.sync(map);
    expect(many).toMatchObject({ fromUpdateId: 1n, toUpdateId: 2n, isFull: false });
    expect(many.changes.sort((x, y) => x.key.localeCompare(y.key))).toEqual([
      { key: 'b', previous: '2', value: '20' },
      { key: 'c', previous: '3', value: '30' },
    ]);

    // Noop, Fail, and hooks that fail (unknown key) change nothing; the Set after them lands as id 3.
    await send({ type: 'Noop' });
    await send({ type: 'Fail', reason: 'refused on purpose' });
    await send({ type: 'Set', value: ['no-such-key', 'x'] });
    await send({ type: 'SetMany', value: [['a', 'never'], ['no-such-key', 'x']] });
    await send({ type: 'Set', value: ['a', '11'] });
    await waitForUpdateId(remote, hash, 3n);
    expect(await remote.sync(map)).toEqual({
      fromUpdateId: 2n,
      toUpdateId: 3n,
      isFull: false,
      changes: [{ key: 'a', previous: '10', value: '11' }],
    });
    expect(await remote.getUpdateId(hash)).toBe(3n);

    // An empty batch bumps the id with a pair-less diff (a Rust client stops there with EmptyDiff).
    await send({ type: 'SetMany', value: [] });
    await waitForUpdateId(remote, hash, 4n);
    const emptyDiff = await remote.fetchUpdates(3n, 4n, hash);
    expect([emptyDiff.size, emptyDiff.fromUpdateId, emptyDiff.uptoUpdateId]).toEqual([0, 3n, 4n]);
    expect(await remote.sync(map)).toMatchObject({ fromUpdateId: 3n, toUpdateId: 4n, changes: [] });
    expect(map.getUpdateId()).toBe(4n);

    // Up to date: one GetUpdateId, nothing fetched, nothing changed.
    expect(await remote.sync(map)).toEqual({ fromUpdateId: 4n, toUpdateId: 4n, isFull: false, changes: [] });

    // The server's own answer from 0 (what a fresh client gets) equals our map.
    const fromZero = await remote.fetchUpdates(0n, 4n, hash);
    expect(fromZero.uptoUpdateId).toBe(4n);
    expect(snapshot(fromZero.entries)).toEqual({ a: '11', b: '20', c: '30' });
    expect(snapshot(map)).toEqual({ a: '11', b: '20', c: '30' });

    // A second client of the same map, frozen now, catches up the same way.
    const late = mapOf(remote, [['c', '3'], ['b', '2'], ['a', '1']]);
    await late.freeze();
    const caughtUp = await remote.sync(late);
    expect(caughtUp).toMatchObject({ fromUpdateId: 0n, toUpdateId: 4n });
    expect(snapshot(late)).toEqual(snapshot(map));

    // core's own path (setUpdateId → fetchUpdates) works with this remote too.
    const viaCore = mapOf(remote, [['a', '1'], ['b', '2'], ['c', '3']]);
    await viaCore.freeze();
    await viaCore.setUpdateId(4n);
    expect(viaCore.getUpdateId()).toBe(4n);
    expect(snapshot(viaCore)).toEqual(snapshot(map));
  });

  it('answers a full diff when asked past the newest id (the Rust quirk sync avoids)', async () => {
    const remote = remoteFor(server());
    const map = mapOf(remote, [['full-a', '1'], ['full-b', '2']]);
    await map.freeze();
    const hash = map.hash()!;
    await remote.sendEvent(kv({ type: 'Set', value: ['full-a', 'x'] }), hash);
    await waitForUpdateId(remote, hash, 1n);
    const diff = await remote.fetchUpdates(1n, 1000n, hash);
    expect([diff.isFull, diff.fromUpdateId, diff.uptoUpdateId]).toEqual([true, 0n, 1n]);
    expect(snapshot(diff.entries)).toEqual({ 'full-a': 'x', 'full-b': '2' });
  });
});

describe('errors from the Rust server', () => {
  it('raises AuthenticationError for a wrong password on every request (Rust ignores it on init)', async () => {
    const wrong = remoteFor(server(), { password: 'not-the-password' });
    const map = mapOf(wrong, [['auth', '1']]);
    const err = await map.freeze().catch((e: unknown) => e);
    expect(err).toBeInstanceOf(InitError);
    expect((err as InitError).cause).toBeInstanceOf(AuthenticationError);
    const hash = map.hash()!;
    for (const call of [
      () => wrong.getUpdateId(hash),
      () => wrong.sendEvent(kv({ type: 'Noop' }), hash),
      () => wrong.fetchUpdates(0n, 1n, hash),
      () => wrong.sync(map),
    ]) {
      const e = await call().catch((x: unknown) => x);
      expect(e).toBeInstanceOf(AuthenticationError);
      expect(e).toBeInstanceOf(RemoteError);
      expect(e).toMatchObject({ name: 'AuthenticationError', code: 'authentication-failed' });
    }
    expect(await wrong.request({ type: 'GetUpdateId', hash })).toEqual({ type: 'IncorrectPassword' });
  });

  it('accepts the password as bytes', async () => {
    const remote = remoteFor(server(), { password: new TextEncoder().encode(server().password) });
    const map = mapOf(remote, [['bytes-password', '1']]);
    await map.freeze();
    expect(await remote.getUpdateId(map.hash()!)).toBe(0n);
  });

  it('raises HashNotFoundError for an unknown hash', async () => {
    const remote = remoteFor(server());
    const hash = new Uint8Array(randomBytes(32));
    for (const call of [
      () => remote.getUpdateId(hash),
      () => remote.sendEvent(kv({ type: 'Noop' }), hash),
      () => remote.fetchUpdates(0n, 1n, hash),
    ]) {
      const e = await call().catch((x: unknown) => x);
      expect(e).toBeInstanceOf(HashNotFoundError);
      expect(e).toMatchObject({ code: 'hash-not-found', hash });
    }
  });

  it('raises ConnectionClosedError when the server cannot decode an event (it hangs up)', async () => {
    const remote = remoteFor(server());
    const map = mapOf(remote, [['undecodable', '1']]);
    await map.freeze();
    const hash = map.hash()!;
    for (const bad of [
      new Uint8Array([4]), // variant index past Fail
      new Uint8Array([0, 5, 0x61]), // Set with a string cut short
      new Uint8Array([0, 1, 0xff, 0]), // Set with invalid UTF-8
    ]) {
      const err = await remote.sendEvent(bad, hash).catch((e: unknown) => e);
      expect(err).toBeInstanceOf(ConnectionClosedError);
      expect(err).toMatchObject({ code: 'connection-closed', bytesReceived: 0 });
    }
    // The map is untouched and the server still answers.
    expect(await remote.getUpdateId(hash)).toBe(0n);
  });

  it('raises ConnectionClosedError for init data the server cannot decode', async () => {
    const remote = remoteFor(server());
    const err = await remote.sendInit(new Uint8Array(randomBytes(32)), new Uint8Array([1, 200])).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(ConnectionClosedError);
  });
});

/** The hash Rust computes (docs/protocol.md, "The hash"), written out here as an independent check. */
function sha256Map(pairs: Array<[string, string]>): Uint8Array {
  const h = createHash('sha256');
  const len = Buffer.alloc(8);
  for (const [k, v] of [...pairs].sort(([a], [b]) => Buffer.compare(Buffer.from(a), Buffer.from(b)))) {
    for (const part of [k, v]) {
      const bytes = Buffer.from(part, 'utf8');
      len.writeBigUInt64BE(BigInt(bytes.length));
      h.update(len);
      h.update(bytes);
    }
  }
  return new Uint8Array(h.digest());
}
