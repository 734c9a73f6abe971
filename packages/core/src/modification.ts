// A batch of sets on a map, committed as one update (Rust
// `StateMapModifier`): staged sets, reads that see staged values first, and a
// commit that bumps the update id by exactly 1, even when nothing is staged.

import { ModificationCommittedError, KeyNotFoundError } from './errors.js';

/** What a Modification needs from its map (internal). */
export interface ModificationTarget<K, V> {
  /** The key's slot, undefined if the map lacks it; throws InvalidValueError for a key of the wrong kind. */
  slotOf(key: K): number | undefined;
  checkValue(value: V): void;
  valueAt(slot: number): V;
  commit(slots: readonly number[], values: readonly V[]): void;
}

export class Modification<K, V> {
  readonly #target: ModificationTarget<K, V>;
  // Slot -> staged value; a key staged twice keeps its first position and its last value.
  readonly #staged = new Map<number, V>();
  #committed = false;

  /** @internal Made by StateMap.beginModification(). */
  constructor(target: ModificationTarget<K, V>) {
    this.#target = target;
  }

  /** The staged value of `key`, else the map's, else undefined. */
  get(key: K): V | undefined {
    const slot = this.#target.slotOf(key);
    if (slot === undefined) return undefined;
    return this.#staged.has(slot) ? this.#staged.get(slot) : this.#target.valueAt(slot);
  }

  /** Stages `key -> value`; the key must be in the map (KeyNotFoundError). Returns this, for chaining. */
  set(key: K, value: V): this {
    if (this.#committed) throw new ModificationCommittedError();
    const slot = this.#target.slotOf(key);
    if (slot === undefined) throw new KeyNotFoundError();
    this.#target.checkValue(value);
    this.#staged.set(slot, value);
    return this;
  }

  /** Writes the staged values and appends one history entry (id - 1, id) with them. */
  commit(): void {
    if (this.#committed) throw new ModificationCommittedError();
    this.#target.commit([...this.#staged.keys()], [...this.#staged.values()]);
    this.#committed = true;
  }
}
