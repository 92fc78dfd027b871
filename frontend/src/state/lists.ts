// The shared list caches that lists, details and search read from (watch or poll).
import { useEffect, useState } from 'preact/hooks';
import { clusterJson, errorText, watchList, type KubeList, type KubeObject, type WatchState } from '../api/client';
import { BUILTIN_KINDS, collectionPath, type KindDef } from '../kinds';
import { Value } from './value';

export interface ListState {
  items: KubeObject[];
  loaded: boolean;
  error: string;
  live: WatchState;
  /** Rows the server still has to send while a paged list goes on (0 when complete). */
  pending?: number;
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
      onPartial: (items, remaining) => {
        // A relist keeps showing the old rows until it has all of the new ones.
        if (this.state.value.loaded && !this.state.value.pending) return;
        this.map = new Map(items.map((o) => [keyOf(o), o]));
        this.flush(true, remaining ?? 1);
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

  private flush(fromList: boolean, pendingRows?: number): void {
    this.pending = false;
    const pending = fromList ? (pendingRows ?? 0) : this.state.value.pending;
    this.state.set({ ...this.state.value, items: [...this.map.values()], loaded: true, pending, ...(fromList ? { error: '' } : {}) });
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
