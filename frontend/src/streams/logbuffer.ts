// The lines a log pane holds: parallel arrays (one string, one double and two small ints per
// line) in time order across sources, bounded by a cap that drops the oldest lines.

import { mergeByTime, sortByTime, type LogLine } from './logtext';

export interface AddResult {
  /** Lines now in the buffer that were not before (after de-duplication and the cap). */
  added: number;
  /** Oldest lines dropped by the cap during this add. */
  dropped: number;
  /** true when lines went in before existing ones (indices after `from` shifted). */
  inserted: boolean;
}

export class LogBuffer {
  private texts: string[] = [];
  private tss: number[] = [];
  private srcs: number[] = [];
  private starts: number[] = [];
  /** Index in the arrays of the first live line (drops advance it; compaction resets it). */
  private head = 0;
  /** Total lines dropped by the cap since the last clear. */
  dropped = 0;
  /** Bumped whenever existing line positions change other than by dropping the oldest. */
  layoutGen = 0;
  /** Longest message seen (chars), for the horizontal scroll width when not wrapping. */
  maxChars = 0;
  /** Absolute number of the first live line: line i has absolute id base + i. */
  base = 0;

  /**
   * Several sources: keep time order across them. One source: the server's order is the truth
   * (and a container whose clock steps back must not have its lines shuffled), so just append.
   */
  merge = true;

  constructor(public cap: number) {}

  get length(): number {
    return this.texts.length - this.head;
  }
  text(i: number): string {
    return this.texts[this.head + i];
  }
  ts(i: number): number {
    return this.tss[this.head + i];
  }
  src(i: number): number {
    return this.srcs[this.head + i];
  }
  msgStart(i: number): number {
    return this.starts[this.head + i];
  }
  lastTs(): number {
    return this.length ? this.tss[this.tss.length - 1] : -Infinity;
  }

  clear(): void {
    this.texts = [];
    this.tss = [];
    this.srcs = [];
    this.starts = [];
    this.head = 0;
    this.base = 0;
    this.dropped = 0;
    this.maxChars = 0;
    this.layoutGen++;
  }

  /** Adds a batch (any order): appended when newer, merged into the tail otherwise. */
  add(batch: LogLine[]): AddResult {
    if (!batch.length) return { added: 0, dropped: 0, inserted: false };
    let inserted = false;
    if (this.merge) sortByTime(batch);
    if (!this.merge || this.length === 0 || batch[0].ts >= this.lastTs()) {
      for (const l of batch) this.push(l);
    } else {
      // Merge with the suffix that is newer than the batch's oldest line.
      const from = this.upperBound(batch[0].ts);
      const suffix: LogLine[] = [];
      for (let k = from; k < this.texts.length; k++)
        suffix.push({ ts: this.tss[k], text: this.texts[k], msgStart: this.starts[k], src: this.srcs[k] });
      this.texts.length = this.tss.length = this.srcs.length = this.starts.length = from;
      for (const l of mergeByTime(suffix, batch)) this.push(l);
      inserted = true;
      this.layoutGen++;
    }
    const dropped = this.enforceCap();
    return { added: batch.length - Math.min(dropped, batch.length), dropped, inserted };
  }

  setCap(cap: number): number {
    this.cap = cap;
    return this.enforceCap();
  }

  private push(l: LogLine): void {
    this.texts.push(l.text);
    this.tss.push(l.ts);
    this.srcs.push(l.src);
    this.starts.push(l.msgStart);
    const n = l.text.length - l.msgStart;
    if (n > this.maxChars) this.maxChars = n;
  }

  /** First array index (>= head) whose timestamp is greater than ts. */
  private upperBound(ts: number): number {
    let lo = this.head;
    let hi = this.tss.length;
    while (lo < hi) {
      const mid = (lo + hi) >>> 1;
      if (this.tss[mid] <= ts) lo = mid + 1;
      else hi = mid;
    }
    return lo;
  }

  private enforceCap(): number {
    const excess = this.length - this.cap;
    if (excess <= 0) return 0;
    this.head += excess;
    this.base += excess;
    this.dropped += excess;
    // Compact once the dead prefix is large: amortised O(1) per dropped line.
    if (this.head > 8192 && this.head * 2 > this.texts.length) {
      this.texts.splice(0, this.head);
      this.tss.splice(0, this.head);
      this.srcs.splice(0, this.head);
      this.starts.splice(0, this.head);
      this.head = 0;
    }
    return excess;
  }

  /** All live lines as text (for download), with or without the timestamp prefix. */
  toText(withTimestamps: boolean, label?: (src: number) => string): string {
    const out: string[] = [];
    for (let i = this.head; i < this.texts.length; i++) {
      const t = withTimestamps ? this.texts[i] : this.texts[i].slice(this.starts[i]);
      out.push(label ? `${label(this.srcs[i])} ${t}` : t);
    }
    out.push('');
    return out.join('\n');
  }
}
