// What a slave map needs from the outside world (Rust `Remote`,
// `EventBroadcaster`, `DummyRemote`). Network remotes live in
// @syncstate-ts/remote; these are the interfaces they implement.

import { Diff } from './diff.js';
import type { Kind } from './kinds.js';

/**
 * What a remote may read of the map it hosts: a frozen StateMap. (Named here
 * rather than imported, so that statemap.ts, which uses Remote, and this file
 * do not import each other.)
 */
export interface HostedMap<K, V> {
  hash(): Uint8Array | undefined;
  readonly keyKind: Kind<K>;
  readonly valueKind: Kind<V>;
  entries(): Iterable<[K, V]>;
}

export interface Remote<K, V> {
  /**
   * The diff that brings a map at update id `current` towards `target`
   * (Rust `fetch_updates`). The map applies it: see StateMap.setUpdateId.
   * A rejection becomes the map's FetchUpdateError (with the cause).
   */
  fetchUpdates(current: bigint, target: bigint, hash: Uint8Array): Promise<Diff<K, V>>;
  /**
   * Called once by `map.freeze()`, after the hash and the full diff are
   * set, so the remote can host the map (Rust `init`). A rejection makes
   * freeze reject with InitError; the map stays frozen, as in Rust.
   */
  init(map: HostedMap<K, V>): Promise<void>;
}

export interface EventBroadcaster {
  /** Sends an encoded event (see Event.serialize) for the map with this hash. */
  sendEvent(encodedEvent: Uint8Array, hash: Uint8Array): Promise<void>;
}

/**
 * Fetches nothing and hosts nothing (Rust `DummyRemote`): the remote of a
 * master map. Its fetchUpdates answers a diff with no pairs from 0 upto 0, so
 * `setUpdateId` above the current id fails with EmptyDiffError, as in Rust.
 */
export class DummyRemote<K = unknown, V = unknown> implements Remote<K, V>, EventBroadcaster {
  fetchUpdates(): Promise<Diff<K, V>> {
    return Promise.resolve(Diff.empty<K, V>());
  }

  init(): Promise<void> {
    return Promise.resolve();
  }

  sendEvent(): Promise<void> {
    return Promise.resolve();
  }
}
