// A terminal pane's session: xterm.js + the exec/attach WebSocket, shell detection, exit
// reporting, reattaching by itself after a dropped connection (reattach.ts) and
// reconnect-with-Enter. Lives outside the component tree so switching dock tabs keeps the
// session.

import { FitAddon } from '@xterm/addon-fit';
import { Terminal } from '@xterm/xterm';
import '@xterm/xterm/css/xterm.css';
import { clusterJson, clusterWsUrl, config, errorText, podPath, type KubeObject } from '../api/client';
import {
  CLOSE_STDIN,
  ERROR,
  EXEC_PROTOCOLS,
  frame,
  outcome,
  resizeFrame,
  type Outcome,
  SHELL_CANDIDATES,
  STDERR,
  STDIN,
  STDOUT,
  streamPath,
} from './execproto';
import { podRefOf, shellContainers } from './podrefs';
import { probe } from './probe';
import { DEFAULT_GRACE_S, isDrop, newSessionId, reattachDelay, rejoinDeadline, rejoined, sessionProtocols } from './reattach';

export interface TerminalOptions {
  cluster: string;
  namespace: string;
  pod: string;
  /** All containers of the pod, for the picker; looked up when empty. */
  containers: string[];
  container?: string;
  mode: 'exec' | 'attach';
}

export type TermPhase = 'connecting' | 'connected' | 'reconnecting' | 'exited' | 'error';

export interface TermState {
  phase: TermPhase;
  message: string;
  advice?: string;
}

/** One session: its URL and kubelantern.session entry stay the same across reattaches. */
interface Live {
  id: string;
  path: string;
  command: string[];
  candidate: number; // which SHELL_CANDIDATES entry (exec while detecting)
  detecting: boolean;
  output: boolean; // it wrote something (so its shell exists)
}

/** Reattaching after a drop: since when, how often tried. */
interface Rejoin {
  live: Live;
  since: number;
  attempt: number;
  timer: ReturnType<typeof setTimeout> | null;
  code: number;
}

export class TerminalController {
  readonly host: HTMLDivElement;
  readonly term: Terminal;
  private fit = new FitAddon();
  container: string;
  mode: 'exec' | 'attach';
  state: TermState = { phase: 'connecting', message: 'connecting…' };
  /** The command that worked last (shell detection result), reused on reconnect. */
  private command: string[] | null = null;
  private ws: WebSocket | null = null;
  private rejoin: Rejoin | null = null;
  private opened = false;
  private listeners = new Set<() => void>();
  private ro: ResizeObserver;
  private disposed = false;
  private enc = new TextEncoder();

  private ready: Promise<void>;

  constructor(readonly opts: TerminalOptions) {
    this.container = opts.container ?? opts.containers[0] ?? '';
    this.ready = opts.containers.length ? Promise.resolve() : this.lookup();
    this.mode = opts.mode;
    this.host = document.createElement('div');
    this.host.className = 'kl-term-host';
    this.term = new Terminal({
      cursorBlink: true,
      scrollback: 10_000,
      fontFamily: 'ui-monospace, SFMono-Regular, Menlo, Consolas, "DejaVu Sans Mono", monospace',
      fontSize: 13,
      theme: { background: '#111418', foreground: '#e6e6e6' },
    });
    this.term.loadAddon(this.fit);
    this.term.onData((d) => this.input(d));
    this.term.onBinary((d) => {
      const bytes = new Uint8Array(d.length);
      for (let i = 0; i < d.length; i++) bytes[i] = d.charCodeAt(i) & 255;
      this.send(frame(STDIN, bytes));
    });
    this.term.onResize(({ cols, rows }) => this.send(resizeFrame(cols, rows)));
    this.term.attachCustomKeyEventHandler((ev) => this.keys(ev));
    this.ro = new ResizeObserver(() => this.refit());
    this.ro.observe(this.host);
    // Leaving the page ends the session (1000) rather than leaving it kept for a reattach
    // that will never come (a reload opens new sessions).
    window.addEventListener('pagehide', this.leave);
  }

  private leave = (): void => {
    if (!this.ws && !this.rejoin) return;
    this.cancelRejoin();
    this.closeSocket();
    // Should the page come back from the back/forward cache, it says what happened.
    this.setState({ phase: 'exited', message: 'the session ended when the page was left', advice: 'Press Enter to reconnect.' });
  };

  subscribe(fn: () => void): () => void {
    this.listeners.add(fn);
    return () => this.listeners.delete(fn);
  }
  private setState(s: TermState): void {
    this.state = s;
    this.listeners.forEach((f) => f());
  }

  /** Puts the terminal into `el` (first time: opens xterm and connects). */
  mount(el: HTMLElement): void {
    el.appendChild(this.host);
    if (!this.opened) {
      this.opened = true;
      this.term.open(this.host);
      this.refit();
      void this.ready.then(() => this.connect(0));
    } else this.refit();
    this.term.focus();
  }

  /** The pod's containers (the caller gave none): fills the picker, picks the first. */
  private async lookup(): Promise<void> {
    this.setState({ phase: 'connecting', message: `looking up pod ${this.opts.pod}…` });
    try {
      const pod = await clusterJson<KubeObject>(this.opts.cluster, podPath(this.opts.namespace, this.opts.pod));
      this.opts.containers = shellContainers(podRefOf(pod));
      if (!this.container || !this.opts.containers.includes(this.container)) this.container = this.opts.containers[0] ?? '';
    } catch (e) {
      // Connect anyway with what we have: the stream's own error will say what is wrong.
      this.term.write(`\x1b[2m[could not look up the pod's containers: ${errorText(e)}]\x1b[0m\r\n`);
    }
  }

  refit(): void {
    if (!this.host.isConnected || this.host.clientWidth === 0 || this.host.clientHeight === 0) return;
    try {
      this.fit.fit();
    } catch {
      /* not rendered yet */
    }
  }

  focus(): void {
    this.term.focus();
  }

  /** Switch container or mode: a new session. */
  restart(container: string, mode: 'exec' | 'attach'): void {
    this.container = container;
    this.mode = mode;
    this.command = null;
    this.closeSocket();
    this.term.reset();
    this.connect(0);
  }

  /** The Reconnect button (or Enter after an end): while reattaching, try now; else a new session. */
  reconnect(): void {
    const r = this.rejoin;
    if (r && !this.ws) {
      if (r.timer) clearTimeout(r.timer);
      r.timer = null;
      r.attempt = 0;
      this.dial(r.live, true);
      return;
    }
    this.cancelRejoin();
    this.closeSocket();
    this.term.write('\r\n');
    this.connect(0);
  }

  dispose(): void {
    this.disposed = true;
    window.removeEventListener('pagehide', this.leave);
    this.cancelRejoin();
    this.closeSocket();
    this.ro.disconnect();
    this.term.dispose();
    this.host.remove();
    this.listeners.clear();
  }

  private closeSocket(): void {
    const ws = this.ws;
    this.ws = null;
    if (!ws) return;
    ws.onopen = ws.onmessage = ws.onclose = ws.onerror = null;
    if (ws.readyState === WebSocket.OPEN && ws.protocol === 'v5.channel.k8s.io') ws.send(CLOSE_STDIN);
    ws.close(1000);
  }

  private send(data: Uint8Array<ArrayBuffer>): void {
    if (this.ws && this.ws.readyState === WebSocket.OPEN) this.ws.send(data);
  }

  private input(d: string): void {
    if (this.state.phase === 'exited' || this.state.phase === 'error') {
      if (d.includes('\r')) this.reconnect();
      return;
    }
    this.send(frame(STDIN, this.enc.encode(d)));
  }

  private keys(ev: KeyboardEvent): boolean {
    if (ev.type !== 'keydown') return true;
    const key = ev.key.toLowerCase();
    // Copy: Ctrl+Shift+C always, Ctrl+C only when text is selected (otherwise it is SIGINT).
    if (ev.ctrlKey && key === 'c' && (ev.shiftKey || this.term.hasSelection())) {
      const sel = this.term.getSelection();
      if (sel) void navigator.clipboard?.writeText(sel).catch(() => undefined);
      if (!ev.shiftKey) this.term.clearSelection();
      ev.preventDefault();
      return false;
    }
    // Ctrl+Shift+V: leave it to the browser's paste, which xterm receives as a paste event.
    if (ev.ctrlKey && ev.shiftKey && key === 'v') return false;
    return true;
  }

  /** A new session (new entry): the first shell candidate, the next one, or a mode switch. */
  private connect(candidate: number): void {
    if (this.disposed) return;
    this.cancelRejoin();
    const { namespace, pod } = this.opts;
    const detecting = this.mode === 'exec' && this.command === null;
    const command = this.mode === 'attach' ? [] : (this.command ?? SHELL_CANDIDATES[candidate]);
    const path = streamPath(this.mode, namespace, pod, this.container, command);
    this.setState({ phase: 'connecting', message: `connecting to ${pod}/${this.container}…` });
    this.dial({ id: newSessionId(), path, command, candidate, detecting, output: false }, false);
  }

  /**
   * One WebSocket of session `live`: a new session, or (`rejoin`) the same URL and entry again
   * after a drop, which kubelantern answers with the kept session (or a new one if it is gone).
   */
  private dial(live: Live, rejoin: boolean): void {
    const { cluster, pod } = this.opts;
    let ws: WebSocket;
    try {
      ws = new WebSocket(clusterWsUrl(cluster, live.path), sessionProtocols(EXEC_PROTOCOLS, live.id));
    } catch (e) {
      this.setState({ phase: 'error', message: String(e) });
      return;
    }
    ws.binaryType = 'arraybuffer';
    this.ws = ws;
    let open = false;
    let first = rejoin;
    let status = '';
    const dec = new TextDecoder();
    const where = `${this.mode} ${pod}/${this.container}`;
    ws.onopen = () => {
      open = true;
      if (rejoin) this.rejoin = null;
      this.setState({ phase: 'connected', message: `${rejoin ? 'reconnected' : 'connected'}: ${where} (${ws.protocol})` });
      this.refit();
      this.send(resizeFrame(this.term.cols, this.term.rows));
    };
    ws.onmessage = (ev: MessageEvent) => {
      if (typeof ev.data === 'string') return; // v4/v5 are binary-only
      let data = new Uint8Array(ev.data as ArrayBuffer);
      if (first) {
        first = false;
        const r = rejoined(data);
        if (r.kind === 'new-session') this.notice('new-session', where);
        else if (r.kind === 'lost') {
          this.notice('lost', where, r.bytes);
          data = data.subarray(0, 1); // the notice is shown in our words, not twice
        }
      }
      if (data.length < 2) return; // the empty "connected" frame
      const ch = data[0];
      if (ch === STDOUT || ch === STDERR) {
        live.output = true;
        this.term.write(data.subarray(1));
      } else if (ch === ERROR) status += dec.decode(data.subarray(1), { stream: true });
    };
    ws.onclose = (ev: CloseEvent) => {
      if (this.ws !== ws) return;
      this.ws = null;
      if (!open) {
        if (rejoin) this.nextRejoin(live);
        else void this.failedUpgrade(live.path);
        return;
      }
      if (isDrop(ev.code) && !status) {
        // Lost, not ended: kubelantern keeps the process for its grace period.
        if (live.detecting && live.output) this.command = live.command;
        this.startRejoin(live, ev.code);
        return;
      }
      this.ended(live, outcome(status, ev.code, ev.reason));
    };
  }

  private ended(live: Live, out: Outcome): void {
    const { pod } = this.opts;
    if (out.kind === 'not-found' && live.detecting && !live.output && live.candidate + 1 < SHELL_CANDIDATES.length) {
      this.connect(live.candidate + 1);
      return;
    }
    if (out.kind !== 'not-found' && live.detecting && live.output) this.command = live.command;
    let message: string;
    let advice = 'Press Enter to reconnect.';
    if (out.kind === 'exit') message = `process exited with code ${out.code}`;
    else if (out.kind === 'not-found' && live.detecting) {
      message = `this image has no shell (${out.message})`;
      advice = `Try attach, or an ephemeral debug container: kubectl debug -it ${pod} --image=busybox --target=${this.container}. Press Enter to retry.`;
    } else message = out.message;
    this.term.write(`\r\n\x1b[2m[${message}. ${advice}]\x1b[0m\r\n`);
    this.setState({ phase: 'exited', message, advice });
  }

  // ---- reattaching after a drop (the screen stays as it was)

  private startRejoin(live: Live, code: number): void {
    this.rejoin = { live, since: Date.now(), attempt: 0, timer: null, code };
    this.nextRejoin(live);
  }

  private nextRejoin(live: Live): void {
    const r = this.rejoin;
    if (!r || r.live !== live || this.disposed) return;
    const grace = config.sessionGrace ?? DEFAULT_GRACE_S;
    const left = rejoinDeadline(r.since, grace) - Date.now();
    if (left <= 0) {
      this.rejoin = null;
      const message = `could not reconnect within ${Math.round(grace)} s: the session is gone`;
      const advice = 'Press Reconnect (or Enter) to start a new session.';
      this.term.write(`\r\n\x1b[33m[kubelantern: ${message}. ${advice}]\x1b[0m\r\n`);
      this.setState({ phase: 'error', message, advice });
      return;
    }
    const delay = Math.min(reattachDelay(r.attempt++), left);
    this.setState({
      phase: 'reconnecting',
      message: 'reconnecting…',
      advice: `connection lost (code ${r.code}); attempt ${r.attempt}, the session is kept for ${Math.round(grace)} s`,
    });
    r.timer = setTimeout(() => {
      r.timer = null;
      if (this.rejoin === r && !this.disposed) this.dial(live, true);
    }, delay);
  }

  private cancelRejoin(): void {
    if (this.rejoin?.timer) clearTimeout(this.rejoin.timer);
    this.rejoin = null;
  }

  /** Says in the terminal what happened while it was away. */
  private notice(kind: 'new-session' | 'lost', where: string, bytes = 0): void {
    const text =
      kind === 'lost'
        ? `[kubelantern: ${bytes} bytes of output were lost while disconnected]`
        : this.mode === 'exec'
          ? '[kubelantern: the old session had ended (its process is gone); this is a NEW session]'
          : '[kubelantern: reattached as a new attach; output while disconnected was not kept]';
    this.term.write(`\r\n\x1b[33m${text}\x1b[0m\r\n`);
    const note = kind === 'lost' ? `${bytes.toLocaleString('en')} bytes of output were lost` : 'new session: the old one had ended';
    this.setState({ ...this.state, message: `reconnected: ${where} — ${note}` });
  }

  private async failedUpgrade(path: string): Promise<void> {
    const f = await probe(this.opts.cluster, path);
    if (this.disposed) return;
    const advice = `${f.advice} Press Enter to retry.`.trim();
    this.term.write(`\r\n\x1b[31m[${f.message}]\x1b[0m\r\n\x1b[2m[${advice}]\x1b[0m\r\n`);
    this.setState({ phase: 'error', message: f.message, advice });
  }
}
