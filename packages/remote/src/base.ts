/**
 * What every carrier's remote shares: core's Remote and EventBroadcaster, and
 * the typed calls, `sync` and `watch`, all built on one `request()` that a
 * carrier implements (TcpStateRemote: one TLS connection per request;
 * WebSocketRemote: one persistent WebSocket). Browser-safe: no Node APIs.
 */
import { DecodeError } from '@syncstate-ts/codec';
import type { Request, Response } from '@syncstate-ts/codec';
import { decodeDiffEntries, Diff, encodeInitData } from '@syncstate-ts/core';
import type { EventBroadcaster, Kind, Remote, StateMap } from '@syncstate-ts/core';
import {
  AuthenticationError,
  HashMismatchError,
  HashNotFoundError,
  InitFailureError,
  ProtocolError,
} from './errors.js';
import { checkHash, frozenHash } from './hash.js';
import type { CallOptions } from './call.js';
import { syncMap } from './sync.js';
import type { SyncResult } from './sync.js';
import { watchMap } from './watch.js';
import type { WatchOptions } from './watch.js';

/** Anything that serializes to event bytes, e.g. core's `Event`. */
export interface SerializableEvent {
  serialize(): Uint8Array;
}

export interface InitResult {
  /** True when this call created the map on the server (GetUpdateId said HashNotFound, Init succeeded). */
  created: boolean;
}

export abstract class ProtocolRemote<K, V> implements Remote<K, V>, EventBroadcaster {
  readonly key: Kind<K>;
  readonly value: Kind<V>;

  constructor(kinds: { key: Kind<K>; value: Kind<V> }) {
    this.key = kinds.key;
    this.value = kinds.value;
  }

  /**
   * Sends one request and returns the server's answer as is
   * (IncorrectPassword included). The typed methods below build on it; use
   * it directly for requests they do not cover.
   */
  abstract request(request: Request, options?: CallOptions): Promise<Response>;

  /** The server's current update id of the map `hash`. */
  async getUpdateId(hash: Uint8Array, options: CallOptions = {}): Promise<bigint> {
    const response = await this.request({ type: 'GetUpdateId', hash: checkHash(hash) }, options);
    if (response.type === 'UpdateId') return response.updateId;
    throw answerError('GetUpdateId', hash, response);
  }

  /**
   * Registers a frozen map with the server, as Rust's client does: GetUpdateId,
   * and Init with the whole map only when the server answers HashNotFound.
   * Unlike Rust, a wrong password fails here with AuthenticationError.
   * `map.freeze()` calls this.
   */
  async init(map: StateMap<K, V>, options: CallOptions = {}): Promise<void> {
    await this.ensureInitialized(map, options);
  }

  /** `init`, also telling whether this call created the map on the server. */
  async ensureInitialized(map: StateMap<K, V>, options: CallOptions = {}): Promise<InitResult> {
    const hash = frozenHash(map);
    const first = await this.request({ type: 'GetUpdateId', hash }, options);
    if (first.type === 'UpdateId') return { created: false };
    if (first.type !== 'HashNotFound') throw answerError('GetUpdateId', hash, first);
    await this.sendInit(hash, encodeInitData(map), options);
    return { created: true };
  }

  /**
   * Sends Init with caller-made `initData` (bincode `HashMap<K, V>`) for `hash`.
   * Resolves on InitSuccess; HashMismatch and InitFailure become typed errors.
   * Note the Rust server also answers InitSuccess while the same hash is being
   * initialised, and after a HashMismatch of it (a defect, docs/protocol.md, "Server behaviour").
   */
  async sendInit(hash: Uint8Array, initData: Uint8Array, options: CallOptions = {}): Promise<void> {
    const response = await this.request({ type: 'Init', hash: checkHash(hash), initData }, options);
    if (response.type !== 'InitSuccess') throw answerError('Init', hash, response);
  }

  /** GetDiff(current → target) as core's Remote contract asks; the caller validates the diff. */
  async fetchUpdates(current: bigint, target: bigint, hash: Uint8Array, options: CallOptions = {}): Promise<Diff<K, V>> {
    const response = await this.request(
      { type: 'GetDiff', hash: checkHash(hash), fromUpdateId: current, uptoUpdateId: target },
      options,
    );
    if (response.type !== 'Diff') throw answerError('GetDiff', hash, response);
    let entries: Array<[K, V]>;
    try {
      entries = decodeDiffEntries(response.encodedDiff, this.key, this.value);
    } catch (err) {
      if (!(err instanceof DecodeError)) throw err;
      throw new ProtocolError(`the diff's entries do not decode with this remote's key/value kinds: ${err.message}`, {
        cause: err,
      });
    }
    return new Diff(entries, response.isFull, response.fromUpdateId, response.uptoUpdateId);
  }

  /**
   * Sends an event for the map `hash`; resolves once the server answered
   * EventInProcess. The server's hooks run afterwards, on their own thread:
   * poll (sync/watch) to see their effect.
   */
  async sendEvent(event: Uint8Array | SerializableEvent, hash: Uint8Array, options: CallOptions = {}): Promise<void> {
    const eventData = event instanceof Uint8Array ? event : event.serialize();
    const response = await this.request({ type: 'Event', hash: checkHash(hash), eventData }, options);
    if (response.type !== 'EventInProcess') throw answerError('Event', hash, response);
  }

  /**
   * Brings `map` up to the server's update id: asks the id first and fetches
   * a diff only when the map is behind (Rust's client asks for a diff on every
   * poll, and an up-to-date client gets the whole map back).
   */
  sync(map: StateMap<K, V>, options: CallOptions = {}): Promise<SyncResult<K, V>> {
    return syncMap(this, map, options);
  }

  /** Polls with `sync` every `intervalMs` and yields each change; see WatchOptions. */
  watch(map: StateMap<K, V>, options: WatchOptions = {}): AsyncGenerator<SyncResult<K, V>, void, undefined> {
    return watchMap(this, map, options);
  }
}

/** The error for an answer the request does not allow (or allows only as a failure). */
export function answerError(requestType: Request['type'], hash: Uint8Array, response: Response): Error {
  switch (response.type) {
    case 'IncorrectPassword':
      return new AuthenticationError();
    case 'HashNotFound':
      return new HashNotFoundError(hash);
    case 'HashMismatch':
      return new HashMismatchError(hash);
    case 'InitFailure':
      return new InitFailureError(response.errorMessage);
    default:
      return new ProtocolError(`unexpected answer ${response.type} to ${requestType}`);
  }
}
