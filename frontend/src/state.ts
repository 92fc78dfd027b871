// App state: tiny observable values, the router (history API), clusters, namespaces, theme,
// discovered kinds and the shared list caches that lists, details and search read from.
import { useEffect, useState } from 'preact/hooks';
import { apiJson, clusterJson, errorText, watchList, type KubeList, type KubeObject } from './api/client';
import { BUILTIN_KINDS, collectionPath, crdKind, type KindDef } from './kinds';

export class Value<T> {
  private subs = new Set<(v: T) => void>();
  constructor(private v: T) {}
  get value(): T {
    return this.v;
  }
  set(v: T): void {
    if (Object.is(v, this.v)) return;
    this.v = v;
    this.subs.forEach((f) => f(v));
  }
  subscribe(f: (v: T) => void): () => void {
    this.subs.add(f);
    return () => this.subs.delete(f);
  }
}

export function useValue<T>(v: Value<T>): T {
  const [, force] = useState(0);
  useEffect(() => v.subscribe(() => force((n) => n + 1)), [v]);
  return v.value;
}

// ------------------------------------------------------------------ routing

export type Route =
  | { page: 'home' }
  | { page: 'portforwards' }
  | { page: 'list'; cluster: string; kind: string }
  | { page: 'detail'; cluster: string; kind: string; namespace: string | null; name: string }
  | { page: 'notfound'; path: string };

/** `_` stands for "no namespace" in detail URLs of cluster-scoped objects. */
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
    if (parts.length === 3) return { page: 'list', cluster, kind: parts[2] };
    if (parts.length === 5) return { page: 'detail', cluster, kind: parts[2], namespace: parts[3] === NO_NS ? null : parts[3], name: parts[4] };
  }
  return { page: 'notfound', path: pathname };
}

const enc = encodeURIComponent;
export function listUrl(cluster: string, kind: string): string {
  return `${base}/c/${enc(cluster)}/${enc(kind)}`;
}
export function detailUrl(cluster: string, kind: string, namespace: string | null | undefined, name: string): string {
  return `${base}/c/${enc(cluster)}/${enc(kind)}/${enc(namespace || NO_NS)}/${enc(name)}`;
}
export function homeUrl(): string {
  return `${base}/`;
}
export function portForwardsUrl(): string {
  return `${base}/portforwards`;
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

// ------------------------------------------------------------------ clusters

export interface ClusterInfo {
  name: string;
  server: string;
  namespace?: string | null;
  profile: string;
  profileSource?: string;
  strategy?: string;
  strategySource?: string;
  state: 'ok' | 'unreachable' | 'unauthorized' | 'error' | 'unknown';
  error?: string | null;
  version?: string | null;
  auth?: 'kubeconfig' | 'login' | 'none' | 'user';
  loggedIn?: boolean;
}

export const clusters = new Value<ClusterInfo[] | null>(null);
export const clustersError = new Value<string>('');

export async function refreshClusters(): Promise<void> {
  try {
    clusters.set(await apiJson<ClusterInfo[]>('/api/clusters'));
    clustersError.set('');
  } catch (e) {
    clustersError.set(errorText(e));
  }
}

export function needsLogin(c: ClusterInfo | undefined): boolean {
  return !!c && (c.auth === 'none' || c.auth === 'login') && !c.loggedIn;
}

// ------------------------------------------------------------------ namespace filter (per cluster)

const NS_KEY = 'kubelantern.namespace.';
export const namespaceFilter = new Value<{ cluster: string; ns: string | null }>({ cluster: '', ns: null });

export function namespaceFor(cluster: string): string | null {
  if (namespaceFilter.value.cluster === cluster) return namespaceFilter.value.ns;
  const saved = localStorage.getItem(NS_KEY + cluster);
  return saved ? saved : null;
}

export function setNamespace(cluster: string, ns: string | null): void {
  if (ns) localStorage.setItem(NS_KEY + cluster, ns);
  else localStorage.removeItem(NS_KEY + cluster);
  namespaceFilter.set({ cluster, ns });
}

// ------------------------------------------------------------------ theme

export type Theme = 'light' | 'dark' | 'system';
const THEME_KEY = 'kubelantern.theme';
export const theme = new Value<Theme>((localStorage.getItem(THEME_KEY) as Theme) || 'system');

export function effectiveTheme(t: Theme = theme.value): 'light' | 'dark' {
  if (t !== 'system') return t;
  return matchMedia('(prefers-color-scheme: dark)').matches ? 'dark' : 'light';
}

export function applyTheme(): void {
  document.documentElement.dataset.theme = effectiveTheme();
}

export function toggleTheme(): void {
  const next = effectiveTheme() === 'dark' ? 'light' : 'dark';
  localStorage.setItem(THEME_KEY, next);
  theme.set(next);
  applyTheme();
}

export function followSystemTheme(): void {
  localStorage.removeItem(THEME_KEY);
  theme.set('system');
  applyTheme();
}

export function initTheme(): void {
  applyTheme();
  matchMedia('(prefers-color-scheme: dark)').addEventListener('change', applyTheme);
}

// ------------------------------------------------------------------ kinds (builtin + CRDs)

export const crdKinds = new Value<{ cluster: string; kinds: KindDef[]; loaded: boolean }>({ cluster: '', kinds: [], loaded: false });

export async function loadCrds(cluster: string): Promise<void> {
  if (crdKinds.value.cluster === cluster) return;
  crdKinds.set({ cluster, kinds: [], loaded: false });
  try {
    const list = await clusterJson<KubeList>(cluster, '/apis/apiextensions.k8s.io/v1/customresourcedefinitions');
    const kinds = list.items.map(crdKind).filter((k): k is KindDef => !!k);
    kinds.sort((a, b) => a.label.localeCompare(b.label));
    if (crdKinds.value.cluster === cluster) crdKinds.set({ cluster, kinds, loaded: true });
  } catch {
    // No permission to list CRDs (or no such API): the sidebar shows the built-in kinds only.
    if (crdKinds.value.cluster === cluster) crdKinds.set({ cluster, kinds: [], loaded: true });
  }
}

export function kindById(cluster: string, id: string): KindDef | undefined {
  return BUILTIN_KINDS.find((k) => k.id === id) ?? (crdKinds.value.cluster === cluster ? crdKinds.value.kinds.find((k) => k.id === id) : undefined);
}

/** True once the kind is known or discovery finished without it. */
export function kindSettled(cluster: string, id: string): boolean {
  return !!kindById(cluster, id) || (crdKinds.value.cluster === cluster && crdKinds.value.loaded);
}

// ------------------------------------------------------------------ shared list caches

export interface ListState {
  items: KubeObject[];
  loaded: boolean;
  error: string;
  live: 'listing' | 'live' | 'retrying';
}

const keyOf = (o: KubeObject) => `${o.metadata.namespace ?? ''}/${o.metadata.name}`;

/**
 * One collection, shared by every view that needs it. Browsers allow only ~6 HTTP/1.1
 * connections per host and each watch holds one open, so only views that need live rows
 * ("live" users: the list on screen, the object on a detail page) get a watch; helpers
 * (related objects, events, the namespace picker) refresh by listing every few seconds, and an
 * unused collection stops talking to the cluster but keeps its rows for global search.
 */
export class ListCache {
  readonly state: Value<ListState> = new Value<ListState>({ items: [], loaded: false, error: '', live: 'listing' });
  private map = new Map<string, KubeObject>();
  private stopWatch: (() => void) | null = null;
  private pollTimer: ReturnType<typeof setInterval> | null = null;
  private pending = false;
  private lastList = 0;
  refs = 0;
  liveRefs = 0;
  lastUsed = Date.now();

  constructor(
    readonly cluster: string,
    readonly kind: KindDef,
    readonly namespace: string | null,
  ) {}

  /** Starts or stops the watch / the polling to match who uses the cache now. */
  update(): void {
    if (this.liveRefs > 0) {
      this.stopPolling();
      if (!this.stopWatch) this.startWatch();
      return;
    }
    if (this.stopWatch) {
      this.stopWatch();
      this.stopWatch = null;
    }
    if (this.refs > 0) {
      if (!this.pollTimer) {
        if (Date.now() - this.lastList > POLL_MS / 2) void this.poll();
        this.pollTimer = setInterval(() => void this.poll(), POLL_MS);
      }
    } else {
      this.stopPolling();
    }
  }

  private stopPolling(): void {
    if (this.pollTimer) clearInterval(this.pollTimer);
    this.pollTimer = null;
  }

  private startWatch(): void {
    this.stopWatch = watchList(this.cluster, collectionPath(this.kind, this.namespace), {
      onList: (items) => {
        this.lastList = Date.now();
        this.map = new Map(items.map((o) => [keyOf(o), o]));
        this.flush(true);
      },
      onEvent: (ev) => {
        const k = keyOf(ev.object);
        if (ev.type === 'DELETED') this.map.delete(k);
        else this.map.set(k, ev.object);
        this.schedule();
      },
      onError: (e) => this.state.set({ ...this.state.value, error: errorText(e) }),
      onState: (live) => this.state.set({ ...this.state.value, live, ...(live === 'live' ? { error: '' } : {}) }),
    });
  }

  private async poll(): Promise<void> {
    try {
      const data = await clusterJson<KubeList>(this.cluster, collectionPath(this.kind, this.namespace));
      this.lastList = Date.now();
      this.map = new Map((data.items ?? []).map((o) => [keyOf(o), o]));
      this.flush(true);
    } catch (e) {
      this.state.set({ ...this.state.value, error: errorText(e), loaded: this.state.value.loaded });
    }
  }

  /** Watch bursts are folded into one render per animation frame. */
  private schedule(): void {
    if (this.pending) return;
    this.pending = true;
    requestAnimationFrame(() => this.flush(false));
  }

  private flush(fromList: boolean): void {
    this.pending = false;
    this.state.set({ ...this.state.value, items: [...this.map.values()], loaded: true, ...(fromList ? { error: '' } : {}) });
  }

  get(namespace: string | null | undefined, name: string): KubeObject | undefined {
    return this.map.get(`${namespace ?? ''}/${name}`);
  }

  dispose(): void {
    this.stopWatch?.();
    this.stopWatch = null;
    this.stopPolling();
  }
}

const POLL_MS = 10_000;
const caches = new Map<string, ListCache>();
const MAX_IDLE_CACHES = 24;

export function acquireList(cluster: string, kind: KindDef, namespace: string | null, live = true): ListCache {
  const ns = kind.namespaced ? namespace : null;
  const key = `${cluster}\n${kind.id}\n${ns ?? ''}`;
  let c = caches.get(key);
  if (!c) {
    c = new ListCache(cluster, kind, ns);
    caches.set(key, c);
  }
  c.refs++;
  if (live) c.liveRefs++;
  c.lastUsed = Date.now();
  c.update();
  return c;
}

export function releaseList(c: ListCache, live = true): void {
  c.refs--;
  if (live) c.liveRefs--;
  c.lastUsed = Date.now();
  c.update();
  // Unused caches keep their rows (search, back-navigation) but the oldest are dropped.
  const idle = [...caches.entries()].filter(([, x]) => x.refs <= 0).sort((a, b) => a[1].lastUsed - b[1].lastUsed);
  while (idle.length > MAX_IDLE_CACHES) {
    const [key, x] = idle.shift()!;
    x.dispose();
    caches.delete(key);
  }
}

const SEARCHED_KINDS = ['pods', 'deployments', 'statefulsets', 'daemonsets', 'jobs', 'cronjobs', 'services', 'ingresses', 'configmaps', 'secrets', 'persistentvolumeclaims', 'nodes', 'namespaces'];

/** Global search: list the common kinds once (no watch) so search covers more than what was opened. */
export function warmSearch(cluster: string, namespace: string | null): void {
  for (const id of SEARCHED_KINDS) {
    const kind = BUILTIN_KINDS.find((k) => k.id === id);
    if (!kind) continue;
    const c = acquireList(cluster, kind, namespace, false);
    setTimeout(() => releaseList(c, false), 1000);
  }
}

export function loadedCaches(cluster: string): ListCache[] {
  return [...caches.values()].filter((c) => c.cluster === cluster);
}

export function dropClusterCaches(cluster: string): void {
  for (const [key, c] of caches) {
    if (c.cluster === cluster) {
      c.dispose();
      caches.delete(key);
    }
  }
}

/**
 * Subscribes a component to a collection. `live`: a watch (rows change as they happen);
 * otherwise a list refreshed every few seconds.
 */
export function useList(
  cluster: string | null,
  kind: KindDef | undefined,
  namespace: string | null,
  live = true,
): ListState & { cache: ListCache | null } {
  const [cache, setCache] = useState<ListCache | null>(null);
  const [, force] = useState(0);
  useEffect(() => {
    if (!cluster || !kind) {
      setCache(null);
      return;
    }
    const c = acquireList(cluster, kind, namespace, live);
    setCache(c);
    const unsub = c.state.subscribe(() => force((n) => n + 1));
    return () => {
      unsub();
      releaseList(c, live);
    };
  }, [cluster, kind?.id, namespace, live]);
  const st = cache?.state.value ?? { items: [], loaded: false, error: '', live: 'listing' as const };
  return { ...st, cache };
}

// ------------------------------------------------------------------ ticking clock for ages

export const now = new Value<number>(Date.now());
setInterval(() => now.set(Date.now()), 1000);

// ------------------------------------------------------------------ toasts

export interface Toast {
  id: number;
  text: string;
  tone: 'ok' | 'bad' | 'info';
}
export const toasts = new Value<Toast[]>([]);
let toastId = 0;
export function toast(text: string, tone: Toast['tone'] = 'info'): void {
  const t = { id: ++toastId, text, tone };
  toasts.set([...toasts.value, t]);
  setTimeout(() => toasts.set(toasts.value.filter((x) => x.id !== t.id)), tone === 'bad' ? 9000 : 4000);
}

// ------------------------------------------------------------------ SelfSubjectAccessReview

const accessCache = new Map<string, Promise<boolean>>();

/** Can the current user do `verb` on the resource? Unknown (review not possible) counts as yes. */
export function canI(
  cluster: string,
  attrs: { verb: string; group: string; resource: string; namespace?: string | null; name?: string; subresource?: string },
): Promise<boolean> {
  const key = `${cluster}|${attrs.verb}|${attrs.group}|${attrs.resource}|${attrs.subresource ?? ''}|${attrs.namespace ?? ''}|${attrs.name ?? ''}`;
  let p = accessCache.get(key);
  if (!p) {
    p = clusterJson<any>(cluster, '/apis/authorization.k8s.io/v1/selfsubjectaccessreviews', {
      method: 'POST',
      headers: { 'Content-Type': 'application/json' },
      body: JSON.stringify({
        apiVersion: 'authorization.k8s.io/v1',
        kind: 'SelfSubjectAccessReview',
        spec: { resourceAttributes: { ...attrs, namespace: attrs.namespace ?? undefined } },
      }),
    })
      .then((r) => r?.status?.allowed !== false)
      .catch(() => true);
    accessCache.set(key, p);
  }
  return p;
}

export function clearAccessCache(): void {
  accessCache.clear();
}
