// Append-only columns in fixed-size chunks. One JS array or typed array per
// column would be copied on every growth and, past ~1.6e8 elements, kill V8
// outright ("Fatal JavaScript invalid size error"); chunks grow in constant
// steps and have no such ceiling.

const BITS = 16;
const CHUNK = 1 << BITS;
const MASK = CHUNK - 1;

/** The chunk bookkeeping shared by both column kinds; `push` is theirs. */
abstract class ChunkedColumn<T, C extends ArrayLike<T>> {
  protected readonly chunks: C[] = [];
  protected n = 0;
  // Chunks freed by dropBefore; indexes stay those of push order.
  private dropped = 0;

  get length(): number {
    return this.n;
  }

  get(i: number): T {
    return this.chunks[Math.floor(i / CHUNK) - this.dropped]![i & MASK]!;
  }

  /** Calls `f(chunk, from, to, outputOffset)` for the pieces of chunks that hold [start, end). */
  protected forRuns(start: number, end: number, f: (chunk: C, from: number, to: number, at: number) => void): void {
    for (let i = start; i < end; ) {
      const c = Math.floor(i / CHUNK);
      const a = i & MASK;
      const b = Math.min(CHUNK, a + (end - i));
      f(this.chunks[c - this.dropped]!, a, b, i - start);
      i += b - a;
    }
  }

  /** Frees the chunks holding only indexes below `i` (they must not be read again). */
  dropBefore(i: number): void {
    const k = Math.floor(i / CHUNK) - this.dropped;
    if (k <= 0) return;
    this.chunks.splice(0, k);
    this.dropped += k;
  }
}

/** u32 values (slot numbers, offsets). */
export class U32Column extends ChunkedColumn<number, Uint32Array> {
  push(v: number): void {
    const i = this.n & MASK;
    if (i === 0) this.chunks.push(new Uint32Array(CHUNK));
    this.chunks[this.chunks.length - 1]![i] = v;
    this.n++;
  }

  /** Pushes first, first + 1, ..., first + count - 1 (the slots of a full entry), a chunk at a time. */
  pushSequence(first: number, count: number): void {
    for (let done = 0; done < count; ) {
      const i = this.n & MASK;
      if (i === 0) this.chunks.push(new Uint32Array(CHUNK));
      const chunk = this.chunks[this.chunks.length - 1]!;
      const take = Math.min(CHUNK - i, count - done);
      for (let k = 0; k < take; k++) chunk[i + k] = first + done + k;
      this.n += take;
      done += take;
    }
  }

  /** Elements [start, end) as one array, copied chunk by chunk. */
  copyRange(start: number, end: number): Uint32Array {
    const out = new Uint32Array(end - start);
    this.forRuns(start, end, (chunk, a, b, at) => out.set(chunk.subarray(a, b), at));
    return out;
  }
}

/** References (values). */
export class Column<T> extends ChunkedColumn<T, T[]> {
  push(v: T): void {
    if ((this.n & MASK) === 0) this.chunks.push([]);
    this.chunks[this.chunks.length - 1]!.push(v);
    this.n++;
  }

  /** Pushes values[start, end), a chunk at a time (slices, not one push per element: no growth garbage). */
  pushRange(values: readonly T[], start: number, end: number): void {
    for (let at = start; at < end; ) {
      const i = this.n & MASK;
      const take = Math.min(CHUNK - i, end - at);
      if (i === 0) {
        this.chunks.push(values.slice(at, at + take));
      } else {
        const chunk = this.chunks[this.chunks.length - 1]!;
        for (let k = 0; k < take; k++) chunk.push(values[at + k]!);
      }
      this.n += take;
      at += take;
    }
  }

  /** Elements [start, end) as one array, copied chunk by chunk (an entry of a million pairs: milliseconds, not tens). */
  copyRange(start: number, end: number): T[] {
    const runs: T[][] = [];
    this.forRuns(start, end, (chunk, a, b) => runs.push(chunk.slice(a, b)));
    return runs.length === 1 ? runs[0]! : ([] as T[]).concat(...runs);
  }
}
