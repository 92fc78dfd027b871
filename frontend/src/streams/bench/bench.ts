// Bench harness for bench/logviewer.py: the real LogController/LogView (no sockets), fed by a
// synthetic source through the same path as a stream (bytes -> LineSplitter -> parseTimestamp
// -> sink -> rAF flush), plus a naive non-virtualized list as the baseline.

import '../streams.css';
import { LogController } from '../logcontroller';
import { LineSplitter, mergeByTime, parseTimestamp, ResumePoint, type LogLine } from '../logtext';
import { matchRanges, parseAnsi, renderLine, searchRegex, stripAnsi } from '../ansi';
import { LogBuffer } from '../logbuffer';
import { explainStatus } from '../probe';
import { outcome, resizeFrame, streamPath } from '../execproto';
import { isDrop, newSessionId, reattachDelay, rejoinDeadline, rejoined, sessionProtocols } from '../reattach';

const pane = document.getElementById('pane')!;
let ctl: LogController | null = null;
const enc = new TextEncoder();
const WORDS = ['GET', '/api/v1/orders', 'status=200', 'latency_ms=12', 'user=alice', 'cache=miss', 'retry=0', 'region=eu-west-1'];

function makeText(n: number, t0: number): string {
  const out: string[] = [];
  for (let i = 0; i < n; i++) {
    const t = new Date(t0 + i).toISOString().replace('Z', '123Z');
    const lvl = i % 50 === 0 ? '\x1b[31mERROR\x1b[0m' : i % 7 === 0 ? '\x1b[33mWARN\x1b[0m' : 'INFO';
    out.push(`${t} ${lvl} request ${i} ${WORDS[i % 8]} ${WORDS[(i * 3) % 8]} ${WORDS[(i * 5) % 8]} id=${(i * 2654435761) >>> 0}`);
  }
  return out.join('\n') + '\n';
}

function toLines(splitter: LineSplitter, bytes: Uint8Array, src = 0): LogLine[] {
  const out: LogLine[] = [];
  for (const text of splitter.push(bytes)) {
    const p = parseTimestamp(text);
    out.push({ ts: p ? p.ts : 0, text, msgStart: p ? p.msgStart : 0, src });
  }
  return out;
}

function frameStats(deltas: number[]) {
  const s = [...deltas].sort((a, b) => a - b);
  const q = (p: number) => (s.length ? s[Math.min(s.length - 1, Math.floor(p * s.length))] : 0);
  return { frames: s.length, p50: q(0.5), p95: q(0.95), max: s.length ? s[s.length - 1] : 0 };
}

/** Records requestAnimationFrame deltas until stop() is called. */
function frameRecorder() {
  const deltas: number[] = [];
  let last = performance.now();
  let on = true;
  const tick = (t: number) => {
    deltas.push(t - last);
    last = t;
    if (on) requestAnimationFrame(tick);
  };
  requestAnimationFrame(tick);
  return () => {
    on = false;
    return frameStats(deltas);
  };
}

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));
const nextFrame = () => new Promise((r) => requestAnimationFrame(() => r(null)));

function mount(cap: number): LogController {
  ctl?.dispose();
  pane.replaceChildren();
  const el = document.createElement('div');
  el.style.position = 'relative';
  el.style.flex = '1';
  pane.appendChild(el);
  const scroll = document.createElement('div');
  el.appendChild(scroll);
  ctl = new LogController({ cluster: 'bench', namespace: 'bench', pods: [], title: 'bench' });
  ctl.setCap(cap);
  ctl.attach(scroll);
  return ctl;
}

const api = {
  /** Feed as fast as possible for `ms` while following; chunks of `chunkBytes` like a socket. */
  async followThroughput(ms: number, chunkBytes = 16384, cap = 50000) {
    const c = mount(cap);
    const text = makeText(20000, Date.UTC(2026, 0, 1));
    const bytes = enc.encode(text);
    const splitter = new LineSplitter();
    const stop = frameRecorder();
    const t0 = performance.now();
    let off = 0;
    let fed = 0;
    while (performance.now() - t0 < ms) {
      // One macrotask's worth of socket messages, then yield so frames can render.
      const tEnd = performance.now() + 8;
      while (performance.now() < tEnd) {
        const end = Math.min(bytes.length, off + chunkBytes);
        const lines = toLines(splitter, bytes.subarray(off, end));
        fed += lines.length;
        c.sink(lines);
        off = end >= bytes.length ? 0 : end;
      }
      await sleep(0);
    }
    await nextFrame();
    await nextFrame();
    const secs = (performance.now() - t0) / 1000;
    const frames = stop();
    const shown = c.buffer.length + c.buffer.dropped;
    return { linesPerSecond: Math.round(shown / secs), fedPerSecond: Math.round(fed / secs), seconds: secs, frames, following: c.following, held: c.buffer.length, dropped: c.buffer.dropped };
  },

  /** Fill with n lines (through the real path), then scroll for `ms`; frame-time stats. */
  async scroll(n: number, ms: number, wrap = false, timestamps = true, search = '') {
    const c = mount(Math.max(n, 10000));
    const splitter = new LineSplitter();
    const text = makeText(n, Date.UTC(2026, 0, 1));
    c.sink(toLines(splitter, enc.encode(text)));
    c.flush(true);
    c.setDisplay({ wrap, timestamps });
    if (search) c.setSearch({ search });
    await nextFrame();
    await nextFrame();
    const el = pane.querySelector('.kl-log-scroll') as HTMLElement;
    el.scrollTop = 0;
    await nextFrame();
    const stop = frameRecorder();
    const t0 = performance.now();
    let dir = 1;
    while (performance.now() - t0 < ms) {
      await nextFrame();
      el.scrollTop += dir * 2400; // a fast fling: ~130 rows per frame
      if (el.scrollTop + el.clientHeight >= el.scrollHeight - 2) dir = -1;
      if (el.scrollTop <= 0) dir = 1;
    }
    const frames = stop();
    return { lines: c.buffer.length, rowsInDom: el.querySelectorAll('.kl-row').length, frames };
  },

  /** Append `total` lines in batches with a cap; the caller measures the heap after. */
  async fill(total: number, cap: number) {
    const c = mount(cap);
    const splitter = new LineSplitter();
    const per = 20000;
    for (let done = 0; done < total; done += per) {
      c.sink(toLines(splitter, enc.encode(makeText(per, Date.UTC(2026, 0, 1) + done))));
      c.flush(true);
      await nextFrame();
    }
    return { held: c.buffer.length, dropped: c.buffer.dropped };
  },

  clear() {
    ctl?.dispose();
    ctl = null;
    pane.replaceChildren();
  },

  /** Baseline: a naive list (one div per line, all in the DOM), n lines, then scroll. */
  async naive(n: number, ms: number) {
    api.clear();
    const el = document.createElement('div');
    el.style.cssText = 'flex:1;overflow:auto;background:#0f1115';
    pane.appendChild(el);
    const splitter = new LineSplitter();
    const lines = toLines(splitter, enc.encode(makeText(n, Date.UTC(2026, 0, 1))));
    const t0 = performance.now();
    for (const l of lines) {
      const d = document.createElement('div');
      d.className = 'kl-row';
      d.textContent = l.text;
      el.appendChild(d);
    }
    await nextFrame();
    await nextFrame();
    const appendMs = performance.now() - t0;
    const stop = frameRecorder();
    const t1 = performance.now();
    let dir = 1;
    while (performance.now() - t1 < ms) {
      await nextFrame();
      el.scrollTop += dir * 2400;
      if (el.scrollTop + el.clientHeight >= el.scrollHeight - 2) dir = -1;
      if (el.scrollTop <= 0) dir = 1;
    }
    return { lines: n, appendMs, frames: stop() };
  },

  /** Virtualized equivalent of naive(): time to show n lines, then scroll. */
  async virtualShow(n: number) {
    const c = mount(Math.max(n, 10000));
    const splitter = new LineSplitter();
    const lines = toLines(splitter, enc.encode(makeText(n, Date.UTC(2026, 0, 1))));
    const t0 = performance.now();
    c.sink(lines);
    c.flush(true);
    await nextFrame();
    await nextFrame();
    return { lines: n, appendMs: performance.now() - t0 };
  },
};

(window as unknown as { bench: typeof api }).bench = api;

// Pure pieces and a live pane, for tests/e2e/test_streams_units.py (real browser, real sockets).
const units = {
  splitChunks(chunks: number[][]): string[] {
    const s = new LineSplitter();
    const out: string[] = [];
    for (const c of chunks) out.push(...s.push(new Uint8Array(c)));
    out.push(...s.flush());
    return out;
  },
  parseTimestamp,
  /** Lines before a drop, then the resumed stream: which resumed lines are kept. */
  resume(before: string[], after: string[]): string[] {
    const r = new ResumePoint();
    for (const t of before) {
      const p = parseTimestamp(t)!;
      r.seen(p.ts, t, t.slice(0, p.stampEnd));
    }
    r.resume();
    return after.filter((t) => !r.isDuplicate(parseTimestamp(t)!.ts, t));
  },
  /** Adds batches (each [ts, text, src][]) to a buffer with a cap; returns its state. */
  buffer(cap: number, batches: [number, string, number][][], merge = true) {
    const b = new LogBuffer(cap);
    b.merge = merge;
    for (const batch of batches) b.add(batch.map(([ts, text, src]) => ({ ts, text, msgStart: 0, src })));
    const lines: string[] = [];
    for (let i = 0; i < b.length; i++) lines.push(b.text(i));
    return { lines, dropped: b.dropped, base: b.base };
  },
  merge: (a: number[], b: number[]) => mergeByTime(a.map((ts) => ({ ts, text: `a${ts}`, msgStart: 0, src: 0 })), b.map((ts) => ({ ts, text: `b${ts}`, msgStart: 0, src: 1 }))).map((l) => l.text),
  parseAnsi,
  stripAnsi,
  ranges: (plain: string, q: string, regex: boolean) => matchRanges(plain, searchRegex(q, regex)!),
  render(line: string, q: string, regex: boolean): string {
    const el = document.createElement('div');
    renderLine(el, line, q ? searchRegex(q, regex) : null, false);
    return el.innerHTML;
  },
  explainStatus,
  outcome,
  resizeFrame: (c: number, r: number) => [...resizeFrame(c, r)],
  streamPath,
  newSessionId,
  sessionProtocols,
  isDrop,
  reattachDelay,
  rejoinDeadline,
  rejoined: (bytes: number[]) => rejoined(new Uint8Array(bytes)),

  /** A real log pane over real sockets: streams `pod` (container c) of cluster `fake`. */
  openLive(pod: string) {
    ctl?.dispose();
    pane.replaceChildren();
    const scroll = document.createElement('div');
    scroll.style.cssText = 'position:relative;flex:1';
    pane.appendChild(scroll);
    ctl = new LogController({ cluster: 'fake', namespace: 'ns', pods: [{ name: pod, containers: [{ name: 'c', kind: 'main' }] }], title: pod });
    ctl.attach(scroll);
  },
  live() {
    const c = ctl!;
    const lines: string[] = [];
    for (let i = 0; i < c.buffer.length; i++) lines.push(c.buffer.text(i));
    return { lines, states: c.streams.map((s) => s.state) };
  },
  /** A reader scrolled up keeps their line in view while old lines drop and wrap toggles. */
  async anchor() {
    const c = mount(2000);
    const splitter = new LineSplitter();
    let t = Date.UTC(2026, 0, 1);
    c.sink(toLines(splitter, enc.encode(makeText(2000, t))));
    c.flush(true);
    await nextFrame();
    const el = pane.querySelector('.kl-log-scroll') as HTMLElement;
    el.scrollTop = 18 * 700;
    await nextFrame();
    await nextFrame();
    const top = () => {
      const r = el.getBoundingClientRect();
      return (document.elementFromPoint(r.left + 40, r.top + 4)?.closest('.kl-row') as HTMLElement | null)?.textContent ?? '';
    };
    const before = top();
    t += 10_000;
    c.sink(toLines(splitter, enc.encode(makeText(500, t))));
    c.flush(true);
    await nextFrame();
    await nextFrame();
    const afterDrop = top();
    c.setDisplay({ wrap: true });
    await nextFrame();
    await nextFrame();
    const afterWrap = top();
    return { before, afterDrop, afterWrap, following: c.following, dropped: c.buffer.dropped };
  },
  reconnectLive() {
    ctl?.reconnect();
  },
};
(window as unknown as { streamsTest: typeof units }).streamsTest = units;
document.title = 'bench ready';
