// The one place that knows how the SPA reaches kubelantern and, through it, the clusters.
// Stable interface shared with frontend/src/streams (H6): apiFetch, clusterPath, clusterWsUrl,
// watchList, ApiError, errorText, loadConfig/config.

export interface LanternConfig {
  baseUrl: string;
  version: string;
  localMode: boolean;
  features: Record<string, unknown>;
  /** The built-in demo clusters are served (--demo, or no kubeconfig). */
  demo?: boolean;
  /** Team mode's sign-in ("oidc"), or null (local mode). */
  signIn: string | null;
  /** Seconds a dropped terminal session is kept for a reattach (`--session-grace`). */
  sessionGrace: number | null;
}

export let config: LanternConfig = { baseUrl: '', version: '', localMode: true, features: {}, signIn: null, sessionGrace: null };

/** Who is signed in (team mode), from /api/me. */
export interface Me {
  signedIn: boolean;
  name?: string;
  email?: string | null;
  login?: string;
}

/** The sign-in page, coming back to where the user is now. */
export function signInUrl(): string {
  const back = location.pathname + location.search;
  return `${config.baseUrl}/oidc/login?return_to=${encodeURIComponent(back)}`;
}

/** kubelantern's own 401 for a missing or expired team-mode session. */
export function isSignInError(err: ApiError): boolean {
  return err.status === 401 && err.source === 'lantern' && config.signIn !== null && /sign in at/i.test(err.message);
}

/** Reads /api/config once at start; the base URL prefixes every later request. */
export async function loadConfig(): Promise<LanternConfig> {
  // The app is served at <base>/…; the config endpoint sits next to it. Try the prefix the
  // server put on our own script first (works under --base-url), then the root.
  const guess = basePrefixFromScript();
  const res = await fetch(`${guess}/api/config`, { credentials: 'same-origin' });
  if (!res.ok) throw await ApiError.from(res, null);
  const data = (await res.json()) as Partial<LanternConfig>;
  config = {
    baseUrl: (data.baseUrl ?? guess).replace(/\/+$/, ''),
    version: data.version ?? '',
    localMode: data.localMode ?? true,
    features: data.features ?? {},
    signIn: data.signIn ?? null,
    sessionGrace: typeof data.sessionGrace === 'number' ? data.sessionGrace : null,
  };
  return config;
}

function basePrefixFromScript(): string {
  const el = document.querySelector('script[type="module"][src]') as HTMLScriptElement | null;
  if (!el) return '';
  const path = new URL(el.src, location.href).pathname;
  const i = path.indexOf('/assets/');
  return i > 0 ? path.slice(0, i) : '';
}

/** A URL path on the kubelantern server (adds --base-url). */
export function lanternPath(path: string): string {
  return config.baseUrl + (path.startsWith('/') ? path : `/${path}`);
}

/** `/clusters/<percent-encoded name>/<k8s API path>` (with the base URL). */
export function clusterPath(cluster: string, path: string): string {
  return lanternPath(`/clusters/${encodeURIComponent(cluster)}${path.startsWith('/') ? path : `/${path}`}`);
}

/** A pod's API path, or one of its subresources (`log`, `exec`, `attach`…) with a query. */
export function podPath(namespace: string, pod?: string, sub?: string, query?: URLSearchParams | Record<string, string>): string {
  let p = `/api/v1/namespaces/${encodeURIComponent(namespace)}/pods`;
  if (pod !== undefined) p += `/${encodeURIComponent(pod)}`;
  if (sub) p += `/${sub}`;
  const q = query ? new URLSearchParams(query).toString() : '';
  return q ? `${p}?${q}` : p;
}

/** ws(s):// URL for a cluster API path (exec, attach, portforward, log streams). */
export function clusterWsUrl(cluster: string, path: string): string {
  const proto = location.protocol === 'https:' ? 'wss:' : 'ws:';
  return `${proto}//${location.host}${clusterPath(cluster, path)}`;
}

/** Where an error came from decides what the user is told. */
export type ErrorSource = 'lantern' | 'cluster' | 'network';

export class ApiError extends Error {
  constructor(
    readonly status: number,
    message: string,
    readonly source: ErrorSource,
    readonly cluster: string | null,
    readonly reason: string = '',
    readonly body: unknown = null,
  ) {
    super(message);
    this.name = 'ApiError';
  }

  /** Builds an error from a non-2xx response, keeping the upstream's own words. */
  static async from(res: Response, cluster: string | null): Promise<ApiError> {
    const { body, message, reason } = parseErrorBody(await res.text().catch(() => ''));
    const source: ErrorSource = isLanternAnswer(res, message) ? 'lantern' : 'cluster';
    return new ApiError(res.status, message || `${res.status} ${res.statusText}`, source, cluster, reason, body);
  }
}

/** Pure: the words in an error body (a metav1.Status, kubelantern's JSON, or plain text). */
export function parseErrorBody(text: string): { body: unknown; message: string; reason: string } {
  let body: unknown;
  try {
    body = JSON.parse(text);
  } catch {
    body = text;
  }
  if (body && typeof body === 'object') {
    const b = body as Record<string, unknown>;
    return { body, message: String(b.message ?? b.error ?? b.detail ?? ''), reason: String(b.reason ?? '') };
  }
  return { body, message: typeof body === 'string' ? body.trim().slice(0, 500) : '', reason: '' };
}

/**
 * Did kubelantern itself answer (rather than a cluster through it)? Everything outside
 * /clusters/ is kubelantern's own API; under /clusters/ its own answers (launch token,
 * Host/Origin checks, unknown cluster) are told apart by their wording, or by an
 * X-Kubelantern-Error header should the server add one.
 */
export function isLanternAnswer(res: Response, message: string): boolean {
  return (
    res.headers.get('X-Kubelantern-Error') !== null ||
    !new URL(res.url, location.href).pathname.startsWith(`${config.baseUrl}/clusters/`) ||
    /launch token|X-Kubelantern-Token|Origin .* is not allowed: kubelantern|DNS rebinding protection|unknown cluster/i.test(message)
  );
}

/** Human sentence for an error, saying who refused and what to do. */
export function errorText(err: unknown): string {
  if (err instanceof ApiError) {
    const who = err.cluster ? `cluster ${err.cluster}` : 'kubelantern';
    if (err.source === 'network') return `Cannot reach kubelantern: ${err.message}. Is \`kubelantern serve\` still running?`;
    if (isLaunchTokenError(err)) return 'kubelantern needs its launch token: open the URL printed in the terminal (…/?token=…).';
    if (err.source === 'lantern' && err.status !== 403) return err.message;
    if (err.source === 'lantern' && err.status === 403)
      return `kubelantern refused the request (${err.message}). The Host or Origin check failed — open kubelantern through the address it printed.`;
    if (err.status === 401) return `The ${who} refused the credentials (401): ${err.message}`;
    if (err.status === 403) {
      if (/origin not allowed/i.test(err.message))
        return `The ${who} answered 403 "origin not allowed" — Rancher refuses browser WebSockets from another origin; run \`kubelantern doctor ${err.cluster ?? ''}\`.`;
      return `Forbidden (403) by ${who}: ${err.message}`;
    }
    if (err.status === 404) return `Not found (404) on ${who}: ${err.message}`;
    if (err.status === 409) return `Conflict (409): ${err.message}`;
    if (err.status === 502 || err.status === 503 || err.status === 504)
      return `The ${who} is unreachable (${err.status}): ${err.message}`;
    return `${err.status} from ${who}: ${err.message}`;
  }
  if (err instanceof Error) return err.message;
  return String(err);
}

/** kubelantern's own 401 for a missing/wrong launch token (not a cluster's or a login's 401). */
export function isLaunchTokenError(err: ApiError): boolean {
  return err.status === 401 && err.source === 'lantern' && /launch token|X-Kubelantern-Token/i.test(err.message);
}

/** Listeners told when kubelantern itself answers 401 (launch token missing). */
const unauthorizedListeners = new Set<() => void>();
export function onLanternUnauthorized(fn: () => void): () => void {
  unauthorizedListeners.add(fn);
  return () => unauthorizedListeners.delete(fn);
}

export interface FetchOptions extends RequestInit {
  /** Cluster name for error messages (set automatically by clusterFetch). */
  cluster?: string | null;
}

/** fetch with same-origin credentials, a JSON-friendly Accept and ApiError on failure. */
export async function apiFetch(path: string, opts: FetchOptions = {}): Promise<Response> {
  const { cluster = null, ...init } = opts;
  const headers = new Headers(init.headers);
  if (!headers.has('Accept')) headers.set('Accept', 'application/json');
  let res: Response;
  try {
    res = await fetch(path, { credentials: 'same-origin', ...init, headers });
  } catch (e) {
    if (e instanceof DOMException && e.name === 'AbortError') throw e;
    throw new ApiError(0, e instanceof Error ? e.message : String(e), 'network', cluster);
  }
  if (!res.ok) {
    const err = await ApiError.from(res, cluster);
    if (isLaunchTokenError(err)) unauthorizedListeners.forEach((f) => f());
    // The session ended (expired, signed out elsewhere): sign in again, then come back.
    if (isSignInError(err)) location.assign(signInUrl());
    throw err;
  }
  return res;
}

/** JSON GET/POST etc. on a kubelantern path (`/api/...`). */
export async function apiJson<T>(path: string, opts: FetchOptions = {}): Promise<T> {
  const res = await apiFetch(lanternPath(path), opts);
  if (res.status === 204) return undefined as T;
  return (await res.json()) as T;
}

/** JSON request to a cluster's API path. */
export async function clusterJson<T>(cluster: string, path: string, opts: FetchOptions = {}): Promise<T> {
  const res = await apiFetch(clusterPath(cluster, path), { ...opts, cluster });
  return (await res.json()) as T;
}

// ---------------------------------------------------------------- list + watch

export interface KubeObject {
  apiVersion?: string;
  kind?: string;
  metadata: {
    name: string;
    namespace?: string;
    uid?: string;
    resourceVersion?: string;
    creationTimestamp?: string;
    labels?: Record<string, string>;
    annotations?: Record<string, string>;
    ownerReferences?: { apiVersion: string; kind: string; name: string; uid: string; controller?: boolean }[];
    deletionTimestamp?: string;
    [k: string]: unknown;
  };
  [k: string]: any;
}

export interface KubeList<T = KubeObject> {
  kind?: string;
  apiVersion?: string;
  metadata: { resourceVersion?: string; continue?: string };
  items: T[];
}

export interface WatchEvent<T = KubeObject> {
  type: 'ADDED' | 'MODIFIED' | 'DELETED' | 'BOOKMARK' | 'ERROR';
  object: T;
}

export interface WatchHandlers<T = KubeObject> {
  /** Full state after a (re)list: replaces everything the caller holds. */
  onList(items: T[]): void;
  /**
   * The pages listed so far while a paged list goes on (first page first, so a big list
   * shows rows at once); `onList` still follows with everything. `remaining` is the
   * server's estimate, when it gives one.
   */
  onPartial?(itemsSoFar: T[], remaining: number | null): void;
  /** One change from the watch stream. */
  onEvent(ev: WatchEvent<T>): void;
  /** A list or watch failure (the watcher keeps retrying with back-off). */
  onError?(err: unknown): void;
  /** Connection state for the UI: 'live' after the watch stream opened; 'polling' while
   * over the stream budget (see below). */
  onState?(state: WatchState): void;
}

export type WatchState = 'listing' | 'live' | 'polling' | 'retrying';

/**
 * A browser gives a page 6 HTTP/1.1 connections per host, and a watch holds one for minutes.
 * With six watches open (a list, a detail page, workload log panes), every other request — the
 * terminal's lazily loaded chunk, a GET, /api/clusters — queued until a watch ended (issue 11
 * defect 9: "loading the terminal…" for ~14 s and more). So at most STREAM_BUDGET watches
 * stream at once; the others list every OVER_BUDGET_POLL_MS until a stream slot frees.
 */
export const STREAM_BUDGET = 4;
const OVER_BUDGET_POLL_MS = 5000;
let streamsOpen = 0;
const slotWaiters = new Set<() => void>();

function takeStreamSlot(): boolean {
  if (streamsOpen >= STREAM_BUDGET) return false;
  streamsOpen++;
  return true;
}

function giveStreamSlot(): void {
  streamsOpen--;
  const next = slotWaiters.values().next();
  if (!next.done) {
    slotWaiters.delete(next.value);
    next.value();
  }
}

/** How many watches hold a connection now (for tests and the budget's own checks). */
export function openStreams(): number {
  return streamsOpen;
}

/**
 * Page sizes of a list: [first, later]. `localStorage['kubelantern.listPaging'] = 'off'`
 * lists in one request (the benchmark's baseline).
 */
export function listPageSizes(): [number, number] {
  let off = false;
  try {
    off = localStorage.getItem('kubelantern.listPaging') === 'off';
  } catch {
    // storage blocked: paging stays on
  }
  return off ? [0, 0] : [500, 5000];
}

/**
 * Lists `path` (a collection URL like `/api/v1/namespaces/x/pods`) and then watches it as a
 * Kubernetes client does: resume from the last resourceVersion after a dropped stream, relist
 * on 410 Gone or an ERROR event. Returns a stop function.
 */
export function watchList<T extends KubeObject = KubeObject>(
  cluster: string,
  path: string,
  handlers: WatchHandlers<T>,
  opts: { query?: Record<string, string> } = {},
): () => void {
  const ctl = new AbortController();
  let stopped = false;
  let rv = '';
  let failures = 0;

  const qs = (extra: Record<string, string>) => {
    const p = new URLSearchParams({ ...(opts.query ?? {}), ...extra });
    return `${path}${path.includes('?') ? '&' : '?'}${p.toString()}`;
  };

  const sleep = (ms: number, orSlot = false) =>
    new Promise<void>((resolve) => {
      const done = () => {
        clearTimeout(t);
        slotWaiters.delete(done);
        resolve();
      };
      const t = setTimeout(done, ms);
      if (orSlot) slotWaiters.add(done);
      ctl.signal.addEventListener('abort', done);
    });

  async function list(): Promise<void> {
    handlers.onState?.('listing');
    // Paged like kubectl (`limit` + `continue`): the first page is small so rows show at
    // once, the rest come in bigger pages. Every page is from the first page's snapshot,
    // so the watch resumes from that resourceVersion and replays what changed meanwhile.
    // An expired continue token (410) fails the list, which is retried from the start.
    const [first, rest] = listPageSizes();
    let items: T[] = [];
    let cont = '';
    let limit = first;
    for (;;) {
      const data = await clusterJson<KubeList<T>>(
        cluster,
        qs(limit > 0 ? { limit: String(limit), ...(cont ? { continue: cont } : {}) } : {}),
        { signal: ctl.signal },
      );
      if (!cont) rv = data.metadata?.resourceVersion ?? '';
      items = items.length ? items.concat(data.items ?? []) : (data.items ?? []);
      cont = data.metadata?.continue ?? '';
      if (!cont || stopped) break;
      handlers.onPartial?.(items, (data.metadata as { remainingItemCount?: number }).remainingItemCount ?? null);
      limit = rest;
    }
    handlers.onList(items);
  }

  /** Returns 'relist' when the server says our resourceVersion is too old. */
  async function watchOnce(): Promise<'relist' | 'again'> {
    const url = clusterPath(
      cluster,
      qs({ watch: '1', resourceVersion: rv, allowWatchBookmarks: 'true', timeoutSeconds: String(240 + Math.floor(Math.random() * 60)) }),
    );
    let res: Response;
    try {
      res = await apiFetch(url, { signal: ctl.signal, cluster });
    } catch (e) {
      if (e instanceof ApiError && e.status === 410) return 'relist';
      throw e;
    }
    handlers.onState?.('live');
    failures = 0;
    const reader = res.body!.getReader();
    const dec = new TextDecoder();
    let buf = '';
    try {
      for (;;) {
        const { value, done } = await reader.read();
        if (done) break;
        buf += dec.decode(value, { stream: true });
        let nl: number;
        while ((nl = buf.indexOf('\n')) >= 0) {
          const line = buf.slice(0, nl).trim();
          buf = buf.slice(nl + 1);
          if (!line) continue;
          let ev: WatchEvent<T>;
          try {
            ev = JSON.parse(line) as WatchEvent<T>;
          } catch {
            continue;
          }
          // 410 Gone (our resourceVersion is too old) or any other ERROR: start over with a list.
          if (ev.type === 'ERROR') return 'relist';
          const newRv = ev.object?.metadata?.resourceVersion;
          if (newRv) rv = newRv;
          if (ev.type !== 'BOOKMARK') handlers.onEvent(ev);
        }
      }
    } finally {
      reader.releaseLock?.();
    }
    return 'again';
  }

  (async () => {
    let needList = true;
    while (!stopped) {
      try {
        if (needList) {
          await list();
          needList = false;
        }
        if (!takeStreamSlot()) {
          // Over budget: this collection is listed again after a while, or as soon as a
          // stream slot frees (then it watches from a fresh list).
          handlers.onState?.('polling');
          await sleep(OVER_BUDGET_POLL_MS, true);
          needList = true;
          continue;
        }
        const began = Date.now();
        let r: 'relist' | 'again';
        try {
          r = await watchOnce();
        } finally {
          giveStreamSlot();
        }
        if (r === 'relist') needList = true;
        // A stream that ends at once (a proxy closing it) must not turn into a request storm.
        if (Date.now() - began < 1000) await sleep(1000 + Math.random() * 1000);
      } catch (e) {
        if (stopped || (e instanceof DOMException && e.name === 'AbortError')) return;
        failures++;
        handlers.onError?.(e);
        handlers.onState?.('retrying');
        // Back off: 1 s, 2 s, 4 s … up to 30 s. A failed list is retried as a list.
        await sleep(Math.min(30000, 1000 * 2 ** Math.min(failures - 1, 5)));
      }
    }
  })();

  return () => {
    stopped = true;
    ctl.abort();
  };
}
