// Typed errors of the state map. The first six mirror the Rust crate's
// `StateMapError` variants and carry its Display text as their message; the
// rest are conditions the Rust crate does not report (it panics, wraps around
// or silently accepts them).

import { SyncstateError } from '@syncstate-ts/codec';

/** What went wrong, for programs: one per error class below. Stable strings: match on these, not on messages. */
export type StateMapErrorCode =
  | 'frozen'
  | 'unfrozen'
  | 'key-not-found'
  | 'empty-diff'
  | 'fetch-update'
  | 'duplicate-key'
  | 'init'
  | 'invalid-value'
  | 'update-id-overflow'
  | 'modification-committed';

/** Base class of the state map's errors (a SyncstateError: `code` for programs, `message` for people). */
export class StateMapError extends SyncstateError<StateMapErrorCode> {
  override name = 'StateMapError';
}

/** Rust `Frozen`: keys are fixed after freeze; only a master map (or an unfrozen one) takes writes. */
export class FrozenError extends StateMapError {
  override name = 'FrozenError';
  constructor() {
    super(
      'frozen',
      'The StateMap is frozen, modifications to keys is not possible, only the data can be mutated using updates',
    );
  }
}

/** Rust `Unfrozen`: the operation needs a frozen map (it has no hash yet). */
export class UnfrozenError extends StateMapError {
  override name = 'UnfrozenError';
  constructor() {
    super(
      'unfrozen',
      'The StateMap is not frozen, Please freeze the StateMap before doing any post init operations.',
    );
  }
}

/** Rust `KeyNotFound`: `set` (or a received diff) names a key the map does not have. */
export class KeyNotFoundError extends StateMapError {
  override name = 'KeyNotFoundError';
  constructor() {
    super('key-not-found', 'Key not found in the statemap');
  }
}

/** Rust `EmptyDiff`: the remote answered a diff without pairs. */
export class EmptyDiffError extends StateMapError {
  override name = 'EmptyDiffError';
  constructor() {
    super('empty-diff', 'Empty diff, no items in diff');
  }
}

/** Rust `FetchUpdateError(String)`: the remote failed, or answered a diff that does not fit. */
export class FetchUpdateError extends StateMapError {
  override name = 'FetchUpdateError';
  constructor(detail: string, options?: { cause?: unknown }) {
    super('fetch-update', `Error while trying to fetch updates: ${detail}`, options);
  }
}

/** A second `push` of a key. Rust accepts it and then hashes the pair twice (docs/protocol.md, "The hash"). */
export class DuplicateKeyError extends StateMapError {
  override name = 'DuplicateKeyError';
  constructor() {
    super('duplicate-key', 'The key is already in the statemap; push each key once');
  }
}

/** `remote.init` failed during freeze (Rust: `UnknownError`). The map stays frozen, as in Rust. */
export class InitError extends StateMapError {
  override name = 'InitError';
  constructor(options: { cause: unknown }) {
    super('init', `Remote init failed: ${describeCause(options.cause)}`, options);
  }
}

/** A key or value that is not of the map's kind (wrong type, lone surrogate, wrong fixed length). */
export class InvalidValueError extends StateMapError {
  override name = 'InvalidValueError';
  constructor(message: string) {
    super('invalid-value', message);
  }
}

/** An update at update id 2^64 - 1 (Rust's release build silently wraps around to 0). */
export class UpdateIdOverflowError extends StateMapError {
  override name = 'UpdateIdOverflowError';
  constructor() {
    super('update-id-overflow', 'The update id is at 2^64 - 1 and cannot be incremented');
  }
}

/** A Modification used after its commit (Rust consumes the modifier on commit). */
export class ModificationCommittedError extends StateMapError {
  override name = 'ModificationCommittedError';
  constructor() {
    super('modification-committed', 'This modification was already committed; begin a new one');
  }
}

/** The text of a thrown value, for messages (Rust formats the boxed error with Display). */
export function describeCause(cause: unknown): string {
  if (cause instanceof Error) return cause.message;
  return String(cause);
}
