// @syncstate-ts/core: StateMap, Diff, Event and the Remote interfaces of the
// Rust crate syncstate 0.3.0, hash for hash and diff for diff.

export { StateMap } from './statemap.js';
export type { SliceOptions, StateMapOptions, StateMapSnapshot } from './statemap.js';
export { Modification } from './modification.js';
export { Diff } from './diff.js';
export { Event } from './event.js';
export { DummyRemote } from './remote.js';
export type { EventBroadcaster, HostedMap, Remote } from './remote.js';
export { kinds, compareBytes, compareCodePoints } from './kinds.js';
export type { Kind } from './kinds.js';
export { decodeDiffEntries, decodeInitData, decodePairsSliced, encodeDiffEntries, encodeDiffEntriesSliced, encodeInitData } from './wire.js';
export type { PairColumns } from './wire.js';
export {
  DuplicateKeyError,
  EmptyDiffError,
  FetchUpdateError,
  FrozenError,
  InitError,
  InvalidValueError,
  KeyNotFoundError,
  ModificationCommittedError,
  StateMapError,
  UnfrozenError,
  UpdateIdOverflowError,
} from './errors.js';
export type { StateMapErrorCode } from './errors.js';
export { U64_MAX } from './_ids.js';
export { inSlices, timeSlices } from './pace.js';
export type { Pace, PaceOptions } from './pace.js';
