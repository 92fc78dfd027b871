// The fleet home's state: favourites and collapsed groups (kept in localStorage), the
// per-cluster summaries (asked lazily, a few at a time, cached), and the pure helpers the
// table and the Ctrl+K switcher share (fuzzy match, sort, grouping).
import { apiJson } from '../api/client';
import { type ClusterInfo, stateLabel } from './clusters';
import { Value } from './value';

export interface ClusterSummary {
  cluster: string;
  state: string;
  reason?: string | null;
  nodes: number | null;
  nodesReady: number | null;
  pods: number | null;
  podsNotReady: number | null;
  warnings: number | null;
  complete: boolean;
  notes: string[];
}

// -- favourites and collapsed groups -------------------------------------------------------

const FAV_KEY = 'kubelantern.favourites';
const COLLAPSED_KEY = 'kubelantern.collapsedGroups';

function readSet(key: string): Set<string> {
  try {
    const raw = JSON.parse(localStorage.getItem(key) ?? '[]');
    return new Set(Array.isArray(raw) ? raw.filter((x) => typeof x === 'string') : []);
  } catch {
    return new Set();
  }
}

export const favourites = new Value<Set<string>>(readSet(FAV_KEY));
export const collapsedGroups = new Value<Set<string>>(readSet(COLLAPSED_KEY));

function toggleIn(v: Value<Set<string>>, key: string, item: string): void {
  const next = new Set(v.value);
  if (next.has(item)) next.delete(item);
  else next.add(item);
  localStorage.setItem(key, JSON.stringify([...next]));
  v.set(next);
}

export const toggleFavourite = (name: string) => toggleIn(favourites, FAV_KEY, name);
export const toggleGroup = (group: string) => toggleIn(collapsedGroups, COLLAPSED_KEY, group);

// -- summaries: asked when a row is on screen, at most SUMMARIES_AT_ONCE requests in flight --

export const SUMMARIES_AT_ONCE = 4;
const TTL_MS = 30_000;
export const summaries = new Value<Map<string, ClusterSummary | 'loading' | string>>(new Map());
const fetchedAt = new Map<string, number>();
const queue: string[] = [];
let running = 0;

function put(name: string, v: ClusterSummary | 'loading' | string): void {
  const next = new Map(summaries.value);
  next.set(name, v);
  summaries.set(next);
}

/** Ask for `name`'s counts (no-op while fresh or queued). */
export function wantSummary(name: string): void {
  const at = fetchedAt.get(name);
  if (at !== undefined && Date.now() - at < TTL_MS) return;
  if (queue.includes(name) || summaries.value.get(name) === 'loading') return;
  queue.push(name);
  pump();
}

/** A row that scrolled away before its turn is not asked. */
export function unwantSummary(name: string): void {
  const i = queue.indexOf(name);
  if (i >= 0) queue.splice(i, 1);
}

function pump(): void {
  while (running < SUMMARIES_AT_ONCE && queue.length) {
    const name = queue.shift() as string;
    running++;
    put(name, 'loading');
    apiJson<ClusterSummary>(`/api/clusters/${encodeURIComponent(name)}/summary`)
      .then(
        (s) => put(name, s),
        (e) => put(name, String((e as Error)?.message ?? e)),
      )
      .finally(() => {
        fetchedAt.set(name, Date.now());
        running--;
        pump();
      });
  }
}

// -- pure helpers ---------------------------------------------------------------------------

/**
 * Fuzzy match of `query` in `text`: every query character in order. Lower scores are better:
 * a prefix or a run of consecutive characters beats scattered ones; null when it does not match.
 */
export function fuzzyScore(query: string, text: string): number | null {
  const q = query.toLowerCase().replace(/\s+/g, '');
  const t = text.toLowerCase();
  if (!q) return 0;
  const at = t.indexOf(q);
  if (at >= 0) return at === 0 ? 0 : 1 + at / 100;
  let score = 10;
  let last = -1;
  for (const ch of q) {
    const i = t.indexOf(ch, last + 1);
    if (i < 0) return null;
    score += i - last - 1;
    last = i;
  }
  return score;
}

/** The best score of a cluster's name and group (null: no match). */
export function clusterScore(query: string, c: ClusterInfo): number | null {
  const byName = fuzzyScore(query, c.name);
  const byGroup = c.group ? fuzzyScore(query, c.group) : null;
  if (byName === null) return byGroup === null ? null : byGroup + 0.5;
  return byGroup === null ? byName : Math.min(byName, byGroup + 0.5);
}

export type SortKey = 'name' | 'state' | 'version' | 'profile' | 'nodes' | 'pods' | 'warnings' | 'strategy';

function sortValue(c: ClusterInfo, key: SortKey, s: ClusterSummary | undefined): string | number | null {
  switch (key) {
    case 'name': return c.name.toLowerCase();
    case 'state': return stateLabel(c);
    case 'version': return c.version ?? null;
    case 'profile': return c.profile;
    case 'strategy': return c.strategy ?? null;
    case 'nodes': return s?.nodesReady ?? null;
    case 'pods': return s?.podsNotReady ?? null;
    case 'warnings': return s?.warnings ?? null;
  }
}

/** Rows sorted by `key` (unknown values last either way), favourites first. */
export function sortClusters(list: ClusterInfo[], key: SortKey, desc: boolean, favs: Set<string>, sums: Map<string, ClusterSummary>): ClusterInfo[] {
  return [...list].sort((a, b) => {
    const fa = favs.has(a.name) ? 0 : 1;
    const fb = favs.has(b.name) ? 0 : 1;
    if (fa !== fb) return fa - fb;
    const va = sortValue(a, key, sums.get(a.name));
    const vb = sortValue(b, key, sums.get(b.name));
    if (va === null || vb === null) {
      if (va !== vb) return va === null ? 1 : -1;
    } else if (va !== vb) {
      const cmp = typeof va === 'number' && typeof vb === 'number' ? va - vb : String(va).localeCompare(String(vb), undefined, { numeric: true });
      return desc ? -cmp : cmp;
    }
    return a.name.localeCompare(b.name);
  });
}

export const UNGROUPED = 'ungrouped';

/** Groups in name order, "ungrouped" last; the rows keep their order inside each group. */
export function groupClusters(list: ClusterInfo[]): [string, ClusterInfo[]][] {
  const groups = new Map<string, ClusterInfo[]>();
  for (const c of list) {
    const g = c.group || UNGROUPED;
    if (!groups.has(g)) groups.set(g, []);
    groups.get(g)?.push(c);
  }
  return [...groups.entries()].sort(([a], [b]) => (a === UNGROUPED ? 1 : b === UNGROUPED ? -1 : a.localeCompare(b)));
}
