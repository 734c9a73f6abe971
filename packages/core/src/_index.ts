// Key id -> slot. One JS Map while small; past SPLIT_AT keys, SHARDS Maps
// chosen by a few characters of the id. A single Map doubles its table when
// it fills, rehashing every entry at once: at 524,288 keys one push took
// 30-100 ms (measured, Node 20), which holds a server's event loop however
// finely the work around it is sliced. Shards grow a sixty-fourth at a time.

const SPLIT_AT = 32 * 1024;
const SHARDS = 64;

export class KeyIndex {
  #single: Map<string | number, number> | undefined = new Map();
  #shards: Map<string | number, number>[] | undefined;
  #size = 0;

  get size(): number {
    return this.#size;
  }

  get(id: string | number): number | undefined {
    return this.#single !== undefined ? this.#single.get(id) : this.#shards![shardOf(id)]!.get(id);
  }

  has(id: string | number): boolean {
    return this.get(id) !== undefined;
  }

  /** Adds a new id (the caller checked it is new). */
  add(id: string | number, slot: number): void {
    if (this.#single !== undefined) {
      this.#single.set(id, slot);
      if (++this.#size >= SPLIT_AT) this.#split();
      return;
    }
    this.#shards![shardOf(id)]!.set(id, slot);
    this.#size++;
  }

  #split(): void {
    const shards = Array.from({ length: SHARDS }, () => new Map<string | number, number>());
    for (const [id, slot] of this.#single!) shards[shardOf(id)]!.set(id, slot);
    this.#shards = shards;
    this.#single = undefined;
  }
}

/** A few characters of the id mixed: spreads typical keys ("key-123", hex, paths) over the shards. */
function shardOf(id: string | number): number {
  if (typeof id === 'number') return (id | 0) & (SHARDS - 1);
  const n = id.length;
  if (n === 0) return 0;
  return (n + id.charCodeAt(0) * 3 + id.charCodeAt(n >> 1) * 7 + id.charCodeAt(n - 1) * 31 + id.charCodeAt(n - 2 < 0 ? 0 : n - 2) * 127) & (SHARDS - 1);
}
