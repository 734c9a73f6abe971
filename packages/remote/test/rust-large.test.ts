// Live: big maps and big values against the Rust server. Measured: the Rust
// server writes each answer with one `write()` on its rustls stream, which
// takes at most 64 KiB of plaintext, then drops the connection. Answers up
// to 65,536 bytes arrive whole; a larger one is cut to its first 65,536 bytes.
// Requests are not affected (the server reads them with read_exact).
import { encodeDiffEntries, kinds } from '@syncstate-ts/core';
import { ConnectionClosedError, ProtocolError } from '@syncstate-ts/remote';
import { kv, localMap, mapOf, remoteFor, snapshot, waitForUpdateId } from '@syncstate-ts/testkit/kv';
import { rustServerForTests } from '@syncstate-ts/testkit/rust';
import { describe, expect, it } from 'vitest';

const RUST_MAX_ANSWER = 65_536;

const server = rustServerForTests();

/** 10,000 pairs; `keyOf(i)` picks the key size so the whole map fits a Rust answer or not. */
function tenThousand(keyOf: (i: number) => string, valueOf: (i: number) => string): Array<[string, string]> {
  return Array.from({ length: 10_000 }, (_, i) => [keyOf(i), valueOf(i)]);
}

describe('large maps through the Rust server', () => {
  it('syncs a 10,000-pair map whose answers fit in 64 KiB (init, events, diffs)', async () => {
    const pairs = tenThousand((i) => i.toString(36).padStart(3, '0'), () => '');
    expect(encodeDiffEntries(pairs, kinds.string, kinds.string).length).toBeLessThan(RUST_MAX_ANSWER - 32);
    const remote = remoteFor(server());
    const map = localMap(pairs);
    await map.freeze();
    expect(await remote.ensureInitialized(map)).toEqual({ created: true });
    const hash = map.hash()!;

    await remote.sendEvent(kv({ type: 'Set', value: ['000', 'first'] }), hash);
    await waitForUpdateId(remote, hash, 1n);
    await remote.sendEvent(kv({ type: 'SetMany', value: [['7pr', 'last'], ['2s0', 'middle']] }), hash);
    await waitForUpdateId(remote, hash, 2n);

    // A fresh client at 0 gets every pair (Rust merges from the freeze entry).
    const fresh = mapOf(remote, pairs);
    await fresh.freeze();
    const result = await remote.sync(fresh);
    expect(result).toMatchObject({ fromUpdateId: 0n, toUpdateId: 2n });
    expect(result.changes.map((c) => [c.key, c.value]).sort()).toEqual([['000', 'first'], ['2s0', 'middle'], ['7pr', 'last']]);
    const expected = Object.fromEntries(pairs);
    Object.assign(expected, { '000': 'first', '2s0': 'middle', '7pr': 'last' });
    expect(snapshot(fresh)).toEqual(expected);
    expect(fresh.size).toBe(10_000);

    // A client refusing answers above 1000 bytes stops at the length prefix.
    const small = remoteFor(server(), { maxFrameSize: 1000 });
    const err = await small.fetchUpdates(0n, 2n, hash).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(ProtocolError);
    expect((err as Error).message).toMatch(/announced a \d+-byte response, above maxFrameSize 1000/);
  });

  it('inits a 10,000-pair map larger than 64 KiB, but the Rust server cuts its full diff', async () => {
    const pairs = tenThousand((i) => `key-${String(i).padStart(5, '0')}`, (i) => `value-${i}`);
    const encoded = encodeDiffEntries(pairs, kinds.string, kinds.string).length;
    expect(encoded).toBeGreaterThan(RUST_MAX_ANSWER);
    const remote = remoteFor(server());
    const map = mapOf(remote, pairs);
    await map.freeze(); // the Init request itself (~220 KB) arrives whole
    const hash = map.hash()!;
    expect(await remote.getUpdateId(hash)).toBe(0n);

    await remote.sendEvent(kv({ type: 'Set', value: ['key-00042', 'changed'] }), hash);
    await waitForUpdateId(remote, hash, 1n);
    const err = await remote.sync(map).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(ConnectionClosedError);
    const closed = err as ConnectionClosedError;
    expect(closed.bytesReceived).toBe(4 + RUST_MAX_ANSWER);
    expect(closed.expectedBytes).toBeGreaterThan(encoded);
    expect(closed.message).toContain(`after ${RUST_MAX_ANSWER} of the ${closed.expectedBytes! - 4} response bytes`);
    expect(closed.message).toContain('single write()');
    expect(map.getUpdateId()).toBe(0n); // nothing applied

    // Small answers about the same map still work: the diff of one later update.
    await remote.sendEvent(kv({ type: 'Set', value: ['key-00043', 'also'] }), hash);
    await waitForUpdateId(remote, hash, 2n);
    const step = await remote.fetchUpdates(1n, 2n, hash);
    expect([step.fromUpdateId, step.uptoUpdateId, step.isFull]).toEqual([1n, 2n, false]);
    expect(step.entries).toEqual([['key-00043', 'also']]);
  });

  it('inits a map holding a 1 MiB value; events carry 1 MiB, but diffs holding it are cut', async () => {
    const big = 'x'.repeat(1 << 20);
    const remote = remoteFor(server());
    const map = mapOf(remote, [['big', big], ['small', 'a']]);
    await map.freeze();
    const hash = map.hash()!;
    expect(await remote.getUpdateId(hash)).toBe(0n);

    // A 1 MiB event arrives and its hook runs.
    const bigger = 'y'.repeat(1 << 20);
    await remote.sendEvent(kv({ type: 'Set', value: ['big', bigger] }), hash);
    await waitForUpdateId(remote, hash, 1n);
    await remote.sendEvent(kv({ type: 'Set', value: ['small', 'b'] }), hash);
    await waitForUpdateId(remote, hash, 2n);

    // Only the small change: 1 → 2 arrives whole.
    const step = await remote.fetchUpdates(1n, 2n, hash);
    expect(step.entries).toEqual([['small', 'b']]);

    // 0 → 2 holds the 1 MiB value: cut at 64 KiB, reported clearly, map untouched.
    const err = await remote.sync(map).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(ConnectionClosedError);
    expect(err).toMatchObject({ bytesReceived: 4 + RUST_MAX_ANSWER });
    expect((err as ConnectionClosedError).expectedBytes).toBeGreaterThan(1 << 20);
    expect(map.get('big')).toBe(big);
    expect(map.getUpdateId()).toBe(0n);
  });
});
