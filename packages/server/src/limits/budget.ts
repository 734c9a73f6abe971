/**
 * A byte budget shared by every connection of a server: request bodies are
 * buffered only against it, so many connections announcing large frames
 * cannot together exhaust memory (each frame alone is capped by maxFrameSize).
 */
export class ByteBudget {
  #used = 0;
  readonly limit: number;

  constructor(limit: number) {
    this.limit = limit;
  }

  get used(): number {
    return this.#used;
  }

  /** Takes `n` bytes if they fit; false (and nothing taken) otherwise. */
  reserve(n: number): boolean {
    if (this.#used + n > this.limit) return false;
    this.#used += n;
    return true;
  }

  release(n: number): void {
    this.#used = Math.max(0, this.#used - n);
  }
}
