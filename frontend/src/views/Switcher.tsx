// Ctrl+K (⌘K): the cluster switcher. Fuzzy filter by name or group, arrows and Enter, Escape;
// it opens the same page on the chosen cluster where that makes sense (the same kind, the same
// object by namespace and name), else the cluster's overview.
import { useEffect, useRef, useState } from 'preact/hooks';
import { ClusterDot } from '../clusterchip';
import { onEscape } from '../keys';
import { type ClusterInfo, clusters } from '../state/clusters';
import { clusterScore, favourites } from '../state/fleet';
import { type Route, detailUrl, listUrl, navigate, route } from '../state/router';
import { Value, useValue } from '../state/value';
import { ClusterBadge } from './Home';

export const switcherOpen = new Value(false);

/** Pure: the URL of `r`'s page on cluster `next`. */
export function samePageOn(r: Route, next: string): string {
  if (r.page === 'list') return listUrl(next, r.kind);
  if (r.page === 'detail') return detailUrl(next, r.kind, r.namespace, r.name);
  return listUrl(next, 'overview');
}

/** Pure: the clusters matching `query`, best first (favourites first among equals). */
export function switcherMatches(list: ClusterInfo[], query: string, favs: Set<string>): ClusterInfo[] {
  return list
    .map((c) => ({ c, score: clusterScore(query, c) }))
    .filter((x): x is { c: ClusterInfo; score: number } => x.score !== null)
    .sort((a, b) => a.score - b.score || Number(favs.has(b.c.name)) - Number(favs.has(a.c.name)) || a.c.name.localeCompare(b.c.name))
    .map((x) => x.c);
}

/** Ctrl+K / ⌘K anywhere but in a terminal or editor (a shell's Ctrl+K kills the line). */
export function initSwitcherKey(): () => void {
  const onKey = (e: KeyboardEvent) => {
    if (!(e.ctrlKey || e.metaKey) || e.altKey || e.shiftKey || e.key.toLowerCase() !== 'k') return;
    if ((e.target as HTMLElement | null)?.closest?.('.xterm, .cm-editor')) return;
    e.preventDefault();
    switcherOpen.set(!switcherOpen.value);
  };
  window.addEventListener('keydown', onKey);
  return () => window.removeEventListener('keydown', onKey);
}

export function Switcher() {
  const list = useValue(clusters) ?? [];
  const favs = useValue(favourites);
  const [query, setQuery] = useState('');
  const [at, setAt] = useState(0);
  const input = useRef<HTMLInputElement>(null);
  const current = 'cluster' in route.value ? route.value.cluster : null;
  const shown = switcherMatches(list, query, favs);
  const sel = Math.min(at, Math.max(0, shown.length - 1));

  useEffect(() => {
    input.current?.focus();
    return onEscape(() => {
      switcherOpen.set(false);
      return true;
    });
  }, []);

  const go = (c: ClusterInfo | undefined) => {
    if (!c) return;
    switcherOpen.set(false);
    navigate(samePageOn(route.value, c.name));
  };

  return (
    <div class="overlay" onClick={() => switcherOpen.set(false)}>
      <div class="dialog switcher" role="dialog" aria-label="Switch cluster" onClick={(e) => e.stopPropagation()}>
        <input
          ref={input}
          class="switcher-input"
          aria-label="Cluster name or group"
          placeholder="Switch to cluster… (name or group)"
          value={query}
          onInput={(e) => {
            setQuery((e.target as HTMLInputElement).value);
            setAt(0);
          }}
          onKeyDown={(e) => {
            if (e.key === 'ArrowDown') setAt(Math.min(sel + 1, shown.length - 1));
            else if (e.key === 'ArrowUp') setAt(Math.max(sel - 1, 0));
            else if (e.key === 'Enter') go(shown[sel]);
            else return;
            e.preventDefault();
          }}
        />
        <ul class="switcher-list" role="listbox">
          {shown.map((c, i) => (
            <li
              role="option"
              aria-selected={i === sel}
              class={`switcher-item${i === sel ? ' selected' : ''}`}
              data-cluster={c.name}
              onMouseEnter={() => setAt(i)}
              onClick={() => go(c)}
              ref={(el) => {
                if (el && i === sel) el.scrollIntoView({ block: 'nearest' });
              }}
            >
              <ClusterDot name={c.name} />
              <span class="switcher-name">{favs.has(c.name) ? '★ ' : ''}{c.name}</span>
              {c.group && <span class="muted small">{c.group}</span>}
              {c.name === current && <span class="muted small">(current)</span>}
              <span class="spacer" />
              <ClusterBadge c={c} />
            </li>
          ))}
          {!shown.length && <li class="muted switcher-none">No cluster matches “{query}”.</li>}
        </ul>
      </div>
    </div>
  );
}
