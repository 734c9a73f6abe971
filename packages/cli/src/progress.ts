/**
 * A progress line on stderr for long operations (a large `init`): redrawn in
 * place on a terminal, one line per step otherwise (logs, CI, tests). Quiet
 * unless enabled, so small operations print nothing extra.
 */
import { formatCount } from './display.js';

export interface ProgressOutput {
  write(text: string): unknown;
  isTTY?: boolean;
}

export class Progress {
  readonly #out: ProgressOutput;
  readonly #enabled: boolean;
  readonly #started = Date.now();
  #lastDraw = 0;
  #lastPercent = -1;
  #drawn = false;

  constructor(out: ProgressOutput, enabled: boolean) {
    this.#out = out;
    this.#enabled = enabled;
  }

  get enabled(): boolean {
    return this.#enabled;
  }

  /** A step without a count: "hashing 1,000,000 pairs". */
  step(text: string): void {
    if (!this.#enabled) return;
    this.#lastPercent = -1;
    this.#draw(`${text}…`);
  }

  /** A counted step; on a terminal redrawn at most every 100 ms, otherwise printed every 25%. */
  count(label: string, done: number, total: number): void {
    if (!this.#enabled) return;
    const percent = total === 0 ? 100 : Math.floor((done / total) * 100);
    if (this.#out.isTTY === true) {
      const now = Date.now();
      if (now - this.#lastDraw < 100 && done !== total) return;
      this.#lastDraw = now;
      this.#draw(`${label} ${formatCount(done)}/${formatCount(total)} (${percent}%)`);
    } else if (this.#lastPercent < 0 || percent >= this.#lastPercent + 25 || (done === total && percent !== this.#lastPercent)) {
      this.#lastPercent = percent;
      this.#draw(`${label} ${formatCount(done)}/${formatCount(total)} (${percent}%)`);
    }
  }

  /** Ends the line with a summary and the elapsed time. */
  done(text: string): void {
    if (!this.#enabled) return;
    this.#draw(`${text} in ${((Date.now() - this.#started) / 1000).toFixed(1)} s`);
    if (this.#out.isTTY === true) this.#out.write('\n');
  }

  /** Clears a half-drawn terminal line before an error message. */
  abort(): void {
    if (this.#enabled && this.#out.isTTY === true && this.#drawn) this.#out.write('\r\x1b[K');
  }

  #draw(text: string): void {
    this.#drawn = true;
    if (this.#out.isTTY === true) this.#out.write(`\r\x1b[K${text}`);
    else this.#out.write(`${text}\n`);
  }
}
