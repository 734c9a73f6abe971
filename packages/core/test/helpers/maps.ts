// Maps the state map tests build, and what a storage saves of them.
import { StateMap, kinds } from '@syncstate-ts/core';
import type { StateMapSnapshot } from '@syncstate-ts/core';

/** A frozen master map of the pairs, pushed in this order. */
export async function frozenMaster(pairs: Iterable<readonly [string, string]>): Promise<StateMap<string, string>> {
  const map = new StateMap({ key: kinds.string, value: kinds.string });
  for (const [k, v] of pairs) map.push(k, v);
  map.setMaster(true);
  await map.freeze();
  return map;
}

/** What a storage saves of a frozen map: the snapshot StateMap.restore rebuilds it from. */
export function snapshotOf(map: StateMap<string, string>): StateMapSnapshot<string, string> {
  return {
    key: kinds.string,
    value: kinds.string,
    hash: map.hash()!,
    entries: [...map.entries()],
    updateId: map.getUpdateId(),
    history: map.historyEntries(),
    isMaster: map.isMaster,
  };
}
