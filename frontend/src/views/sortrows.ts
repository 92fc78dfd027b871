// Sorting the rows of a list page. A big list arrives in pages (10 for 50,000 pods) and the
// rows on screen were sorted again after each page and after each burst of watch events: a
// main-thread stall each time (measured by bench/ui50k.py). When few objects changed since the
// last sort (a page appended, pods added, deleted or modified), only those are sorted and
// merged into the sorted rows; the rest keep their place.
import type { KubeObject } from '../api/client';
import type { Column } from '../kinds';

// One collator for every comparison: `localeCompare(…, { numeric: true })` sets one up per
// call, which made sorting 50,000 rows take seconds (17 s vs 0.3 s in V8, measured).
const numeric = new Intl.Collator(undefined, { numeric: true });
const plain = new Intl.Collator();

const MAX_KEY_AGE_MS = 60_000;

type Keyed = readonly [string | number, KubeObject];

/** What a sort was computed from: the merge applies only if everything but the items is equal. */
export interface Sorted {
  items: KubeObject[];
  col: Column;
  dir: 1 | -1;
  filter: string;
  /** The clock the keys were computed with (ages): merged keys use the same one. */
  t0: number;
  keyed: Keyed[];
  rows: KubeObject[];
}

function compare(dir: 1 | -1): (a: Keyed, b: Keyed) => number {
  return (a, b) => {
    const [x, y] = [a[0], b[0]];
    const c = typeof x === 'number' && typeof y === 'number' ? x - y : numeric.compare(String(x), String(y));
    return c !== 0 ? c * dir : plain.compare(a[1].metadata.name, b[1].metadata.name);
  };
}

/** Pure: `items` extend `prev` by appended items (same objects, same order, more of them). */
export function isAppend(prev: KubeObject[], items: KubeObject[]): boolean {
  if (items.length <= prev.length || prev.length === 0) return false;
  for (let i = 0; i < prev.length; i++) if (items[i] !== prev[i]) return false;
  return true;
}

/**
 * Pure: what changed between two snapshots of a list, by object identity (a watch event
 * replaces the object: a modified pod is one removed and one added), or null when so much
 * changed that sorting everything is as cheap.
 */
export function changes(prev: KubeObject[], items: KubeObject[]): { added: KubeObject[]; removed: Set<KubeObject> } | null {
  if (isAppend(prev, items)) return { added: items.slice(prev.length), removed: new Set() };
  const before = new Set(prev);
  const added = items.filter((o) => !before.has(o));
  const now = new Set(items);
  const removed = new Set(prev.filter((o) => !now.has(o)));
  return added.length + removed.size > items.length / 4 ? null : { added, removed };
}

/**
 * Pure: merges two sorted runs (stable: `a` first on ties). A few items into many (a watch
 * event into 50,000 rows) are placed by binary search: the long run is copied, not compared.
 */
export function mergeSorted<T>(a: T[], b: T[], cmp: (x: T, y: T) => number): T[] {
  const out: T[] = [];
  let i = 0;
  if (b.length * 16 < a.length) {
    for (const x of b) {
      // First position in a[i..] whose element sorts after x (ties: a first).
      let lo = i;
      let hi = a.length;
      while (lo < hi) {
        const mid = (lo + hi) >>> 1;
        if (cmp(x, a[mid]) < 0) hi = mid;
        else lo = mid + 1;
      }
      for (; i < lo; i++) out.push(a[i]);
      out.push(x);
    }
    for (; i < a.length; i++) out.push(a[i]);
    return out;
  }
  let j = 0;
  while (i < a.length && j < b.length) out.push(cmp(b[j], a[i]) < 0 ? b[j++] : a[i++]);
  while (i < a.length) out.push(a[i++]);
  while (j < b.length) out.push(b[j++]);
  return out;
}

/**
 * The rows in order: `items` matching `match`, by `col` then name. With `prev` from the same
 * column, direction and filter and few objects changed since, sorts only the changed ones.
 */
export function sortRows(
  prev: Sorted | null,
  items: KubeObject[],
  col: Column,
  dir: 1 | -1,
  filter: string,
  match: ((o: KubeObject) => boolean) | null,
): Sorted {
  const cmp = compare(dir);
  // Keys of time-dependent columns (ages) are from one clock: a merge reuses it, for a while.
  const same = !!prev && prev.col === col && prev.dir === dir && prev.filter === filter && Date.now() - prev.t0 < MAX_KEY_AGE_MS;
  const delta = same && prev.items.length ? changes(prev.items, items) : null;
  const t0 = delta && prev ? prev.t0 : Date.now();
  const key = (list: KubeObject[]): Keyed[] => (match ? list.filter(match) : list).map((o) => [col.value(o, t0), o] as const);
  let keyed: Keyed[];
  if (delta && prev) {
    const kept = delta.removed.size ? prev.keyed.filter((k) => !delta.removed.has(k[1])) : prev.keyed;
    keyed = mergeSorted(kept, key(delta.added).sort(cmp), cmp);
  } else {
    keyed = key(items).sort(cmp);
  }
  return { items, col, dir, filter, t0, keyed, rows: keyed.map((k) => k[1]) };
}
