// No request waits behind another map's heavy work: a big Init is built in
// slices, other maps are answered in between; a stored map answers
// GetUpdateId while it loads. Ordering and answers are asserted, never
// timings (bench/suites/heavy-maps.ts measures those).
import { encodeInitData, encodeDiffEntries, kinds, StateMap } from '@syncstate-ts/core';
import { answer, kvHandler, payload, req } from '@syncstate-ts/testkit/fixtures';
import { describe, expect, it } from 'vitest';
import type { KvEvent } from '../examples/ts-server.js';
import { MemoryStorage, storedMapOf, type StoredMap } from '@syncstate-ts/storage';

const PASSWORD = 'heavy';
const BIG = 100_000;

async function bigMap(n: number, prefix = 'key', master = false): Promise<StateMap<string, string>> {
  const map = new StateMap({ key: kinds.string, value: kinds.string });
  for (let i = 0; i < n; i++) map.push(`${prefix}-${i}`, `value-${i}`);
  map.setMaster(master);
  await map.freeze();
  return map;
}

/** Records the order in which answers arrive. */
function recorder() {
  const order: string[] = [];
  const track = <T>(name: string, p: Promise<T>): Promise<T> => p.then((x) => (order.push(name), x));
  return { order, track };
}

describe('a big Init is built in slices', () => {
  it('requests for other maps are answered while it is processed, and the big map comes out right', async () => {
    const h = kvHandler(PASSWORD);
    const ask = async (request: Parameters<typeof payload>[1]) => answer(await h.respond(payload(PASSWORD, request)));
    const small = await req.init([['s', '1']]);
    expect(await ask(small)).toEqual({ type: 'InitSuccess' });
    const big = await bigMap(BIG);
    const { order, track } = recorder();

    const init = track('big Init', ask({ type: 'Init', hash: big.hash()!, initData: encodeInitData(big) }));
    // Sent after the big Init started: each is answered before it is done.
    const reads: Array<Promise<unknown>> = [];
    for (let i = 0; i < 3; i++) {
      await new Promise((resolve) => setImmediate(resolve));
      reads.push(track(`small ${i}`, ask(req.getUpdateId(small.hash))));
    }
    const other = await req.init([['o', '2']]);
    reads.push(track('other Init', ask(other)));
    expect(await Promise.all(reads)).toEqual([
      { type: 'UpdateId', updateId: 0n },
      { type: 'UpdateId', updateId: 0n },
      { type: 'UpdateId', updateId: 0n },
      { type: 'InitSuccess' },
    ]);
    expect(await init).toEqual({ type: 'InitSuccess' });
    expect(order.at(-1)).toBe('big Init');

    // The map the server built is the client's, pair for pair.
    const diff = await ask(req.getDiff(big.hash()!, 0n, 0n));
    expect(diff).toMatchObject({ type: 'Diff', isFull: false, fromUpdateId: 0n, uptoUpdateId: 0n });
    expect(diff?.type === 'Diff' && Buffer.from(diff.encodedDiff).equals(encodeDiffEntries(big.fullDiff(), kinds.string, kinds.string))).toBe(true);
    await h.close();
  });

  it('a big Init with the wrong hash answers HashMismatch; one with a repeated key keeps the last value', async () => {
    const h = kvHandler(PASSWORD);
    const ask = async (request: Parameters<typeof payload>[1]) => answer(await h.respond(payload(PASSWORD, request)));
    const big = await bigMap(20_000);
    const other = await bigMap(20_000, 'other');
    expect(await ask({ type: 'Init', hash: other.hash()!, initData: encodeInitData(big) })).toEqual({ type: 'HashMismatch' });

    // The init data of `big` with its first key repeated at the end with another value.
    const repeated = await bigMap(20_000);
    const pairs = [...repeated.entries(), ['key-0', 'last'] as [string, string]];
    const expected = new StateMap({ key: kinds.string, value: kinds.string });
    for (const [k, v] of pairs.slice(0, -1)) expected.push(k, k === 'key-0' ? 'last' : v);
    await expected.freeze();
    const initData = encodeInitData({ keyKind: kinds.string, valueKind: kinds.string, entries: () => pairs.values() });
    expect(await ask({ type: 'Init', hash: expected.hash()!, initData })).toEqual({ type: 'InitSuccess' });
    const diff = await ask(req.getDiff(expected.hash()!, 0n, 0n));
    expect(diff?.type === 'Diff' && Buffer.from(diff.encodedDiff).equals(encodeDiffEntries(expected.fullDiff(), kinds.string, kinds.string))).toBe(true);
    await h.close();
  });

  it('a big GetDiff is encoded in slices: other maps are answered first, the bytes are the same', async () => {
    const h = kvHandler(PASSWORD);
    const ask = async (request: Parameters<typeof payload>[1]) => answer(await h.respond(payload(PASSWORD, request)));
    const big = await bigMap(BIG);
    expect(await ask({ type: 'Init', hash: big.hash()!, initData: encodeInitData(big) })).toEqual({ type: 'InitSuccess' });
    const small = await req.init([['s', '1']]);
    expect(await ask(small)).toEqual({ type: 'InitSuccess' });
    const { order, track } = recorder();
    const diff = track('big', ask(req.getDiff(big.hash()!, 0n, 0n)));
    await new Promise((resolve) => setImmediate(resolve));
    await track('small', ask(req.getUpdateId(small.hash)));
    const got = await diff;
    expect(order).toEqual(['small', 'big']);
    expect(got?.type === 'Diff' && Buffer.from(got.encodedDiff).equals(encodeDiffEntries(big.fullDiff(), kinds.string, kinds.string))).toBe(true);
    await h.close();
  });
});

describe('a stored map that is still loading', () => {
  /** A storage whose loads wait for `release()`; peek answers from what it stores. */
  class SlowStorage extends MemoryStorage<string, string> {
    loads = 0;
    release: () => void = () => {};
    readonly #gate = new Promise<void>((resolve) => (this.release = resolve));
    override async load(hash: Uint8Array, hex: string): Promise<StoredMap<string, string> | undefined> {
      this.loads++;
      await this.#gate;
      return super.load(hash, hex);
    }
  }

  it('answers GetUpdateId from the storage at once; events and diffs wait for the load, and reads after events see them', async () => {
    const master = await bigMap(10, 'key', true);
    master.set('key-1', 'stored');
    const storage = new SlowStorage();
    await storage.create(master.hash()!, Buffer.from(master.hash()!).toString('hex'), await storedMapOf(master));
    const h = kvHandler(PASSWORD, { storage });
    const ask = async (request: Parameters<typeof payload>[1]) => answer(await h.respond(payload(PASSWORD, request)));
    const hash = master.hash()!;
    const { order, track } = recorder();

    const event = track('event', ask(req.event(hash, { type: 'Set', value: ['key-2', 'after'] } satisfies KvEvent)));
    const diff = track('diff', ask(req.getDiff(hash, 0n, 1n)));
    expect(await ask(req.getUpdateId(hash))).toEqual({ type: 'UpdateId', updateId: 1n });
    expect(await ask(req.getUpdateId(new Uint8Array(32).fill(7)))).toEqual({ type: 'HashNotFound' });
    expect(order).toEqual([]); // still loading
    storage.release();
    expect(await event).toEqual({ type: 'EventInProcess' });
    expect(await diff).toMatchObject({ type: 'Diff' });
    // In memory now: reads queue behind the accepted event.
    expect(await ask(req.getUpdateId(hash))).toEqual({ type: 'UpdateId', updateId: 2n });
    expect(await ask(req.getDiff(hash, 1n, 2n))).toMatchObject({ type: 'Diff', fromUpdateId: 1n, uptoUpdateId: 2n });
    expect(storage.loads).toBe(1);
    await h.close();
  });
});
