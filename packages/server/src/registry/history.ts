/**
 * History of a master map as the registry sees it: the changes since an
 * update id (for the storage) and bounded history (maxHistory).
 *
 * @syncstate/core gives no access to single history entries and no way to
 * drop old ones, so:
 * - `changesSince` hands the storage one merged diff per event (from the
 *   stored id up to the current one) rather than one diff per update;
 * - the bound is applied to the answers: `boundedDiff` answers exactly what
 *   Rust's get_diff answers over the history cut down to its newest
 *   `maxHistory` entries, but the older entries still take memory in the map.
 *
 * Both rely on the shape of a server map's history: frozen at update id 0,
 * then one entry per update, [full (0→0), (0→1), (1→2), ... (n-1→n)].
 */
import { Diff, type StateMap } from '@syncstate/core';

/** The changes made since `updateId`, oldest first (one merged diff; none when nothing changed). */
export function changesSince<K, V>(map: StateMap<K, V>, updateId: bigint): Diff<K, V>[] {
  const current = map.getUpdateId();
  if (current === updateId) return [];
  return [map.getDiff(updateId, current)];
}

/**
 * The from id of the oldest entry kept under `maxHistory` (entries older than
 * it are cut), or undefined when nothing is cut.
 */
export function historyFloor<K, V>(map: StateMap<K, V>, maxHistory: number): bigint | undefined {
  if (!Number.isFinite(maxHistory)) return undefined;
  const n = map.getUpdateId();
  const count = n + 1n; // the freeze entry plus one per update
  const keep = BigInt(maxHistory);
  return count > keep ? n - keep : undefined;
}

/** Rust's get_diff over the newest `maxHistory` history entries. */
export function boundedDiff<K, V>(map: StateMap<K, V>, from: bigint, upto: bigint, maxHistory: number): Diff<K, V> {
  const floor = historyFloor(map, maxHistory);
  if (floor === undefined) return map.getDiff(from, upto);
  // Step 1: the oldest kept entry starts above `from`: full diff.
  if (from < floor) return map.fullDiff();
  // Step 2: the newest entry starts below `from`: full diff.
  if (from > map.getUpdateId() - 1n) return map.fullDiff();
  // Steps 3-4: every kept entry ends above `upto` (a request for the past).
  if (upto <= floor) return Diff.empty();
  // Otherwise the kept entries give the same answer as the whole history.
  return map.getDiff(from, upto);
}
