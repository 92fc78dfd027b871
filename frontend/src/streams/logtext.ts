// Pure text handling for pod log streams: bytes -> lines, the RFC3339 timestamp prefix that
// `timestamps=true` adds, and the de-duplication used when a dropped stream resumes.
// No DOM, no sockets: the bench harness and the tests drive these directly.

/** Lines longer than this without a newline are emitted anyway (a runaway line must not grow memory). */
export const MAX_LINE_CHARS = 1 << 20;

/**
 * Splits a byte stream into lines. Chunks from the server follow read() sizes, not lines, and a
 * UTF-8 character may straddle two chunks: a streaming TextDecoder keeps the partial bytes.
 */
export class LineSplitter {
  private decoder = new TextDecoder('utf-8');
  private partial = '';

  push(bytes: Uint8Array): string[] {
    return this.pushText(this.decoder.decode(bytes, { stream: true }));
  }

  pushText(text: string): string[] {
    if (!text) return [];
    const s = this.partial ? this.partial + text : text;
    const parts = s.split('\n');
    this.partial = parts.pop() ?? '';
    if (this.partial.length > MAX_LINE_CHARS) {
      parts.push(this.partial);
      this.partial = '';
    }
    for (let i = 0; i < parts.length; i++) {
      const p = parts[i];
      if (p.length && p.charCodeAt(p.length - 1) === 13) parts[i] = p.slice(0, -1);
    }
    return parts;
  }

  /** End of stream: the last line may lack its newline. */
  flush(): string[] {
    const rest = this.partial + this.decoder.decode();
    this.partial = '';
    this.decoder = new TextDecoder('utf-8');
    return rest ? [rest.endsWith('\r') ? rest.slice(0, -1) : rest] : [];
  }
}

const TS_RE = /^(\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d)(\.\d{1,9})?(Z|[+-]\d\d:\d\d)$/;
// Consecutive lines mostly share their second: parse that part once.
let cachedBase = '';
let cachedMs = NaN;

/**
 * The timestamp kubelet puts in front of each line (RFC3339Nano, trailing zeros trimmed, so
 * string order is not time order) as epoch milliseconds with sub-millisecond fraction, and
 * where the message starts. null when the line has no such prefix.
 */
export function parseTimestamp(line: string): { ts: number; msgStart: number; stampEnd: number } | null {
  const sp = line.indexOf(' ');
  const end = sp < 0 ? line.length : sp;
  if (end < 20 || end > 35) return null;
  const m = TS_RE.exec(line.slice(0, end));
  if (!m) return null;
  const key = m[1] + m[3];
  if (key !== cachedBase) {
    cachedMs = Date.parse(key);
    cachedBase = key;
  }
  if (Number.isNaN(cachedMs)) return null;
  const frac = m[2] ? Number(m[2]) * 1000 : 0;
  return { ts: cachedMs + frac, msgStart: sp < 0 ? line.length : sp + 1, stampEnd: end };
}

/** One parsed line as it enters the buffer. `text` keeps the timestamp prefix. */
export interface LogLine {
  ts: number;
  text: string;
  msgStart: number;
  src: number;
}

/**
 * Per-source memory of where the stream stood, to resume with `sinceTime` after a drop.
 * The server may round sinceTime down to the second, so the resumed stream repeats lines at
 * and shortly before the last one seen: drop lines older than the last seen timestamp, and at
 * that exact timestamp drop those whose text was already shown (counted, so repeated identical
 * lines survive). The first genuinely newer line ends the filtering.
 */
export class ResumePoint {
  lastTs = -Infinity;
  lastStamp = ''; // the raw RFC3339 text of lastTs, sent back as sinceTime
  private atLast: string[] = []; // texts shown at lastTs (usually one)
  private skipping: Map<string, number> | null = null;

  /** Called for every line that was accepted (shown): O(1), no allocation per line. */
  seen(ts: number, text: string, stamp: string): void {
    if (ts > this.lastTs) {
      this.lastTs = ts;
      this.lastStamp = stamp;
      this.atLast.length = 0;
    }
    if (ts === this.lastTs && this.atLast.length < 10_000) this.atLast.push(text);
  }

  /** Arm the filter for a resumed stream. */
  resume(): void {
    if (this.lastTs === -Infinity) {
      this.skipping = null;
      return;
    }
    const m = new Map<string, number>();
    for (const t of this.atLast) m.set(t, (m.get(t) ?? 0) + 1);
    this.skipping = m;
  }

  get resuming(): boolean {
    return this.skipping !== null;
  }

  /** true when the line repeats one already shown before the drop. */
  isDuplicate(ts: number, text: string): boolean {
    const skip = this.skipping;
    if (!skip) return false;
    if (ts < this.lastTs) return true;
    if (ts === this.lastTs) {
      const n = skip.get(text) ?? 0;
      if (n > 0) {
        skip.set(text, n - 1);
        return true;
      }
      return false;
    }
    this.skipping = null;
    return false;
  }
}

/** Stable merge by timestamp: `a` first on ties (lines already shown keep their place). */
export function mergeByTime(a: LogLine[], b: LogLine[]): LogLine[] {
  const out: LogLine[] = new Array(a.length + b.length);
  let i = 0;
  let j = 0;
  let k = 0;
  while (i < a.length && j < b.length) out[k++] = b[j].ts < a[i].ts ? b[j++] : a[i++];
  while (i < a.length) out[k++] = a[i++];
  while (j < b.length) out[k++] = b[j++];
  return out;
}

/** Stable sort by timestamp (Array.prototype.sort is stable in every current engine). */
export function sortByTime(lines: LogLine[]): LogLine[] {
  for (let i = 1; i < lines.length; i++) {
    if (lines[i].ts < lines[i - 1].ts) return lines.sort((x, y) => x.ts - y.ts);
  }
  return lines;
}
