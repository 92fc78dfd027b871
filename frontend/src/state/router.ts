// The router: /c/<cluster>/<kind>/<namespace>/<name> over the history API.
import { canonicalKindId } from '../kinds';
import { Value } from './value';

export type Route =
  | { page: 'home' }
  | { page: 'portforwards' }
  | { page: 'recordings' }
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
  if (parts[0] === 'recordings' && parts.length === 1) return { page: 'recordings' };
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
export function recordingsUrl(): string {
  return `${base}/recordings`;
}

export const route = new Value<Route>(parseRoute(location.pathname));

export function navigate(url: string, replace = false): void {
  if (url === location.pathname + location.search) return;
  if (replace) history.replaceState(null, '', url);
  else history.pushState(null, '', url);
  route.set(parseRoute(location.pathname));
  window.scrollTo(0, 0);
}

export function initRouter(): void {
  window.addEventListener('popstate', () => route.set(parseRoute(location.pathname)));
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
