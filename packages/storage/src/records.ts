/**
 * Between a served map (core's StateMap) and its records: a server serves
 * StateMaps and hands its store plain records, so a store never depends on
 * how a map is held in memory. Also what tools and tests use to put a
 * StateMap in a store or take it out.
 */
import { type Diff, type Kind, type Pace, StateMap } from '@syncstate-ts/core';
import { walkUpdates } from './check.js';
import type { ChangedPair, MapCommit, StoredMap } from './contract.js';

/** The record of a frozen master map, for `MapStorage.create`. Copies in slices (`pace`); the map must not change meanwhile. */
export async function storedMapOf<K, V>(map: StateMap<K, V>, pace?: Pace): Promise<StoredMap<K, V>> {
  const full = map.fullDiff();
  return {
    hash: map.hash()!,
    keys: full.keys,
    values: full.values,
    updateId: map.getUpdateId(),
    history: await map.historyEntriesAsync(undefined, { pace }),
  };
}

/** Rebuilds the master map a record describes, in slices (`pace`). */
export function restoreMap<K, V>(stored: StoredMap<K, V>, key: Kind<K>, value: Kind<V>, pace?: Pace): Promise<StateMap<K, V>> {
  const { hash, keys, values, updateId, history } = stored;
  return StateMap.restoreAsync({ key, value, hash, entries: zip(keys, values), updateId, history, isMaster: true }, { pace });
}

/** The updates of master map `map` since `storedUpdateId` as one commit, or undefined when there are none. */
export function commitSince<K, V>(map: StateMap<K, V>, storedUpdateId: bigint, floor: bigint | undefined): MapCommit<K, V> | undefined {
  const updateId = map.getUpdateId();
  if (updateId === storedUpdateId) return undefined;
  const entries = map.historyEntries(storedUpdateId);
  // The last write of each key wins; its slot is where the key was pushed.
  const last = new Map<string | number, ChangedPair<K, V>>();
  for (const entry of entries) {
    const { keys, values } = entry;
    for (let i = 0; i < keys.length; i++) {
      const key = keys[i]!;
      last.set(map.keyKind.id(key), { slot: map.indexOf(key), key, value: values[i]! });
    }
  }
  return { fromUpdateId: storedUpdateId, updateId, entries, changed: [...last.values()], floor };
}

function* zip<K, V>(keys: readonly K[], values: readonly V[]): Generator<[K, V]> {
  for (let i = 0; i < keys.length; i++) yield [keys[i]!, values[i]!];
}

/**
 * Applies updates another server committed (MapUpdates.entries) to master
 * map `map`: each entry is replayed as one modification, so the map's update
 * ids and history entries come out as the committing server's, pair order
 * included. Throws if an entry does not start at the map's update id.
 */
export function applyEntries<K, V>(map: StateMap<K, V>, entries: readonly Diff<K, V>[]): void {
  const { outOfStep, reached } = walkUpdates(entries, map.getUpdateId());
  if (outOfStep !== undefined) {
    // Checked before the first change, so a map is never left half caught up.
    throw new RangeError(`update ${outOfStep.fromUpdateId} -> ${outOfStep.uptoUpdateId} does not follow update id ${reached}`);
  }
  for (const entry of entries) {
    const modification = map.beginModification();
    const { keys, values } = entry;
    for (let i = 0; i < keys.length; i++) modification.set(keys[i]!, values[i]!);
    modification.commit();
  }
}
