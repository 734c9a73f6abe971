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
  let at = fromUpdateId;
  for (const entry of entries) {
    if (entry.fromUpdateId !== at || entry.uptoUpdateId !== at + 1n) {
      throw new StorageError(
        'out-of-order',
        `commit to map ${hashHex}: entry ${entry.fromUpdateId} -> ${entry.uptoUpdateId} does not follow update id ${at}`,
      );
    }
    at = entry.uptoUpdateId;
  }
  if (at !== updateId) throw new StorageError('out-of-order', `commit to map ${hashHex}: its entries end at ${at}, not at ${updateId}`);
  for (const { slot } of changed) {
    if (!Number.isInteger(slot) || slot < 0 || slot >= pairCount) {
      throw new StorageError('out-of-order', `commit to map ${hashHex}: slot ${slot} is not one of its ${pairCount} pairs`);
    }
  }
}
