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
}

/** References (values). */
export class Column<T> extends ChunkedColumn<T, T[]> {
  push(v: T): void {
    if ((this.n & MASK) === 0) this.chunks.push([]);
    this.chunks[this.chunks.length - 1]!.push(v);
    this.n++;
  }
}
