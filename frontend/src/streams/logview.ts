// The virtualized line list: only the rows in view (plus overscan) exist in the DOM. Managed
// imperatively (not by Preact): at 10k+ lines/s the diff of a component tree is the cost we
// avoid. Rows are laid out in normal flow inside a window translated to the first row's
// offset, so wrapped rows with estimated heights never overlap.

import { clusterColour } from '../clustercolour';
import { renderLine, stripAnsi } from './ansi';
import type { LogBuffer } from './logbuffer';

export interface ViewModel {
  buffer: LogBuffer;
  /** Absolute ids of matching lines (sorted), or null when no search is active. */
  matches: number[] | null;
  re: RegExp | null;
  filter: boolean;
  timestamps: boolean;
  wrap: boolean;
  currentAbs: number; // absolute id of the current match line, -1 none
  label: ((src: number) => string) | null;
  /** Cross-cluster panes: a cluster chip (stable colour) before the source's label. */
  cluster?: ((src: number) => string | null) | null;
  onFollowChange(following: boolean): void;
}

const OVERSCAN = 12;

interface RowEl extends HTMLDivElement {
  _key?: string;
}

export class LogView {
  following = true;
  private inner: HTMLDivElement;
  private win: HTMLDivElement;
  private pool: RowEl[] = [];
  private rowH = 18;
  private charW = 7.8;
  private pos: Float64Array | null = null; // prefix offsets when wrapping
  private viewGen = 0;
  private programmaticTop = -1;
  private scheduled = 0;
  private anchorAbs = -1;
  private anchorDelta = 0;
  private ro: ResizeObserver;
  private lastWidth = 0;

  constructor(
    readonly el: HTMLElement,
    private model: ViewModel,
  ) {
    el.classList.add('kl-log-scroll');
    this.inner = document.createElement('div');
    this.inner.className = 'kl-log-inner';
    this.win = document.createElement('div');
    this.win.className = 'kl-log-window';
    this.inner.appendChild(this.win);
    el.appendChild(this.inner);
    this.measure();
    el.addEventListener('scroll', this.onScroll, { passive: true });
    el.addEventListener('wheel', this.onWheel, { passive: true });
    this.ro = new ResizeObserver(() => {
      if (this.el.clientWidth !== this.lastWidth) {
        this.lastWidth = this.el.clientWidth;
        this.invalidate();
      } else this.schedule();
    });
    this.ro.observe(el);
  }

  destroy(): void {
    this.ro.disconnect();
    this.el.removeEventListener('scroll', this.onScroll);
    this.el.removeEventListener('wheel', this.onWheel);
    if (this.scheduled) cancelAnimationFrame(this.scheduled);
    this.el.replaceChildren();
  }

  private measure(): void {
    const probe = document.createElement('div');
    probe.className = 'kl-row';
    probe.textContent = 'x'.repeat(100);
    probe.style.position = 'absolute';
    probe.style.visibility = 'hidden';
    probe.style.whiteSpace = 'pre';
    this.inner.appendChild(probe);
    const r = probe.getBoundingClientRect();
    if (r.height > 0) this.rowH = r.height;
    if (r.width > 0) this.charW = r.width / 100;
    probe.remove();
  }

  /**
   * Remember which line is at the top of the view, before lines or options change, so a
   * reader who scrolled up keeps their place (drops at the cap, filter or wrap toggles).
   */
  prepare(): void {
    if (!this.following && this.anchorAbs < 0) this.saveAnchor();
  }

  /** Display options, search or filter changed (call prepare() before changing them). */
  invalidate(): void {
    this.viewGen++;
    this.prepare();
    this.pos = null;
    this.schedule();
  }

  /** Lines were added/dropped (prepare() was called before). Renders now, in the rAF flush. */
  update(): void {
    this.pos = null;
    this.render();
  }

  schedule(): void {
    if (this.scheduled) return;
    this.scheduled = requestAnimationFrame(() => {
      this.scheduled = 0;
      this.render();
    });
  }

  jumpToLatest(): void {
    this.setFollowing(true);
    this.render();
  }

  /** Scrolls so that the line with absolute id `abs` is in the middle of the view. */
  reveal(abs: number): void {
    this.setFollowing(false);
    const row = this.rowOfAbs(abs);
    const top = this.offset(row) - this.el.clientHeight / 2 + this.rowH;
    this.anchorAbs = -1;
    this.viewGen++;
    this.setTop(Math.max(0, top));
    this.render();
  }

  private setFollowing(f: boolean): void {
    if (this.following === f) return;
    this.following = f;
    this.model.onFollowChange(f);
  }

  private onWheel = (ev: WheelEvent): void => {
    if (ev.deltaY < 0 && this.following) this.setFollowing(false);
  };

  private onScroll = (): void => {
    const top = this.el.scrollTop;
    if (this.programmaticTop >= 0 && Math.abs(top - this.programmaticTop) < 2) {
      this.programmaticTop = -1;
    } else {
      this.programmaticTop = -1;
      const atBottom = top + this.el.clientHeight >= this.el.scrollHeight - this.rowH;
      this.setFollowing(atBottom);
    }
    this.schedule();
  };

  private setTop(top: number): void {
    this.programmaticTop = top;
    this.el.scrollTop = top;
    // The browser clamps; remember what it actually took.
    this.programmaticTop = this.el.scrollTop;
  }

  // ---- rows <-> lines

  private rowCount(): number {
    const m = this.model;
    if (m.filter && m.matches) return m.matches.length;
    return m.buffer.length;
  }

  /** Buffer index (relative) of row r. */
  private lineOfRow(r: number): number {
    const m = this.model;
    if (m.filter && m.matches) return m.matches[r] - m.buffer.base;
    return r;
  }

  private rowOfAbs(abs: number): number {
    const m = this.model;
    if (m.filter && m.matches) {
      let lo = 0;
      let hi = m.matches.length;
      while (lo < hi) {
        const mid = (lo + hi) >>> 1;
        if (m.matches[mid] < abs) lo = mid + 1;
        else hi = mid;
      }
      return Math.min(lo, Math.max(0, m.matches.length - 1));
    }
    return Math.max(0, Math.min(m.buffer.length - 1, abs - m.buffer.base));
  }

  private charsPerRow(): number {
    return Math.max(10, Math.floor((this.el.clientWidth - 24) / this.charW));
  }

  private displayLen(line: number): number {
    const b = this.model.buffer;
    let n = b.text(line).length - (this.model.timestamps ? 0 : b.msgStart(line));
    if (this.model.label) n += this.model.label(b.src(line)).length + 1;
    if (this.model.cluster) n += (this.model.cluster(b.src(line)) ?? '').length + 2;
    return n;
  }

  private ensurePos(): Float64Array | null {
    if (!this.model.wrap) return null;
    if (this.pos) return this.pos;
    const n = this.rowCount();
    const pos = new Float64Array(n + 1);
    const cpr = this.charsPerRow();
    let acc = 0;
    for (let r = 0; r < n; r++) {
      pos[r] = acc;
      acc += Math.max(1, Math.ceil(this.displayLen(this.lineOfRow(r)) / cpr)) * this.rowH;
    }
    pos[n] = acc;
    this.pos = pos;
    return pos;
  }

  private offset(r: number): number {
    const pos = this.ensurePos();
    return pos ? pos[Math.min(r, pos.length - 1)] : r * this.rowH;
  }

  private rowAt(y: number): number {
    const pos = this.ensurePos();
    const n = this.rowCount();
    if (!pos) return Math.max(0, Math.min(n - 1, Math.floor(y / this.rowH)));
    let lo = 0;
    let hi = n;
    while (lo < hi) {
      const mid = (lo + hi) >>> 1;
      if (pos[mid + 1] <= y) lo = mid + 1;
      else hi = mid;
    }
    return Math.min(lo, Math.max(0, n - 1));
  }

  private saveAnchor(): void {
    const n = this.rowCount();
    if (!n || this.following) {
      this.anchorAbs = -1;
      return;
    }
    const top = this.el.scrollTop;
    const r = this.rowAt(top);
    this.anchorAbs = this.model.buffer.base + this.lineOfRow(r);
    this.anchorDelta = top - this.offset(r);
  }

  // ---- drawing

  render(): void {
    if (!this.el.isConnected || this.el.clientHeight === 0) return;
    const m = this.model;
    const n = this.rowCount();
    const total = this.offset(n);
    this.inner.style.height = `${Math.max(total, 1)}px`;
    this.el.classList.toggle('kl-wrap', m.wrap);
    if (!m.wrap) {
      const labelW = (m.label ? 24 : 0) + (m.cluster ? 20 : 0);
      const tsW = m.timestamps ? 32 : 0;
      this.inner.style.width = `max(100%, ${Math.ceil((m.buffer.maxChars + labelW + tsW + 2) * this.charW + 16)}px)`;
    } else this.inner.style.width = '';
    if (this.following) this.setTop(Math.max(0, total - this.el.clientHeight));
    else if (this.anchorAbs >= 0 && n > 0) {
      const r = this.rowOfAbs(this.anchorAbs);
      this.setTop(Math.max(0, this.offset(r) + this.anchorDelta));
    }
    this.anchorAbs = -1;
    const top = this.el.scrollTop;
    const first = n ? this.rowAt(top) : 0;
    const last = n ? this.rowAt(top + this.el.clientHeight) : -1;
    const start = Math.max(0, first - OVERSCAN);
    const end = Math.min(n, last + 1 + OVERSCAN);
    this.win.style.transform = `translateY(${this.offset(start)}px)`;
    const count = end - start;
    while (this.pool.length < count) {
      const row = document.createElement('div') as RowEl;
      row.className = 'kl-row';
      this.pool.push(row);
    }
    const kids = this.win.children;
    for (let k = 0; k < count; k++) {
      const row = this.pool[k];
      this.fill(row, this.lineOfRow(start + k));
      if (kids[k] !== row) this.win.insertBefore(row, kids[k] ?? null);
    }
    while (this.win.children.length > count) this.win.lastChild?.remove();
  }

  private fill(row: RowEl, line: number): void {
    const m = this.model;
    const b = m.buffer;
    const abs = b.base + line;
    const key = `${abs}:${b.layoutGen}:${this.viewGen}:${abs === m.currentAbs ? 1 : 0}`;
    if (row._key === key) return;
    row._key = key;
    row.replaceChildren();
    const src = b.src(line);
    const cluster = m.cluster?.(src);
    if (cluster) {
      const c = document.createElement('span');
      c.className = 'kl-line-cluster';
      c.style.background = clusterColour(cluster);
      c.textContent = cluster;
      row.appendChild(c);
    }
    if (m.label) {
      const l = document.createElement('span');
      l.className = `kl-src kl-src-${src % 10}`;
      l.textContent = m.label(src);
      row.appendChild(l);
    }
    const text = b.text(line);
    const start = b.msgStart(line);
    if (m.timestamps && start > 0) {
      const t = document.createElement('span');
      t.className = 'kl-ts';
      t.textContent = text.slice(0, start - 1);
      row.appendChild(t);
      row.appendChild(document.createTextNode(' '));
    }
    const msg = start ? text.slice(start) : text;
    if (!m.re && msg.indexOf('\x1b') < 0) row.appendChild(document.createTextNode(msg));
    else renderLine(row, msg, m.re, abs === m.currentAbs);
    row.classList.toggle('kl-row-current', abs === m.currentAbs);
  }
}

/** Plain message text of line i (what search and filter look at). */
export function plainMessage(b: LogBuffer, i: number): string {
  const t = b.text(i);
  return stripAnsi(t.slice(b.msgStart(i)));
}
