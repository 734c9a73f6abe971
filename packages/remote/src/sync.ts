/**
 * One poll of a slave map: ask the update id, fetch a diff only when behind,
 * validate it the way Rust's `set_update_id` does (plus the checks Rust
 * skips), apply it, and report which values changed.
 */
import type { Diff, Kind, StateMap } from '@syncstate-ts/core';
import { ProtocolError } from './errors.js';
import type { CallOptions } from './call.js';
import { frozenHash } from './hash.js';

export interface Change<K, V> {
  key: K;
  /** The value before this sync. */
  previous: V;
  value: V;
}

export interface SyncResult<K, V> {
  /** The map's update id before the sync. */
  fromUpdateId: bigint;
  /** The map's update id after the sync (equal to fromUpdateId when nothing was new). */
  toUpdateId: bigint;
  /** The server sent the whole map rather than the changes since fromUpdateId. */
  isFull: boolean;
  /** Keys whose value differs after the sync, in the diff's order. */
  changes: Array<Change<K, V>>;
}

/** What a sync asks of its remote (TcpStateRemote). */
export interface SyncSource<K, V> {
  readonly value: Kind<V>;
  getUpdateId(hash: Uint8Array, options: CallOptions): Promise<bigint>;
  fetchUpdates(current: bigint, target: bigint, hash: Uint8Array, options: CallOptions): Promise<Diff<K, V>>;
}

export async function syncMap<K, V>(
  remote: SyncSource<K, V>,
  map: StateMap<K, V>,
  options: CallOptions,
): Promise<SyncResult<K, V>> {
  const hash = frozenHash(map);
  const local = map.getUpdateId();
  const latest = await remote.getUpdateId(hash, options);
  if (latest === local) return { fromUpdateId: local, toUpdateId: local, isFull: false, changes: [] };
  if (latest < local) {
    throw new ProtocolError(
      `the server's update id ${latest} is below this map's ${local}: the server lost the map's history (restarted?)`,
    );
  }

  let diff = await remote.fetchUpdates(local, latest, hash, options);
  checkAdvances(diff, local, latest);
  if (diff.isEmpty()) {
    // A server batch that staged nothing still bumps the id, and its diff has
    // no pairs. core's applyDiff refuses a pair-less diff (Rust's EmptyDiff,
    // where a Rust client stays until a later update carries pairs); a diff from 0 carries every
    // pair at its latest value, so it can be applied.
    diff = await remote.fetchUpdates(0n, diff.uptoUpdateId, hash, options);
    checkAdvances(diff, local, latest);
    if (diff.isEmpty()) throw new ProtocolError('the server advanced a map without keys; there is no pair to apply');
  }

  // Another sync or setUpdateId of this map may have landed while we waited.
  const current = map.getUpdateId();
  if (diff.uptoUpdateId <= current) return { fromUpdateId: current, toUpdateId: current, isFull: false, changes: [] };

  const changes: Array<Change<K, V>> = [];
  for (const [key, value] of diff.entries) {
    const previous = map.get(key);
    if (previous === undefined) {
      throw new ProtocolError('the diff holds a key this map does not have (not the map the hash names?)');
    }
    if (!remote.value.equals(previous, value)) changes.push({ key, previous, value });
  }
  // Nothing is written before every pair is checked: a failure leaves the map as it was.
  map.applyDiff(diff);
  return { fromUpdateId: current, toUpdateId: diff.uptoUpdateId, isFull: diff.isFull, changes };
}

/** Like Rust, refuse a diff starting after our id; unlike Rust, also one that does not move it forward. */
function checkAdvances(diff: Diff<unknown, unknown>, local: bigint, latest: bigint): void {
  if (diff.fromUpdateId > local || diff.uptoUpdateId <= local) {
    throw new ProtocolError(
      `asked for the diff ${local} → ${latest}, got ${diff.fromUpdateId} → ${diff.uptoUpdateId}, which does not advance this map`,
    );
  }
}
