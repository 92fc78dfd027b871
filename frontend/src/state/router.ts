// The router: /c/<cluster>/<kind>/<namespace>/<name> over the history API.
import { canonicalKindId } from '../kinds';
import { Value } from './value';

export type Route =
  | { page: 'home' }
  | { page: 'portforwards' }
  | { page: 'list'; cluster: string; kind: string }
  | { page: 'detail'; cluster: string; kind: string; namespace: string | null; name: string }
  | { page: 'notfound'; path: string };

/** `_` stood for "no namespace" in detail URLs of cluster-scoped objects (still accepted). */
export const NO_NS = '_';

let base = '';
export function setRouteBase(b: string): void {
  base = b;
}

export function parseRoute(pathname: string): Route {
  let p = pathname;
  if (base && p.startsWith(base)) p = p.slice(base.length);
  const parts = p.split('/').filter(Boolean).map((s) => {
    try {
      return decodeURIComponent(s);
    } catch {
      return s;
    }
  });
  if (parts.length === 0) return { page: 'home' };
  if (parts[0] === 'portforwards' && parts.length === 1) return { page: 'portforwards' };
  if (parts[0] === 'c' && parts.length >= 2) {
    const cluster = parts[1];
    if (parts.length === 2) return { page: 'list', cluster, kind: 'overview' };
    const kind = parts.length >= 3 ? canonicalKindId(parts[2]) : '';
    if (parts.length === 3) return { page: 'list', cluster, kind };
    // Cluster-scoped objects: /c/<cluster>/<kind>/<name> (the old `_` placeholder still works).
    if (parts.length === 4) return { page: 'detail', cluster, kind, namespace: null, name: parts[3] };
    if (parts.length === 5) return { page: 'detail', cluster, kind, namespace: parts[3] === NO_NS ? null : parts[3], name: parts[4] };
  }
  return { page: 'notfound', path: pathname };
}

const enc = encodeURIComponent;
export function listUrl(cluster: string, kind: string): string {
  return `${base}/c/${enc(cluster)}/${enc(kind)}`;
}
export function detailUrl(cluster: string, kind: string, namespace: string | null | undefined, name: string): string {
  if (!namespace) return `${base}/c/${enc(cluster)}/${enc(kind)}/${enc(name)}`;
  return `${base}/c/${enc(cluster)}/${enc(kind)}/${enc(namespace)}/${enc(name)}`;
}
export function homeUrl(): string {
  return `${base}/`;
}
export function portForwardsUrl(): string {
  return `${base}/portforwards`;
}

export const route = new Value<Route>(parseRoute(location.pathname));

/**
 * Views with unsaved work (the YAML editor) register a guard: it returns the question to ask
 * before leaving, or null. In-app navigation asks it (confirm), the browser asks before a
 * reload or closing the tab (beforeunload).
 */
const guards = new Set<() => string | null>();

export function guardLeaving(question: () => string | null): () => void {
  guards.add(question);
  return () => guards.delete(question);
}

/** True when nothing is unsaved, or the user agreed to drop it. */
export function mayLeave(): boolean {
  for (const g of guards) {
    const q = g();
    if (q && !window.confirm(q)) return false;
  }
  return true;
}

export function navigate(url: string, replace = false): void {
  if (url === location.pathname + location.search) return;
  if (!mayLeave()) return;
  if (replace) history.replaceState(null, '', url);
  else history.pushState(null, '', url);
  route.set(parseRoute(location.pathname));
  window.scrollTo(0, 0);
}

export function initRouter(): void {
  let here = location.pathname + location.search + location.hash;
  window.addEventListener('popstate', () => {
    // Back/forward cannot be cancelled: when the user keeps their edits, step back to where they were.
    if (!mayLeave()) {
      history.pushState(null, '', here);
      return;
    }
    route.set(parseRoute(location.pathname));
  });
  route.subscribe(() => {
    here = location.pathname + location.search + location.hash;
  });
  window.addEventListener('beforeunload', (e) => {
    for (const g of guards) {
      if (g()) {
        e.preventDefault();
        e.returnValue = '';
        return;
      }
    }
  });
  // Same-origin <a href> clicks become history navigation; modified clicks keep their meaning.
  document.addEventListener('click', (e) => {
    if (e.defaultPrevented || e.button !== 0 || e.metaKey || e.ctrlKey || e.shiftKey || e.altKey) return;
    const a = (e.target as Element | null)?.closest?.('a');
    if (!a || a.target || a.hasAttribute('download')) return;
    const href = a.getAttribute('href');
    if (!href || !href.startsWith('/')) return;
    e.preventDefault();
    navigate(href);
  });
}
