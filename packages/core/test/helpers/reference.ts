// A literal port of the Rust StateMap's history and get_diff (syncstate
// 0.3.0 src/statemap.rs, src/diff.rs): a list of diffs scanned linearly, as
// Rust does. The property tests check the real StateMap against it. String
// keys and values only; `undefined` marks where Rust panics.

export const U64_MAX = (1n << 64n) - 1n;

export interface RefDiff {
  pairs: [string, string][];
  isFull: boolean;
  from: bigint;
  upto: bigint;
}

/** A getDiff answer, ours or the reference's, in one comparable form: the pairs sorted (Rust's HashMap order is not ours). */
export interface Answer {
  isFull: boolean;
  from: bigint;
  upto: bigint;
  pairs: string[];
}

export const pairKey = ([k, v]: readonly [string, string]): string => `${k}\u0000${v}`;

/** Our diff (a StateMap's getDiff) as an Answer. */
export function answerOf(d: { isFull: boolean; fromUpdateId: bigint; uptoUpdateId: bigint; entries: readonly (readonly [string, string])[] }): Answer {
  return { isFull: d.isFull, from: d.fromUpdateId, upto: d.uptoUpdateId, pairs: d.entries.map(pairKey).sort() };
}

export class ReferenceMap {
  data = new Map<string, string>();
  updateId = 0n;
  frozen = false;
  master = false;
  diffs: RefDiff[] = [];

  push(k: string, v: string): void {
    this.data.set(k, v);
  }

  freeze(): void {
    if (this.frozen) return;
    this.frozen = true;
    this.diffs.push(this.fullDiff());
  }

  /** Rust `set`: false where Rust returns an error. */
  set(k: string, v: string): boolean {
    if (!this.data.has(k)) return false;
    if (this.frozen && !this.master) return false;
    this.data.set(k, v);
    this.updateId += 1n;
    this.diffs.push({ pairs: [[k, v]], isFull: false, from: this.updateId - 1n, upto: this.updateId });
    return true;
  }

  /** begin_modification, the sets (all keys exist), commit. */
  batch(sets: [string, string][]): boolean {
    if (this.frozen && !this.master) return false;
    const staged = new Map<string, string>();
    for (const [k, v] of sets) {
      if (!this.data.has(k)) return false;
      staged.set(k, v);
    }
    this.updateId += 1n;
    for (const [k, v] of staged) this.data.set(k, v);
    this.diffs.push({ pairs: [...staged], isFull: false, from: this.updateId - 1n, upto: this.updateId });
    return true;
  }

  /** set_update_id(target) with the remote answering `answer`. */
  setUpdateId(target: bigint, answer: RefDiff): 'ok' | 'EmptyDiff' | 'FetchUpdateError' | 'Unfrozen' {
    if (target <= this.updateId) return 'ok';
    if (!this.frozen) return 'Unfrozen';
    if (answer.pairs.length === 0) return 'EmptyDiff';
    if (answer.from > this.updateId) return 'FetchUpdateError';
    this.updateId = answer.upto;
    for (const [k, v] of answer.pairs) this.data.set(k, v);
    return 'ok';
  }

  fullDiff(): RefDiff {
    return { pairs: [...this.data], isFull: true, from: 0n, upto: this.updateId };
  }

  /** Our trimHistory(at) on this history: drops the entries ending at or below `at`, returns how many. */
  trimHistory(at: bigint): number {
    let dropped = 0;
    while (this.diffs.length > 0 && this.diffs[0]!.upto <= at) {
      this.diffs.shift();
      dropped++;
    }
    return dropped;
  }

  /** getDiff(from, upto) as `answerOf` gives ours; where Rust panics, the empty diff ours answers. */
  answer(from: bigint, upto: bigint): Answer {
    const d = this.getDiff(from, upto) ?? { pairs: [], isFull: false, from: 0n, upto: 0n };
    return { isFull: d.isFull, from: d.from, upto: d.upto, pairs: d.pairs.map(pairKey).sort() };
  }

  getDiff(from: bigint, upto: bigint): RefDiff | undefined {
    const diffs = this.diffs;
    let start = 0;
    let end = diffs.length;
    for (let idx = 0; idx < diffs.length; idx++) {
      const x = diffs[idx]!;
      if (x.from === from) {
        start = idx;
        break;
      }
      if (x.from > from) return this.fullDiff();
    }
    const back = diffs[diffs.length - 1];
    if (back === undefined) return undefined; // expect("there should atleast be one diff")
    if (back.from < from) return this.fullDiff();
    for (let idx = diffs.length - 1; idx >= 0; idx--) {
      const x = diffs[idx]!;
      if (x.upto === upto) {
        end = idx;
        break;
      }
      if (x.upto < upto) return merge(diffs, start, idx);
    }
    if (diffs[0]!.upto > upto) return { pairs: [], isFull: false, from: 0n, upto: 0n };
    return merge(diffs, start, end);
  }
}

/** `Diff::merge(diffs.range(start..=end))`; VecDeque::range panics when start > end + 1 or end >= len. */
function merge(diffs: RefDiff[], start: number, end: number): RefDiff | undefined {
  if (start > end + 1 || end >= diffs.length) return undefined;
  const total = new Map<string, string>();
  let min = U64_MAX;
  let max = 0n;
  for (let i = start; i <= end; i++) {
    const x = diffs[i]!;
    if (x.from < min) min = x.from;
    if (x.upto > max) max = x.upto;
    for (const [k, v] of x.pairs) total.set(k, v);
  }
  return { pairs: [...total], isFull: false, from: min, upto: max };
}
