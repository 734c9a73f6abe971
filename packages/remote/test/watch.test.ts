// watch(): polling with interval, backoff on transport failures, typed
// errors for the rest, quiet end on abort.
import type { TLSSocket } from 'node:tls';
import { decodeRequestWrapper, encodeFrame, encodeResponse } from '@syncstate-ts/codec';
import { encodeDiffEntries, kinds } from '@syncstate-ts/core';
import { AuthenticationError, ConnectionClosedError, ConnectionError, type SyncResult } from '@syncstate-ts/remote';
import { createSelfSignedCertificate } from '@syncstate-ts/server';
import { kv, localMap, mapOf, remoteFor, waitForUpdateId } from '@syncstate-ts/testkit/kv';
import { rustServerForTests } from '@syncstate-ts/testkit/rust';
import { describe, expect, it } from 'vitest';
import { readRequestFrame, startSilentTcp, startTlsStub } from './helpers/tls-stub.js';

const server = rustServerForTests();

describe('watch', () => {
  it('yields each change the Rust server makes, and ends quietly on abort', async () => {
    const remote = remoteFor(server());
    const map = mapOf(remote, [['w-a', '1'], ['w-b', '2']]);
    await map.freeze();
    const hash = map.hash()!;
    const controller = new AbortController();
    const watch = remote.watch(map, { intervalMs: 20, signal: controller.signal });

    await remote.sendEvent(kv({ type: 'Set', value: ['w-a', 'one'] }), hash);
    const first = await watch.next();
    expect(first).toEqual({
      done: false,
      value: { fromUpdateId: 0n, toUpdateId: 1n, isFull: false, changes: [{ key: 'w-a', previous: '1', value: 'one' }] },
    });

    await remote.sendEvent(kv({ type: 'Set', value: ['w-b', 'two'] }), hash);
    await waitForUpdateId(remote, hash, 2n);
    const second = await watch.next();
    expect(second.value).toEqual({
      fromUpdateId: 1n,
      toUpdateId: 2n,
      isFull: false,
      changes: [{ key: 'w-b', previous: '2', value: 'two' }],
    } satisfies SyncResult<string, string>);
    expect(map.get('w-b')).toBe('two');

    const ending = watch.next();
    controller.abort();
    expect(await ending).toEqual({ done: true, value: undefined });
  });

  it('throws the errors retrying cannot fix (wrong password)', async () => {
    const wrong = remoteFor(server(), { password: 'wrong' });
    const map = localMap([['w-auth', '1']]);
    await map.freeze();
    await expect(wrong.watch(map, { intervalMs: 10 }).next()).rejects.toBeInstanceOf(AuthenticationError);
  });

  it('backs off exponentially up to maxBackoffMs while nothing listens', async () => {
    const silent = await startSilentTcp();
    const port = silent.port;
    await silent.close(); // now the port refuses connections
    const remote = remoteFor({ ...server(), port });
    const map = localMap([['w-retry', '1']]);
    await map.freeze();
    const controller = new AbortController();
    const retries: Array<[unknown, number]> = [];
    const yielded: unknown[] = [];
    for await (const r of remote.watch(map, {
      intervalMs: 10,
      maxBackoffMs: 50,
      signal: controller.signal,
      onRetry: (err, ms) => {
        retries.push([err, ms]);
        if (retries.length === 5) controller.abort();
      },
    })) {
      yielded.push(r);
    }
    expect(yielded).toEqual([]);
    expect(retries.map(([, ms]) => ms)).toEqual([20, 40, 50, 50, 50]);
    for (const [err] of retries) expect(err).toBeInstanceOf(ConnectionError);
  });

  it('retries a server that hangs up before answering, then yields once it answers', async () => {
    const identity = await createSelfSignedCertificate();
    const map = localMap([['k', 'old']]);
    await map.freeze();
    let connections = 0;
    const stub = await startTlsStub(identity, (socket: TLSSocket) => {
      connections += 1;
      if (connections <= 2) {
        socket.destroy(); // a hang-up without an answer
        return;
      }
      void readRequestFrame(socket).then((bytes) => {
        const { request } = decodeRequestWrapper(bytes);
        const response =
          request.type === 'GetUpdateId'
            ? { type: 'UpdateId' as const, updateId: 7n }
            : {
                type: 'Diff' as const,
                fromUpdateId: 0n,
                uptoUpdateId: 7n,
                isFull: false,
                encodedDiff: encodeDiffEntries([['k', 'new']], kinds.string, kinds.string),
              };
        socket.end(encodeFrame(encodeResponse(response)));
      });
    });
    try {
      const remote = remoteFor({ ...server(), port: stub.port, cert: identity.cert });
      const retried: unknown[] = [];
      const controller = new AbortController();
      const watch = remote.watch(map, { intervalMs: 5, signal: controller.signal, onRetry: (e) => void retried.push(e) });
      const first = await watch.next();
      expect(first.value).toEqual({ fromUpdateId: 0n, toUpdateId: 7n, isFull: false, changes: [{ key: 'k', previous: 'old', value: 'new' }] });
      expect(retried.length).toBe(2);
      for (const e of retried) {
        expect(e).toBeInstanceOf(ConnectionClosedError);
        expect(e).toMatchObject({ bytesReceived: 0 });
      }
      controller.abort();
      expect((await watch.next()).done).toBe(true);
    } finally {
      await stub.close();
    }
  });
});
