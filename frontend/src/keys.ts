// Keyboard shortcuts. Global moves live here; views register handlers for the keys that act on
// what they show (j/k rows, l logs, x exec) and for Esc (innermost first).
import { Value } from './state/value';

export const SHORTCUTS: [string, string][] = [
  ['Ctrl+K', 'Switch cluster (same page on the other cluster)'],
  ['/', 'Search by name'],
  ['g o', 'Go to the cluster overview'],
  ['g p', 'Go to pods'],
  ['g d', 'Go to deployments'],
  ['g s', 'Go to services'],
  ['g n', 'Go to nodes'],
  ['g e', 'Go to events'],
  ['g c', 'Go to clusters'],
  ['j / k', 'Next / previous row'],
  ['Enter', 'Open the selected row'],
  ['l', 'Logs of the selected pod'],
  ['x', 'Shell in the selected pod'],
  ['t', 'Toggle dark / light theme'],
  ['?', 'This help'],
  ['Esc', 'Close dialog, pane or search'],
];

export const helpOpen = new Value(false);

type Handler = (e: KeyboardEvent) => boolean;
const handlers: Handler[] = [];
const escHandlers: (() => boolean)[] = [];

/** A view's key handler; returns true when it used the key. Later registrations win. */
export function onKey(h: Handler): () => void {
  handlers.push(h);
  return () => {
    const i = handlers.indexOf(h);
    if (i >= 0) handlers.splice(i, 1);
  };
}

/** Esc closes the most recently opened thing first. */
export function onEscape(h: () => boolean): () => void {
  escHandlers.push(h);
  return () => {
    const i = escHandlers.indexOf(h);
    if (i >= 0) escHandlers.splice(i, 1);
  };
}

function typing(t: EventTarget | null): boolean {
  const el = t as HTMLElement | null;
  if (!el) return false;
  if (el.isContentEditable) return true;
  if (el.closest?.('.xterm, .cm-editor')) return true;
  return /^(INPUT|TEXTAREA|SELECT)$/.test(el.tagName);
}

export function initKeys(actions: { go: (kind: string) => void; home: () => void; search: () => void; theme: () => void }): void {
  let pendingG = 0;
  window.addEventListener('keydown', (e) => {
    if (e.key === 'Escape') {
      if ((e.target as HTMLElement | null)?.closest?.('.xterm')) return;
      if (helpOpen.value) {
        helpOpen.set(false);
        e.preventDefault();
        return;
      }
      for (let i = escHandlers.length - 1; i >= 0; i--) {
        if (escHandlers[i]()) {
          e.preventDefault();
          return;
        }
      }
      // Esc leaves a form field; terminals and editors keep their Esc (vi, less, search).
      const el = e.target as HTMLElement | null;
      if (el && /^(INPUT|TEXTAREA|SELECT)$/.test(el.tagName)) el.blur();
      return;
    }
    if (e.ctrlKey || e.metaKey || e.altKey || typing(e.target)) return;
    if (pendingG && Date.now() - pendingG < 1200) {
      pendingG = 0;
      const map: Record<string, string> = { o: 'overview', p: 'pods', d: 'deployments', s: 'services', n: 'nodes', e: 'events', c: '' };
      if (e.key in map) {
        e.preventDefault();
        if (map[e.key]) actions.go(map[e.key]);
        else actions.home();
      }
      return;
    }
    if (e.key === 'g') {
      pendingG = Date.now();
      return;
    }
    if (e.key === '/') {
      e.preventDefault();
      actions.search();
      return;
    }
    if (e.key === '?') {
      helpOpen.set(!helpOpen.value);
      return;
    }
    if (e.key === 't') {
      actions.theme();
      return;
    }
    for (let i = handlers.length - 1; i >= 0; i--) {
      if (handlers[i](e)) {
        e.preventDefault();
        return;
      }
    }
  });
}
