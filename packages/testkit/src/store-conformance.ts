// The storage contract (@syncstate-ts/storage, contract.ts), checked against a
// store: every store (memory, SQLite, the ones to come) runs this suite from
// its own tests with `describeStoreConformance(name, harness)`.
//
// Maps are real master maps (core's StateMap); their records come from
// @syncstate-ts/storage's storedMapOf/commitSince, as the server builds them.
// What a store gives back is judged by what matters to clients: the map it
// restores answers every getDiff with the same bytes as the map stored.
import { toHex } from '@syncstate-ts/codec';
import { type Diff, encodeDiffEntries, kinds, StateMap } from '@syncstate-ts/core';
import { commitSince, type MapCommit, type MapStorage, restoreMap, StorageError, storedMapOf, type StoredMap } from '@syncstate-ts/storage';
import { afterEach, describe, expect, it } from 'vitest';

type Store = MapStorage<string, string>;

export interface StoreHarness {
  /** A store on fresh, empty data (string keys and values). */
  open(): Promise<Store>;
  /**
   * The same data seen again, as after a restart: a durable store closes
   * `store` and opens its data anew; a store without a medium returns
   * `store` itself (it outlives servers, not processes).
   */
  reopen(store: Store): Promise<Store>;
  /** Removes what `open` made (files, databases); called after each test. */
  cleanup(): Promise<void>;
}

const key = kinds.string;
const value = kinds.string;

/** A frozen master map of `count` pairs (keys k0.., pushed in that order). */
async function masterMap(count: number, tag = ''): Promise<StateMap<string, string>> {
  const map = new StateMap({ key, value });
  for (let i = 0; i < count; i++) map.push(`k${i}`, `${tag}v${i}`);
  map.setMaster(true);
  await map.freeze();
  return map;
}

const hexOf = (map: StateMap<string, string>): string => toHex(map.hash()!);

function create(store: Store, map: StateMap<string, string>): Promise<void> {
  return storedMapOf(map).then((stored) => store.create(map.hash()!, hexOf(map), stored));
}

/** Commits the updates since `from` (what the server does after a batch of events); returns the new stored id. */
async function commit(store: Store, map: StateMap<string, string>, from: bigint, floor?: bigint): Promise<bigint> {
  const c = commitSince(map, from, floor);
  if (c !== undefined) await store.commit(map.hash()!, hexOf(map), c);
  return map.getUpdateId();
}

async function load(store: Store, map: StateMap<string, string>): Promise<StoredMap<string, string> | undefined> {
  return store.load(map.hash()!, hexOf(map));
}

/** Every answer of a map, as bytes: getDiff over a grid of ids, and the full diff. */
function answers(map: StateMap<string, string>): string[] {
  const n = map.getUpdateId();
  const ids = [0n, 1n, 2n, n / 2n, n - 2n, n - 1n, n, n + 1n, (1n << 64n) - 1n].filter((x) => x >= 0n);
  const enc = (d: Diff<string, string>): string => `${d.isFull} ${d.fromUpdateId} ${d.uptoUpdateId} ${toHex(encodeDiffEntries(d, key, value))}`;
  const out: string[] = [];
  for (const f of ids) for (const u of ids) out.push(`${f}->${u}: ${enc(map.getDiff(f, u))}`);
  for (let f = 0n; f <= n; f++) out.push(`${f}->${n}: ${enc(map.getDiff(f, n))}`);
  out.push(`full: ${enc(map.fullDiff())}`);
  return out;
}

/** The map a store gives back, trimmed to `floor` as the server does on load. */
async function restored(store: Store, map: StateMap<string, string>, floor?: bigint): Promise<StateMap<string, string>> {
  const stored = await load(store, map);
  expect(stored, 'the store lost the map').toBeDefined();
  const back = await restoreMap(stored!, key, value);
  if (floor !== undefined) back.trimHistory(floor);
  return back;
}

async function rejection(promise: Promise<unknown>): Promise<StorageError> {
  const err = await promise.then(
    () => undefined,
    (e: unknown) => e,
  );
  expect(err).toBeInstanceOf(StorageError);
  return err as StorageError;
}

/** A few updates of every shape: sets, a batch, an empty modification, a set to the same value. */
function update(map: StateMap<string, string>, round: number): void {
  const size = map.size;
  if (round % 4 === 0) map.beginModification().commit();
  else if (round % 4 === 1) map.beginModification().set('k0', `a${round}`).set(`k${size - 1}`, `b${round}`).commit();
  else if (round % 4 === 2) map.set(`k${round % size}`, `c${round}`);
  else map.set('k0', map.get('k0')!);
}

export function describeStoreConformance(name: string, harness: StoreHarness): void {
  describe(`store conformance: ${name}`, () => {
    const open: Store[] = [];
    const openStore = async (): Promise<Store> => {
      const store = await harness.open();
      open.push(store);
      return store;
    };
    const reopen = async (store: Store): Promise<Store> => {
      const again = await harness.reopen(store);
      open.push(again);
      return again;
    };
    afterEach(async () => {
      for (const s of open.splice(0)) await s.close().catch(() => undefined);
      await harness.cleanup();
    });

    it('an unknown hash loads and peeks as undefined', async () => {
      const store = await openStore();
      const map = await masterMap(3);
      expect(await load(store, map)).toBeUndefined();
      expect(await store.peek?.(map.hash()!, hexOf(map))).toBeUndefined();
    });

    it('a created map comes back as created: hash, pairs in push order, update id, history', async () => {
      let store = await openStore();
      const map = await masterMap(5);
      map.set('k3', 'init hook'); // an init hook's change: history beyond the freeze entry
      await create(store, map);
      store = await reopen(store);
      const stored = (await load(store, map))!;
      expect(toHex(stored.hash)).toBe(hexOf(map));
      expect(stored.keys).toEqual(map.fullDiff().keys);
      expect(stored.values).toEqual(map.fullDiff().values);
      expect(stored.updateId).toBe(1n);
      expect(stored.history.map((d) => [d.fromUpdateId, d.uptoUpdateId])).toEqual([
        [0n, 0n],
        [0n, 1n],
      ]);
      expect(answers(await restored(store, map))).toEqual(answers(map));
    });

    it('commits apply in order; the map comes back answering every getDiff with the same bytes', async () => {
      let store = await openStore();
      const map = await masterMap(6);
      await create(store, map);
      let at = 0n;
      for (let round = 0; round < 24; round++) {
        update(map, round);
        if (round % 3 !== 0) at = await commit(store, map, at); // some commits carry several updates
      }
      at = await commit(store, map, at);
      expect(at).toBe(24n);
      expect(await store.peek?.(map.hash()!, hexOf(map))).toEqual(store.peek === undefined ? undefined : { updateId: 24n });
      store = await reopen(store);
      expect((await load(store, map))!.updateId).toBe(24n);
      expect(answers(await restored(store, map))).toEqual(answers(map));
    });

    it('a commit that does not follow the stored update id is refused and changes nothing', async () => {
      const store = await openStore();
      const map = await masterMap(3);
      await create(store, map);
      map.set('k1', 'x');
      map.set('k2', 'y');
      const hash = map.hash()!;
      const skipped = commitSince(map, 1n, undefined)!; // starts at 1, the store holds 0
      expect((await rejection(store.commit(hash, hexOf(map), skipped))).code).toBe('out-of-order');
      const full = commitSince(map, 0n, undefined)!;
      const gap: MapCommit<string, string> = { ...full, entries: full.entries.slice(1) }; // entries 1->2 only
      expect((await rejection(store.commit(hash, hexOf(map), gap))).code).toBe('out-of-order');
      const badSlot: MapCommit<string, string> = { ...full, changed: [{ slot: 3, key: 'k3', value: 'z' }] };
      expect((await rejection(store.commit(hash, hexOf(map), badSlot))).code).toBe('out-of-order');
      expect((await load(store, map))!.updateId).toBe(0n);
      await store.commit(hash, hexOf(map), full);
      expect((await load(store, map))!.values).toEqual(['v0', 'x', 'y']);
    });

    it('a commit to a map never created, and a second create of a hash, are refused', async () => {
      let store = await openStore();
      const map = await masterMap(2);
      map.set('k0', 'x');
      expect((await rejection(store.commit(map.hash()!, hexOf(map), commitSince(map, 0n, undefined)!))).code).toBe('unknown-map');
      await create(store, map);
      expect((await rejection(create(store, map))).code).toBe('duplicate-map');
      store = await reopen(store);
      expect((await rejection(create(store, map))).code).toBe('duplicate-map');
    });

    it('a history floor forgets only entries at or below it; requests from before it get the full map', async () => {
      let store = await openStore();
      const map = await masterMap(4);
      await create(store, map);
      let at = 0n;
      const keep = 5n;
      let floor: bigint | undefined;
      for (let round = 0; round < 20; round++) {
        update(map, round);
        const n = map.getUpdateId();
        floor = n + 1n > keep ? n - keep : undefined;
        at = await commit(store, map, at, floor);
        if (floor !== undefined) map.trimHistory(floor);
      }
      store = await reopen(store);
      const stored = (await load(store, map))!;
      const kept = stored.history.filter((d) => d.uptoUpdateId > floor!);
      expect(kept.map((d) => d.uptoUpdateId)).toEqual([16n, 17n, 18n, 19n, 20n]);
      expect(answers(await restored(store, map, floor))).toEqual(answers(map));
    });

    it('commits of many maps in one turn all land', async () => {
      let store = await openStore();
      const maps = await Promise.all(Array.from({ length: 12 }, (_, i) => masterMap(3, `m${i}-`)));
      await Promise.all(maps.map((m) => create(store, m)));
      for (const m of maps) m.set('k1', `${hexOf(m).slice(0, 6)}`);
      await Promise.all(maps.map((m) => commit(store, m, 0n)));
      store = await reopen(store);
      for (const m of maps) expect((await load(store, m))!.values[1]).toBe(hexOf(m).slice(0, 6));
    });

    it('a big map (5,000 pairs) comes back with its updates', async () => {
      let store = await openStore();
      const map = await masterMap(5000);
      await create(store, map);
      let at = 0n;
      for (let round = 0; round < 6; round++) {
        update(map, round);
        at = await commit(store, map, at);
      }
      store = await reopen(store);
      const back = await restored(store, map);
      expect(back.getUpdateId()).toBe(6n);
      expect(back.getDiff(0n, 6n)).toEqual(map.getDiff(0n, 6n));
      expect(back.getDiff(2n, 6n)).toEqual(map.getDiff(2n, 6n));
      expect(back.fullDiff().values).toEqual(map.fullDiff().values);
    });

    it('changing a record it returned does not change what it stores', async () => {
      const store = await openStore();
      const map = await masterMap(3);
      await create(store, map);
      const first = (await load(store, map))!;
      (first.values as string[])[0] = 'changed by the caller';
      (first.history as Diff<string, string>[]).length = 0;
      const second = (await load(store, map))!;
      expect(second.values[0]).toBe('v0');
      expect(second.history).toHaveLength(1);
    });

    it('after close every call is refused with code closed', async () => {
      const store = await openStore();
      const map = await masterMap(2);
      await create(store, map);
      map.set('k0', 'x');
      await store.close();
      const hash = map.hash()!;
      expect((await rejection(store.load(hash, hexOf(map)))).code).toBe('closed');
      expect((await rejection(store.commit(hash, hexOf(map), commitSince(map, 0n, undefined)!))).code).toBe('closed');
      expect((await rejection(create(store, await masterMap(1)))).code).toBe('closed');
      if (store.peek !== undefined) expect((await rejection(store.peek(hash, hexOf(map)))).code).toBe('closed');
    });
  });
}
