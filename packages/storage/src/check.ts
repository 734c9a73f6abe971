/** The checks every store makes of a commit before applying it (contract.ts). */
import type { MapCommit } from './contract.js';
import { StorageError } from './errors.js';

/**
 * Throws StorageError 'out-of-order' unless `commit` starts at the stored
 * update id and its entries lead, one update id each, to its `updateId`;
 * and unless its changed slots exist. Stores call it before writing anything.
 */
export function checkCommit(hashHex: string, storedUpdateId: bigint, pairCount: number, commit: MapCommit<unknown, unknown>): void {
  const { fromUpdateId, updateId, entries, changed } = commit;
  if (fromUpdateId !== storedUpdateId) {
    throw new StorageError('out-of-order', `commit to map ${hashHex} starts at update id ${fromUpdateId}; the store holds ${storedUpdateId}`);
  }
  const walk = walkUpdates(entries, fromUpdateId);
  if (walk.outOfStep !== undefined) {
    const { fromUpdateId: from, uptoUpdateId: upto } = walk.outOfStep;
    throw new StorageError('out-of-order', `commit to map ${hashHex}: entry ${from} -> ${upto} does not follow update id ${walk.reached}`);
  }
  if (walk.reached !== updateId) throw new StorageError('out-of-order', `commit to map ${hashHex}: its entries end at ${walk.reached}, not at ${updateId}`);
  for (const { slot } of changed) {
    if (!Number.isInteger(slot) || slot < 0 || slot >= pairCount) {
      throw new StorageError('out-of-order', `commit to map ${hashHex}: slot ${slot} is not one of its ${pairCount} pairs`);
    }
  }
}

/** An update's span, as history entries and commits carry it. */
export interface UpdateSpan {
  readonly fromUpdateId: bigint;
  readonly uptoUpdateId: bigint;
}

/**
 * Follows `entries` from update id `from`, one update id each (the only
 * shape a map's history has: every modification is one update id, as in
 * Rust's `StateMap`). Returns the update id they reach, and the first entry
 * that does not continue from there, if any.
 */
export function walkUpdates<S extends UpdateSpan>(entries: Iterable<S>, from: bigint): { reached: bigint; outOfStep?: S } {
  let reached = from;
  for (const entry of entries) {
    if (entry.fromUpdateId !== reached || entry.uptoUpdateId !== reached + 1n) return { reached, outOfStep: entry };
    reached = entry.uptoUpdateId;
  }
  return { reached };
}
