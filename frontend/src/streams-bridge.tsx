// Integration point with the log viewer / terminal / dock module (frontend/src/streams/, H6).
//
// Expected exports of frontend/src/streams/index.ts:
//   openLogs(opts: { cluster: string; namespace: string; pod?: string; container?: string;
//                    pods?: string[]; selector?: string; title?: string; previous?: boolean }): void
//   openTerminal(opts: { cluster: string; namespace: string; pod: string; container?: string }): void
//   Dock: preact component rendering the panes (fixed at the bottom of the window).
//   closeTopPane?(): boolean   — Esc closes the focused/last pane; true if one was closed.
//
// import.meta.glob keeps the app building while that module does not exist yet.
import type { ComponentType } from 'preact';

export interface LogsOptions {
  cluster: string;
  namespace: string;
  pod?: string;
  container?: string;
  /** Workload logs: all pods matching the selector (stern-like). */
  pods?: string[];
  selector?: string;
  title?: string;
  previous?: boolean;
}

export interface TerminalOptions {
  cluster: string;
  namespace: string;
  pod: string;
  container?: string;
}

interface StreamsModule {
  openLogs?: (o: LogsOptions) => void;
  openTerminal?: (o: TerminalOptions) => void;
  Dock?: ComponentType;
  closeTopPane?: () => boolean;
}

const found = import.meta.glob<StreamsModule>('./streams/index.ts', { eager: true });
const mod: StreamsModule = Object.values(found)[0] ?? {};

export const streamsAvailable = typeof mod.openLogs === 'function';

export function openLogs(o: LogsOptions): void {
  if (mod.openLogs) mod.openLogs(o);
  else console.warn('log viewer not available in this build');
}

export function openTerminal(o: TerminalOptions): void {
  if (mod.openTerminal) mod.openTerminal(o);
  else console.warn('terminal not available in this build');
}

export function closeTopPane(): boolean {
  return mod.closeTopPane ? mod.closeTopPane() : false;
}

export function DockSlot() {
  const D = mod.Dock;
  return D ? <D /> : null;
}
