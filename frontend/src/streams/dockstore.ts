// The dock's state: open panes (log viewers and terminals), the active one, size. A tiny
// observable store so openLogs/openTerminal can be called from anywhere (not only components).

import { chunkErrorText, once } from '../lazy';
import { LogController, type LogsOptions } from './logcontroller';
import type { StreamQuery } from './logstream';
import type { TerminalController, TerminalOptions } from './terminal';

export type Pane =
  | { id: number; kind: 'logs'; title: string; ctl: LogController }
  | { id: number; kind: 'terminal'; title: string; ctl: TerminalSlot };

// xterm.js is a chunk of its own, fetched when the first terminal opens.
const loadTerminal = once(() => import('./terminal'));

/** A terminal pane's session: the TerminalController once xterm.js has loaded. */
export class TerminalSlot {
  ctl: TerminalController | null = null;
  error = '';
  private disposed = false;
  private listeners = new Set<() => void>();

  constructor(readonly opts: TerminalOptions) {
    loadTerminal().then(
      (m) => {
        if (this.disposed) return;
        this.ctl = new m.TerminalController(opts);
        this.changed();
      },
      (e: unknown) => {
        this.error = chunkErrorText('terminal', e);
        this.changed();
      },
    );
  }

  subscribe(fn: () => void): () => void {
    this.listeners.add(fn);
    return () => this.listeners.delete(fn);
  }
  private changed(): void {
    this.listeners.forEach((f) => f());
  }

  dispose(): void {
    this.disposed = true;
    this.ctl?.dispose();
    this.listeners.clear();
  }
}

export interface DockState {
  panes: Pane[];
  active: number | null;
  minimized: boolean;
  maximized: boolean;
  height: number; // px when neither minimized nor maximized
}

const HEIGHT_KEY = 'kubelantern.dock.height';

function savedHeight(): number {
  const v = Number(globalThis.localStorage?.getItem(HEIGHT_KEY));
  return Number.isFinite(v) && v >= 120 ? v : 360;
}

let state: DockState = { panes: [], active: null, minimized: false, maximized: false, height: savedHeight() };
const listeners = new Set<() => void>();
let nextId = 1;

export function dockState(): DockState {
  return state;
}

export function subscribeDock(fn: () => void): () => void {
  listeners.add(fn);
  return () => listeners.delete(fn);
}

function set(patch: Partial<DockState>): void {
  state = { ...state, ...patch };
  if (patch.height !== undefined) globalThis.localStorage?.setItem(HEIGHT_KEY, String(Math.round(patch.height)));
  listeners.forEach((f) => f());
}

export function addLogs(opts: LogsOptions, initial: Partial<StreamQuery> = {}): { id: number; ctl: LogController } {
  const id = nextId++;
  const ctl = new LogController(opts, initial);
  set({ panes: [...state.panes, { id, kind: 'logs', title: opts.title, ctl }], active: id, minimized: false });
  return { id, ctl };
}

export function addTerminal(opts: TerminalOptions): number {
  const id = nextId++;
  const c = opts.container ?? opts.containers[0] ?? '';
  const title = `${opts.mode === 'attach' ? 'attach' : 'shell'}: ${opts.pod}${opts.containers.length > 1 ? `/${c}` : ''}`;
  const pane: Pane = { id, kind: 'terminal', title, ctl: new TerminalSlot(opts) };
  set({ panes: [...state.panes, pane], active: id, minimized: false });
  return id;
}

export function activate(id: number): void {
  set({ active: id, minimized: false });
}

export function closePane(id: number): void {
  const pane = state.panes.find((p) => p.id === id);
  if (!pane) return;
  pane.ctl.dispose();
  const i = state.panes.indexOf(pane);
  const panes = state.panes.filter((p) => p.id !== id);
  const active = state.active === id ? (panes[Math.min(i, panes.length - 1)]?.id ?? null) : state.active;
  set({ panes, active, maximized: panes.length ? state.maximized : false });
}

export function closeAll(): void {
  for (const p of state.panes) p.ctl.dispose();
  set({ panes: [], active: null, maximized: false });
}

export function setMinimized(minimized: boolean): void {
  set({ minimized });
}

export function setMaximized(maximized: boolean): void {
  set({ maximized, minimized: false });
}

export function setHeight(height: number): void {
  set({ height });
}
