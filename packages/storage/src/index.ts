// @syncstate-ts/storage: the storage contract of a syncstate server (what it
// persists of each map, and what a store promises), the error stores reject
// with, and a store in memory. Durable stores (@syncstate-ts/storage-sqlite)
// implement the same contract.

export type { ChangedPair, MapCommit, MapLock, MapStorage, MapUpdates, SharedMapStorage, StoredMap } from './contract.js';
export { isShared } from './contract.js';
export { StorageError } from './errors.js';
export type { StorageErrorCode } from './errors.js';
export { checkCommit, walkUpdates, type UpdateSpan } from './check.js';
export { MemoryStorage } from './memory.js';
export { applyEntries, commitSince, restoreMap, storedMapOf } from './records.js';
