// A case's captured output (printed lines and echoed SQL), kept within a fixed
// memory budget: the first lines and the last lines, with one line in between
// saying how much was dropped. Every line is still streamed live to the
// reporters as it arrives; only what the reports keep at the end is bounded.
import type { OutputLine } from './types.js';

export interface OutputLimits {
  /** Lines and characters kept from the start. */
  headLines: number;
  headChars: number;
  /** Lines and characters kept from the end. */
  tailLines: number;
  tailChars: number;
  /** A longer line is cut to this many characters. */
  lineChars: number;
}

export const DEFAULT_OUTPUT_LIMITS: OutputLimits = {
  headLines: 10_000,
  headChars: 4 << 20,
  tailLines: 10_000,
  tailChars: 4 << 20,
  lineChars: 1 << 20,
};

export class CaseOutput {
  readonly #limits: OutputLimits;
  readonly #head: OutputLine[] = [];
  #headChars = 0;
  /** The tail, oldest first from #tailStart (a queue compacted now and then). */
  #tail: OutputLine[] = [];
  #tailStart = 0;
  #tailChars = 0;
  #droppedLines = 0;
  #droppedChars = 0;
  #cutLines = 0;

  constructor(limits: OutputLimits = DEFAULT_OUTPUT_LIMITS) {
    this.#limits = limits;
  }

  /** Adds a line; returns the line as kept (cut when too long), for live reporting. */
  push(line: OutputLine): OutputLine {
    const max = this.#limits.lineChars;
    if (line.text.length > max) {
      const more = line.text.length - max;
      this.#cutLines++;
      line = { stream: line.stream, text: `${line.text.slice(0, max)} … [${more} more characters cut]` };
    }
    const n = line.text.length;
    if (
      this.#droppedLines === 0 &&
      this.#tail.length === this.#tailStart &&
      this.#head.length < this.#limits.headLines &&
      this.#headChars + n <= this.#limits.headChars
    ) {
      this.#head.push(line);
      this.#headChars += n;
      return line;
    }
    this.#tail.push(line);
    this.#tailChars += n;
    while (
      this.#tail.length - this.#tailStart > this.#limits.tailLines ||
      (this.#tailChars > this.#limits.tailChars && this.#tail.length - this.#tailStart > 1)
    ) {
      const old = this.#tail[this.#tailStart++];
      this.#tailChars -= old.text.length;
      this.#droppedLines++;
      this.#droppedChars += old.text.length;
    }
    if (this.#tailStart > 1024 && this.#tailStart * 2 > this.#tail.length) {
      this.#tail = this.#tail.slice(this.#tailStart);
      this.#tailStart = 0;
    }
    return line;
  }

  /** Counts lines dropped before they got here (Python holds only the newest of a flood). */
  drop(lines: number, chars: number): void {
    // they came after every line held so far: the lines held from here on are the tail
    this.#droppedLines += lines;
    this.#droppedChars += chars;
  }

  /** What the reports keep: the head, a line saying what was dropped (if anything), the tail. */
  lines(): OutputLine[] {
    const tail = this.#tail.slice(this.#tailStart);
    if (this.#droppedLines === 0) return [...this.#head, ...tail];
    return [
      ...this.#head,
      {
        stream: 'stderr',
        text: `test-rig: ${this.#droppedLines} lines (${this.#droppedChars} characters) of output dropped here; the first ${this.#head.length} and the last ${tail.length} lines are kept`,
      },
      ...tail,
    ];
  }

  get droppedLines(): number {
    return this.#droppedLines;
  }
}
