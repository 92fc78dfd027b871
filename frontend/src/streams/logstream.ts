// One log source (pod + container) over a WebSocket through kubelantern's proxy.
//
// Why WebSocket and not fetch(): a browser allows only 6 HTTP/1.1 connections per host, and
// the SPA's watches already use some; a workload's "all pods, all containers" view can need
// dozens of followed streams at once. WebSockets have their own, much larger budget, and
// kubelantern pings them so idle load balancers keep them open. The price (no HTTP status on a
// refused upgrade) is paid by probe.ts. Subprotocol: `binary.k8s.io` first (raw bytes, no
// base64 inflation or decoding), `base64.binary.k8s.io` accepted if that is what comes back.

import { clusterWsUrl, podPath } from '../api/client';
import { LineSplitter, parseTimestamp, ResumePoint, type LogLine } from './logtext';
import { explainEmptyLog } from './notstarted';
import { probe, type StreamFailure } from './probe';

export const LOG_PROTOCOLS = ['binary.k8s.io', 'base64.binary.k8s.io'];

export interface StreamQuery {
  tailLines: number | null; // null: all
  sinceSeconds: number | null; // null: no bound
  previous: boolean;
}

export type Phase = 'connecting' | 'streaming' | 'ended' | 'reconnecting' | 'error';

export interface SourceState {
  phase: Phase;
  message: string;
  advice?: string;
  retryAt?: number; // epoch ms of the next attempt while reconnecting
}

const MAX_ATTEMPTS = 10;
const MAX_DELAY_MS = 15_000;

export function backoffDelay(attempt: number): number {
  const d = Math.min(MAX_DELAY_MS, 500 * 2 ** attempt);
  return d * (0.8 + Math.random() * 0.4);
}

export function logPath(namespace: string, pod: string, params: Record<string, string>): string {
  return podPath(namespace, pod, 'log', params);
}

export class LogStream {
  state: SourceState = { phase: 'connecting', message: 'connecting…' };
  readonly resume = new ResumePoint();
  private ws: WebSocket | null = null;
  private splitter = new LineSplitter();
  private stopped = false;
  private attempt = 0;
  private timer: ReturnType<typeof setTimeout> | null = null;
  private lastTs = -Infinity;

  constructor(
    readonly cluster: string,
    readonly namespace: string,
    readonly pod: string,
    readonly container: string,
    readonly src: number,
    private query: StreamQuery,
    private sink: (lines: LogLine[]) => void,
    private onState: (s: LogStream) => void,
  ) {}

  start(): void {
    this.connect(false);
  }

  stop(): void {
    this.stopped = true;
    if (this.timer) clearTimeout(this.timer);
    this.timer = null;
    const ws = this.ws;
    this.ws = null;
    if (ws) {
      ws.onopen = ws.onmessage = ws.onclose = ws.onerror = null;
      ws.close(1000);
    }
  }

  /** User asked to reconnect (after an end or a give-up): resume where the stream stood. */
  reconnect(): void {
    if (this.stopped) return;
    if (this.timer) clearTimeout(this.timer);
    this.timer = null;
    this.attempt = 0;
    if (this.ws) return;
    this.connect(this.resume.lastTs !== -Infinity);
  }

  private setState(s: SourceState): void {
    this.state = s;
    this.onState(this);
  }

  private params(resume: boolean, forProbe: boolean): Record<string, string> {
    const p: Record<string, string> = { container: this.container, timestamps: 'true' };
    if (this.query.previous) p.previous = 'true';
    else if (!forProbe) p.follow = 'true';
    if (forProbe) {
      p.tailLines = '1';
      p.limitBytes = '256';
    } else if (resume && this.resume.lastStamp) {
      p.sinceTime = this.resume.lastStamp;
    } else {
      if (this.query.tailLines !== null) p.tailLines = String(this.query.tailLines);
      if (this.query.sinceSeconds !== null) p.sinceSeconds = String(this.query.sinceSeconds);
    }
    return p;
  }

  private connect(resume: boolean): void {
    if (resume) this.resume.resume();
    this.splitter = new LineSplitter();
    let opened = false;
    let gotData = false;
    const url = clusterWsUrl(this.cluster, logPath(this.namespace, this.pod, this.params(resume, false)));
    let ws: WebSocket;
    try {
      ws = new WebSocket(url, LOG_PROTOCOLS);
    } catch (e) {
      this.setState({ phase: 'error', message: `cannot open the log stream: ${String(e)}` });
      return;
    }
    ws.binaryType = 'arraybuffer';
    this.ws = ws;
    if (this.state.phase !== 'reconnecting') this.setState({ phase: 'connecting', message: 'connecting…' });
    ws.onopen = () => {
      opened = true;
      this.setState({ phase: 'streaming', message: this.query.previous ? 'previous instance' : 'following' });
    };
    ws.onmessage = (ev: MessageEvent) => {
      let lines: string[];
      if (typeof ev.data === 'string') {
        if (!ev.data) return;
        const bin = atob(ev.data);
        const bytes = new Uint8Array(bin.length);
        for (let i = 0; i < bin.length; i++) bytes[i] = bin.charCodeAt(i);
        lines = this.splitter.push(bytes);
      } else {
        const bytes = new Uint8Array(ev.data as ArrayBuffer);
        if (!bytes.length) return;
        lines = this.splitter.push(bytes);
      }
      if (!gotData) {
        gotData = true;
        this.attempt = 0;
      }
      this.emit(lines);
    };
    ws.onclose = (ev: CloseEvent) => {
      if (this.ws !== ws) return;
      this.ws = null;
      if (this.stopped) return;
      if (opened && ev.code === 1000) {
        // End of stream: the container stopped (or previous logs are complete).
        this.emit(this.splitter.flush());
        if (!gotData && !this.query.previous && this.resume.lastTs === -Infinity) {
          // Nothing ever came: a container that has not started yet ends its stream at once.
          void this.explainEnd();
          return;
        }
        this.setState({ phase: 'ended', message: this.query.previous ? 'end of previous instance' : 'stream ended (container stopped?)' });
        return;
      }
      // A partial last line would come again, whole, after the resume: drop it.
      this.splitter = new LineSplitter();
      if (!opened) void this.failedUpgrade();
      else this.retry({ status: 0, message: `connection dropped (code ${ev.code}${ev.reason ? `: ${ev.reason}` : ''})`, advice: '', permanent: false });
    };
  }

  private async explainEnd(): Promise<void> {
    const why = await explainEmptyLog(this.cluster, this.namespace, this.pod, this.container);
    if (this.stopped) return;
    this.setState(
      why
        ? { phase: 'ended', message: why, advice: 'Reconnect once it has started.' }
        : { phase: 'ended', message: 'stream ended (container stopped?)' },
    );
  }

  private async failedUpgrade(): Promise<void> {
    const failure = await probe(this.cluster, logPath(this.namespace, this.pod, this.params(false, true)));
    if (this.stopped) return;
    if (failure.permanent) this.setState({ phase: 'error', message: failure.message, advice: failure.advice });
    else this.retry(failure);
  }

  private retry(failure: StreamFailure): void {
    if (this.attempt >= MAX_ATTEMPTS || this.query.previous) {
      this.setState({ phase: 'error', message: `${failure.message}; gave up after ${this.attempt} attempts`, advice: failure.advice });
      return;
    }
    const delay = backoffDelay(this.attempt++);
    this.setState({ phase: 'reconnecting', message: `${failure.message}; reconnecting`, advice: failure.advice, retryAt: Date.now() + delay });
    this.timer = setTimeout(() => {
      this.timer = null;
      if (!this.stopped) this.connect(this.resume.lastTs !== -Infinity);
    }, delay);
  }

  private emit(raw: string[]): void {
    if (!raw.length) return;
    const out: LogLine[] = [];
    for (const text of raw) {
      const parsed = parseTimestamp(text);
      let ts: number;
      let msgStart = 0;
      if (parsed) {
        ts = parsed.ts;
        msgStart = parsed.msgStart;
        if (this.resume.isDuplicate(ts, text)) continue;
        this.resume.seen(ts, text, text.slice(0, parsed.stampEnd));
      } else {
        // Not a kubelet line (e.g. an error text): keep it in place after the previous line.
        ts = this.lastTs === -Infinity ? Date.now() : this.lastTs;
      }
      this.lastTs = ts;
      out.push({ ts, text, msgStart, src: this.src });
    }
    if (out.length) this.sink(out);
  }
}
