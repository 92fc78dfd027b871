// A log pane's state outside the component tree: which sources stream, the line buffer,
// batching of appends into animation frames, search/filter, and the view it drives.

import { searchRegex } from './ansi';
import { LogBuffer } from './logbuffer';
import { LogStream, type StreamQuery } from './logstream';
import type { LogLine } from './logtext';
import { LogView, plainMessage } from './logview';

export interface ContainerRef {
  name: string;
  kind: 'init' | 'main' | 'ephemeral';
}
export interface PodRef {
  name: string;
  containers: ContainerRef[];
  /** Cross-cluster panes: the pod's cluster (else the pane's). */
  cluster?: string;
}
export interface LogsOptions {
  cluster: string;
  namespace: string;
  pods: PodRef[];
  title: string;
  pod?: string;
  container?: string;
  /** Set when the pane follows a workload's label selector: pods join and leave. */
  selector?: string;
  /** Cross-cluster panes (streams/multicluster.ts): every cluster merged; `cluster` is the first. */
  clusters?: string[];
  /** With `clusters`: the workload, as its deep link writes it (multicluster.ts). */
  workload?: string;
}

export const ALL = '*';
export const MAX_SOURCES = 40;
export const DEFAULT_CAP = 50_000;

export interface Source {
  pod: string;
  container: string;
  label: string;
  /** The pod's cluster when the pane spans several. */
  cluster?: string;
}

/** A pod's identity in a pane: its name, and its cluster in a cross-cluster pane. */
const podKey = (p: { name: string; cluster?: string }): string => `${p.cluster ?? ''}\n${p.name}`;

export class LogController {
  readonly buffer = new LogBuffer(DEFAULT_CAP);
  streams: LogStream[] = [];
  sources: Source[] = [];
  pod: string;
  container: string;
  query: StreamQuery = { tailLines: 1000, sinceSeconds: null, previous: false };
  timestamps = false;
  wrap = false;
  following = true;
  search = '';
  regex = false;
  filter = false;
  searchError = '';
  matches: number[] | null = null;
  currentAbs = -1;
  skippedSources = 0;

  private pending: LogLine[] = [];
  private frame = 0;
  private re: RegExp | null = null;
  private scannedTo = 0; // absolute id up to which matches are computed
  private scannedGen = -1;
  private view: LogView | null = null;
  private listeners = new Set<() => void>();
  private notifyTimer: ReturnType<typeof setTimeout> | null = null;
  private disposed = false;

  /** Set while the pods' containers are being looked up (openLogs without PodRefs). */
  resolving = '';

  constructor(
    readonly opts: LogsOptions,
    initial: Partial<StreamQuery> = {},
  ) {
    this.query = { ...this.query, ...initial };
    this.pod = ALL;
    this.container = ALL;
    if (opts.pods.length) this.setPods(opts.pods);
  }

  /** Pods known (now or after a lookup): pick the default selection and start streaming. */
  setPods(pods: PodRef[]): void {
    this.opts.pods = pods;
    this.resolving = '';
    const want = this.opts.pod;
    // A pane following a selector stays on all pods: one pod now may be several soon.
    this.pod = want && pods.some((p) => p.name === want) ? want : pods.length === 1 && !this.opts.selector ? pods[0].name : ALL;
    const first = (pods.find((p) => p.name === this.pod) ?? pods[0])?.containers ?? [];
    const mains = first.filter((c) => c.kind === 'main');
    const wantC = this.opts.container;
    if (wantC && first.some((c) => c.name === wantC)) this.container = wantC;
    else if (wantC && this.pod === ALL) this.container = wantC;
    else this.container = mains.length === 1 || pods.length > 1 ? (mains[0]?.name ?? ALL) : ALL;
    this.restart();
  }

  /**
   * Selector mode: the set of pods changed. Pods that appeared join with their whole log (they
   * are new); a pod that went away ends with a line saying so and is not asked for again.
   */
  updatePods(pods: PodRef[]): void {
    if (!this.opts.pods.length || this.resolving) {
      if (pods.length) this.setPods(pods);
      return;
    }
    const now = new Set(pods.map(podKey));
    const known = new Set(this.opts.pods.map(podKey));
    const gone = this.opts.pods.filter((p) => !now.has(podKey(p)));
    const added = pods.filter((p) => !known.has(podKey(p)));
    if (!gone.length && !added.length) return;
    this.opts.pods = [...this.opts.pods.filter((p) => now.has(podKey(p))), ...added];
    const ended: LogLine[] = [];
    const of = (p: PodRef) => (x: LogStream) => x.pod === p.name && x.cluster === (p.cluster ?? this.opts.cluster);
    for (const p of gone) {
      for (const s of this.streams.filter(of(p))) {
        s.stop();
        ended.push({ ts: Date.now(), text: `── pod ${p.name} went away ──`, msgStart: 0, src: s.src });
      }
      this.streams = this.streams.filter((x) => !of(p)(x));
    }
    if (ended.length) this.sink(ended);
    if (this.pod === ALL) {
      const { cluster, namespace } = this.opts;
      const fromStart: StreamQuery = { ...this.query, tailLines: null, sinceSeconds: null };
      for (const p of added) {
        for (const src of this.sourcesOf(p, true)) {
          if (this.sources.length >= MAX_SOURCES) {
            this.skippedSources++;
            continue;
          }
          const i = this.sources.push(src) - 1;
          const s = new LogStream(src.cluster ?? cluster, namespace, src.pod, src.container, i, fromStart, (lines) => this.sink(lines), () => this.stateChanged());
          this.streams.push(s);
          s.start();
        }
      }
      this.buffer.merge = this.sources.length > 1;
    }
    this.notify(true);
  }

  /** The lookup failed: say so in the status bar. */
  setResolveError(message: string): void {
    this.resolving = message;
    this.notify(true);
  }

  // ---- subscription for the Preact toolbar/status

  subscribe(fn: () => void): () => void {
    this.listeners.add(fn);
    return () => this.listeners.delete(fn);
  }
  private notify(now = false): void {
    if (now) {
      if (this.notifyTimer) clearTimeout(this.notifyTimer);
      this.notifyTimer = null;
      this.listeners.forEach((f) => f());
      return;
    }
    if (this.notifyTimer) return;
    this.notifyTimer = setTimeout(() => {
      this.notifyTimer = null;
      this.listeners.forEach((f) => f());
    }, 200);
  }

  // ---- sources

  /** The containers offered by the picker for the chosen pod (or the union across pods). */
  containerChoices(): ContainerRef[] {
    const seen = new Map<string, ContainerRef>();
    for (const p of this.opts.pods) {
      if (this.pod !== ALL && p.name !== this.pod) continue;
      for (const c of p.containers) if (!seen.has(c.name)) seen.set(c.name, c);
    }
    return [...seen.values()];
  }

  private computeSources(): Source[] {
    const pods = this.opts.pods.filter((p) => this.pod === ALL || p.name === this.pod);
    // A pane that follows a selector names pods even while it has one: more may join.
    const multiPod = pods.length > 1 || (!!this.opts.selector && this.pod === ALL);
    return pods.flatMap((p) => this.sourcesOf(p, multiPod));
  }

  private sourcesOf(p: PodRef, multiPod: boolean): Source[] {
    const cs = p.containers.filter((c) => this.container === ALL || c.name === this.container);
    const multiC = this.container === ALL && p.containers.length > 1;
    return cs.map((c) => ({ pod: p.name, container: c.name, cluster: p.cluster, label: multiPod && multiC ? `${p.name}/${c.name}` : multiPod ? p.name : c.name }));
  }

  select(pod: string, container: string): void {
    this.pod = pod;
    const names = this.containerChoices().map((c) => c.name);
    this.container = container === ALL || names.includes(container) ? container : (names[0] ?? ALL);
    this.restart();
  }

  setQuery(q: Partial<StreamQuery>): void {
    this.query = { ...this.query, ...q };
    this.restart();
  }

  /** (Re)opens every stream from scratch with the current selection and query. */
  restart(): void {
    for (const s of this.streams) s.stop();
    this.pending = [];
    this.buffer.clear();
    this.resetMatches();
    const all = this.computeSources();
    this.sources = all.slice(0, MAX_SOURCES);
    this.skippedSources = all.length - this.sources.length;
    this.buffer.merge = this.sources.length > 1;
    const { cluster, namespace } = this.opts;
    this.streams = this.sources.map(
      (s, i) =>
        new LogStream(s.cluster ?? cluster, namespace, s.pod, s.container, i, this.query, (lines) => this.sink(lines), () => this.stateChanged()),
    );
    this.following = true;
    if (this.view) {
      this.view.following = true;
      this.view.invalidate();
    }
    for (const s of this.streams) s.start();
    this.notify(true);
  }

  /**
   * A stream changed phase. Its last lines may still wait for the next animation frame (a short
   * stream such as previous logs delivers them and closes in one go): take them in first, or the
   * status would show the end of the stream next to a count that leaves them out.
   */
  private stateChanged(): void {
    if (this.pending.length) this.flush(true);
    this.notify(true);
  }

  reconnect(): void {
    for (const s of this.streams) if (s.state.phase === 'ended' || s.state.phase === 'error') s.reconnect();
  }

  /** Called on dispose (the selector watch's stop). */
  onDispose: (() => void) | null = null;

  dispose(): void {
    this.onDispose?.();
    this.onDispose = null;
    this.disposed = true;
    for (const s of this.streams) s.stop();
    if (this.frame) cancelAnimationFrame(this.frame);
    this.detach();
    this.listeners.clear();
  }

  get multiSource(): boolean {
    return this.sources.length > 1;
  }

  labelOf = (src: number): string => this.sources[src]?.label ?? '?';

  /** Cross-cluster panes: the cluster of a source (for its chip on every line), else null. */
  clusterOf = (src: number): string | null => (this.opts.clusters ? (this.sources[src]?.cluster ?? null) : null);

  // ---- appending, batched per animation frame

  /** Entry point for new lines (streams and the bench feeder). */
  sink(lines: LogLine[]): void {
    if (this.disposed) return;
    const p = this.pending;
    for (let i = 0; i < lines.length; i++) p.push(lines[i]);
    // A hidden tab gets no animation frames: flush into the buffer anyway so memory stays bounded.
    if (p.length > this.buffer.cap) this.flush(false);
    else if (!this.frame) this.frame = requestAnimationFrame(() => this.flush(true));
  }

  flush(render: boolean): void {
    if (this.frame) cancelAnimationFrame(this.frame);
    this.frame = 0;
    if (!this.pending.length) return;
    const batch = this.pending;
    this.pending = [];
    if (render) this.view?.prepare();
    this.buffer.add(batch);
    this.updateMatches();
    if (render && this.view) this.view.update();
    this.notify();
  }

  // ---- view

  attach(el: HTMLElement): void {
    const ctl = this;
    this.view = new LogView(el, {
      buffer: this.buffer,
      get matches() {
        return ctl.matches;
      },
      get re() {
        return ctl.re;
      },
      get filter() {
        return ctl.filter && ctl.matches !== null;
      },
      get timestamps() {
        return ctl.timestamps;
      },
      get wrap() {
        return ctl.wrap;
      },
      get currentAbs() {
        return ctl.currentAbs;
      },
      get label() {
        return ctl.multiSource ? ctl.labelOf : null;
      },
      get cluster() {
        return ctl.opts.clusters ? ctl.clusterOf : null;
      },
      onFollowChange(f: boolean) {
        ctl.following = f;
        ctl.notify(true);
      },
    });
    this.view.following = this.following;
    this.view.invalidate();
  }

  detach(): void {
    this.view?.destroy();
    this.view = null;
  }

  /** Pane became visible again (tab switch, dock restored). */
  shown(): void {
    this.view?.invalidate();
  }

  setDisplay(o: { timestamps?: boolean; wrap?: boolean }): void {
    this.view?.prepare();
    if (o.timestamps !== undefined) this.timestamps = o.timestamps;
    if (o.wrap !== undefined) this.wrap = o.wrap;
    this.view?.invalidate();
    this.notify(true);
  }

  setCap(cap: number): void {
    this.view?.prepare();
    this.buffer.setCap(cap);
    this.updateMatches();
    this.view?.invalidate();
    this.notify(true);
  }

  pause(): void {
    this.following = false;
    if (this.view) this.view.following = false;
    this.notify(true);
  }

  jumpToLatest(): void {
    this.following = true;
    this.view?.jumpToLatest();
    this.notify(true);
  }

  // ---- search

  setSearch(o: { search?: string; regex?: boolean; filter?: boolean }): void {
    this.view?.prepare();
    if (o.search !== undefined) this.search = o.search;
    if (o.regex !== undefined) this.regex = o.regex;
    if (o.filter !== undefined) this.filter = o.filter;
    this.searchError = '';
    try {
      this.re = searchRegex(this.search, this.regex);
    } catch (e) {
      this.re = null;
      this.searchError = e instanceof Error ? e.message : String(e);
    }
    this.resetMatches();
    this.updateMatches();
    this.view?.invalidate();
    this.notify(true);
  }

  private resetMatches(): void {
    this.matches = this.re ? [] : null;
    this.scannedTo = 0;
    this.scannedGen = -1;
    this.currentAbs = -1;
  }

  private updateMatches(): void {
    const re = this.re;
    const b = this.buffer;
    if (!re || !this.matches) return;
    if (this.scannedGen !== b.layoutGen) {
      this.matches = [];
      this.scannedTo = b.base;
      this.scannedGen = b.layoutGen;
    }
    const m = this.matches;
    // Forget matches that were dropped by the cap.
    let cut = 0;
    while (cut < m.length && m[cut] < b.base) cut++;
    if (cut) m.splice(0, cut);
    const from = Math.max(this.scannedTo, b.base) - b.base;
    for (let i = from; i < b.length; i++) {
      re.lastIndex = 0;
      if (re.test(plainMessage(b, i))) m.push(b.base + i);
    }
    this.scannedTo = b.base + b.length;
    if (this.currentAbs >= 0 && this.currentAbs < b.base) this.currentAbs = -1;
  }

  /** 1-based position of the current match, 0 when none is current. */
  currentIndex(): number {
    const m = this.matches;
    if (!m || this.currentAbs < 0) return 0;
    const i = m.indexOf(this.currentAbs);
    return i < 0 ? 0 : i + 1;
  }

  step(dir: 1 | -1): void {
    const m = this.matches;
    if (!m || !m.length) return;
    let i = m.indexOf(this.currentAbs);
    if (i < 0) i = dir > 0 ? 0 : m.length - 1;
    else i = (i + dir + m.length) % m.length;
    this.currentAbs = m[i];
    this.following = false;
    this.view?.reveal(this.currentAbs);
    this.notify(true);
  }

  // ---- download

  download(): void {
    const label = this.opts.clusters ? (i: number) => `${this.clusterOf(i) ?? ''} ${this.labelOf(i)}` : this.labelOf;
    const text = this.buffer.toText(this.timestamps, this.multiSource ? label : undefined);
    const blob = new Blob([text], { type: 'text/plain;charset=utf-8' });
    const a = document.createElement('a');
    a.href = URL.createObjectURL(blob);
    const stamp = new Date().toISOString().replace(/[:.]/g, '-').slice(0, 19);
    // The cluster first: the same pod name on two clusters gives two distinguishable files.
    a.download = `${`${this.opts.cluster}_${this.opts.title}`.replace(/[^\w.-]+/g, '_')}_${stamp}.log`;
    document.body.appendChild(a);
    a.click();
    a.remove();
    setTimeout(() => URL.revokeObjectURL(a.href), 10_000);
  }
}
