/**
 * The history bound (maxHistory). A server map's history is [full (0→0),
 * (0→1), (1→2), ... (n-1→n)]: frozen at update id 0, then one entry per
 * update. Bounding it keeps the newest entries; the map then answers getDiff
 * as Rust's get_diff over them (a request from before them gets a full diff).
 */
import type { StateMap } from '@syncstate-ts/core';

/**
 * The from id of the oldest entry kept under `maxHistory` (entries ending at
 * or below it are dropped), or undefined when nothing is to be dropped.
 */
export function historyFloor<K, V>(map: StateMap<K, V>, maxHistory: number): bigint | undefined {
  if (!Number.isFinite(maxHistory)) return undefined;
  const n = map.getUpdateId();
  const count = n + 1n; // the freeze entry plus one per update
  const keep = BigInt(maxHistory);
  return count > keep ? n - keep : undefined;
}

