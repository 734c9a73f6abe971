/**
 * The whole map as the server has it now, by hash alone: GetUpdateId, then
 * GetDiff from 0 to that id. The diff from 0 holds the first full diff
 * merged with every change since, or the full map when the server trimmed
 * its history, so every key arrives with its latest value.
 */
import { compareCodePoints } from '@syncstate-ts/core';
import type { CallOptions } from '@syncstate-ts/remote';
import type { Remote } from './connection.js';

export interface Snapshot {
  updateId: bigint;
  pairs: Map<string, string>;
}

export async function fetchSnapshot(remote: Remote, hash: Uint8Array, options: CallOptions = {}): Promise<Snapshot> {
  const updateId = await remote.getUpdateId(hash, options);
  const diff = await remote.fetchUpdates(0n, updateId, hash, options);
  const pairs = new Map<string, string>();
  for (const [key, value] of diff.entries) pairs.set(key, value);
  return { updateId, pairs };
}

/** Pairs ordered by key, by code point like Rust's String order (stable output for people and diffs). */
export function sortedPairs(pairs: Map<string, string>): Array<[string, string]> {
  return [...pairs].sort(([a], [b]) => compareCodePoints(a, b));
}
