/** The application's code the registry runs: event hooks and init hooks (docs/protocol.md, "Server behaviour"). */
import type { StateMap } from '@syncstate-ts/core';

export interface HookContext {
  /** The map's hash (its identity on the wire). */
  hash: Uint8Array;
  hashHex: string;
}

/** Runs for every event of a map, after EventInProcess was answered; one event at a time per map. */
export type EventHook<K, V, E> = (map: StateMap<K, V>, event: E, context: HookContext) => void | Promise<void>;

/** Runs once when a map is created; throwing refuses the map (the client gets InitFailure with the message). */
export type InitHook<K, V> = (map: StateMap<K, V>, context: HookContext) => void | Promise<void>;
