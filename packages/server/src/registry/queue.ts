/** Runs tasks one at a time in submission order; a failing task does not stop the ones after it. */
export class SerialQueue {
  #tail: Promise<unknown> = Promise.resolve();
  #size = 0;

  /** Tasks submitted and not yet settled. */
  get size(): number {
    return this.#size;
  }

  run<T>(task: () => T | Promise<T>): Promise<T> {
    this.#size++;
    const result = this.#tail.then(task);
    this.#tail = result.then(
      () => this.#size--,
      () => this.#size--,
    );
    return result;
  }

  /** Resolves once every task submitted so far has settled. */
  idle(): Promise<void> {
    return this.#tail.then(() => undefined);
  }
}
