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
import { seededRandom } from '@syncstate-ts/testkit/random';

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

  it('backs off exponentially up to maxBackoffMs while nothing listens, each pause drawn from the random source', async () => {
    const port = await refusingPort();
    // The middle of each range: intervalMs + 0.5 * (min(maxBackoffMs, intervalMs * 2^n) - intervalMs).
    const { delays, errors } = await retryDelaysOf(port, { intervalMs: 10, maxBackoffMs: 50, random: () => 0.5 }, 5);
    expect(delays).toEqual([15, 25, 30, 30, 30]);
    for (const err of errors) expect(err).toBeInstanceOf(ConnectionError);
    // The ends of the ranges: never faster than the poll interval, never slower than the cap.
    expect((await retryDelaysOf(port, { intervalMs: 10, maxBackoffMs: 50, random: () => 0 }, 3)).delays).toEqual([10, 10, 10]);
    expect((await retryDelaysOf(port, { intervalMs: 10, maxBackoffMs: 50, random: () => 0.999999 }, 4)).delays).toEqual([20, 40, 50, 50]);
  });

  it('two clients cut off together retry at different times (jitter)', async () => {
    const port = await refusingPort();
    const options = { intervalMs: 20, maxBackoffMs: 5_000 };
    const [a, b] = await Promise.all([
      retryDelaysOf(port, { ...options, random: seededRandom(1) }, 6),
      retryDelaysOf(port, { ...options, random: seededRandom(2) }, 6),
    ]);
    // Each pause lies in its range [intervalMs, min(maxBackoffMs, intervalMs * 2^n)]...
    for (const { delays } of [a, b]) {
      delays.forEach((ms, i) => {
        expect(ms).toBeGreaterThanOrEqual(20);
        expect(ms).toBeLessThanOrEqual(Math.min(5_000, 20 * 2 ** (i + 1)));
      });
    }
    // ...and the two clients' pauses differ at every retry, so they do not come back in step.
    expect(a.delays).toHaveLength(6);
    a.delays.forEach((ms, i) => expect(ms).not.toBe(b.delays[i]));
    // Same source, same pauses: the delays come from the random source, not from timing.
    expect((await retryDelaysOf(port, { ...options, random: seededRandom(1) }, 6)).delays).toEqual(a.delays);
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

/** A port on 127.0.0.1 that refuses connections (it listened a moment ago). */
async function refusingPort(): Promise<number> {
  const silent = await startSilentTcp();
  await silent.close();
  return silent.port;
}

/**
 * Watches a map on a port where nothing listens and records the first `count`
 * pauses watch() chose before its retries (reported by onRetry; the last is
 * not waited out).
 */
async function retryDelaysOf(
  port: number,
  options: { intervalMs: number; maxBackoffMs: number; random: () => number },
  count: number,
): Promise<{ delays: number[]; errors: unknown[] }> {
  const remote = remoteFor({ ...server(), port });
  const map = localMap([['w-retry', '1']]);
  await map.freeze();
  const controller = new AbortController();
  const delays: number[] = [];
  const errors: unknown[] = [];
  const yielded: unknown[] = [];
  for await (const r of remote.watch(map, {
    ...options,
    signal: controller.signal,
    onRetry: (err, ms) => {
      delays.push(ms);
      errors.push(err);
      if (delays.length === count) controller.abort();
    },
  })) {
    yielded.push(r);
  }
  expect(yielded).toEqual([]);
  return { delays, errors };
}

