// The fleet home: every cluster from the kubeconfig(s) in one sortable, searchable table —
// state, version, profile, nodes ready, pods not ready, warnings, the WebSocket way learned —
// with favourites first and groups from the kubeconfig extension. The counts are asked only
// for rows on screen (state/fleet.ts: a few at a time, cached), so a hundred contexts do not
// mean a hundred clusters listed at once.
import { useEffect, useRef, useState } from 'preact/hooks';
import { ClusterDot } from '../clusterchip';
import { type ClusterInfo, clusters, clustersError, needsLogin, refreshClusters, sourcesText, stateLabel } from '../state/clusters';
import {
  type ClusterSummary,
  type SortKey,
  clusterScore,
  collapsedGroups,
  favourites,
  groupClusters,
  sortClusters,
  summaries,
  toggleFavourite,
  toggleGroup,
  unwantSummary,
  wantSummary,
} from '../state/fleet';
import { listUrl } from '../state/router';
import { useValue } from '../state/value';
import { statusTone } from '../format';
import { Icon } from '../icons';

export function ClusterBadge({ c }: { c: ClusterInfo }) {
  const label = stateLabel(c);
  return <span class={`badge tone-${needsLogin(c) ? 'warn' : c.state === 'ok' ? 'ok' : c.state === 'unknown' ? 'muted' : statusTone(c.state)}`}>{label}</span>;
}

const COLUMNS: [SortKey, string][] = [
  ['name', 'Cluster'],
  ['state', 'State'],
  ['version', 'Version'],
  ['profile', 'Profile'],
  ['nodes', 'Nodes ready'],
  ['pods', 'Pods not ready'],
  ['warnings', 'Warnings'],
  ['strategy', 'Connection'],
];

const NUMERIC = new Set<SortKey>(['nodes', 'pods', 'warnings']);

function matches(q: string, c: ClusterInfo): boolean {
  if (!q.trim()) return true;
  if (clusterScore(q, c) !== null) return true;
  const t = q.trim().toLowerCase();
  return [c.server, c.profile, c.version ?? '', stateLabel(c)].some((s) => s.toLowerCase().includes(t));
}

export function Home() {
  const list = useValue(clusters);
  const err = useValue(clustersError);
  const favs = useValue(favourites);
  const collapsed = useValue(collapsedGroups);
  const sums = useValue(summaries);
  const [query, setQuery] = useState('');
  const [sort, setSort] = useState<{ key: SortKey; desc: boolean }>({ key: 'name', desc: false });
  const body = useRef<HTMLTableSectionElement>(null);

  useEffect(() => {
    refreshClusters();
  }, []);

  // Counts only for rows on screen (and clusters that answered their probe).
  useEffect(() => {
    const el = body.current;
    if (!el || typeof IntersectionObserver === 'undefined') return;
    const seen = new IntersectionObserver((entries) => {
      for (const e of entries) {
        const name = (e.target as HTMLElement).dataset.cluster;
        if (!name) continue;
        if (e.isIntersecting) wantSummary(name);
        else unwantSummary(name);
      }
    });
    el.querySelectorAll<HTMLElement>('tr[data-counts]').forEach((row) => seen.observe(row));
    return () => seen.disconnect();
  });

  if (!list) return <div class="empty">{err ? <span class="error-text">{err}</span> : 'Loading clusters…'}</div>;
  if (!list.length) return <div class="empty big"><h2>No clusters</h2><p>kubelantern found no context in the kubeconfig. Pass <code>--kubeconfig</code> or run with <code>--demo</code>.</p></div>;

  const done = new Map<string, ClusterSummary>();
  for (const [k, v] of sums) if (typeof v === 'object') done.set(k, v);
  const shown = sortClusters(list.filter((c) => matches(query, c)), sort.key, sort.desc, favs, done);
  const grouped = list.some((c) => c.group);
  const groups = grouped ? groupClusters(shown) : [['', shown] as [string, ClusterInfo[]]];

  return (
    <div class="page fleet-page">
      <div class="page-head">
        <h1>Clusters</h1>
        <span class="muted" data-testid="cluster-sources">{sourcesText(list)}</span>
        <span class="spacer" />
        <label class="picker fleet-search">
          <Icon name="search" />
          <input type="search" aria-label="Filter clusters" placeholder="Filter by name, group, server…" value={query} onInput={(e) => setQuery((e.target as HTMLInputElement).value)} />
        </label>
        <button class="btn" onClick={() => refreshClusters()}><Icon name="refresh" /> Refresh</button>
      </div>
      {err && <div class="alert bad">{err}</div>}
      <table class="table fleet-table" data-testid="fleet-table">
        <thead>
          <tr>
            <th class="fav-col" aria-label="Favourite" />
            {COLUMNS.map(([key, label]) => (
              <th aria-sort={sort.key === key ? (sort.desc ? 'descending' : 'ascending') : 'none'} data-sort={key} class={NUMERIC.has(key) ? 'num' : undefined}>
                <button class="th-sort" onClick={() => setSort({ key, desc: sort.key === key ? !sort.desc : false })}>
                  {label}
                  {sort.key === key ? (sort.desc ? ' ▼' : ' ▲') : ''}
                </button>
              </th>
            ))}
          </tr>
        </thead>
        <tbody ref={body}>
          {groups.map(([group, rows]) => (
            <>
              {grouped && (
                <tr class="group-row" data-group={group}>
                  <th colSpan={COLUMNS.length + 1}>
                    <button class="group-toggle" aria-expanded={!collapsed.has(group)} onClick={() => toggleGroup(group)}>
                      {collapsed.has(group) ? '▸' : '▾'} {group} <span class="muted">({rows.length})</span>
                    </button>
                  </th>
                </tr>
              )}
              {!(grouped && collapsed.has(group)) && rows.map((c) => <Row c={c} fav={favs.has(c.name)} summary={sums.get(c.name)} />)}
            </>
          ))}
        </tbody>
      </table>
      {!shown.length && <div class="empty">No cluster matches “{query}”.</div>}
    </div>
  );
}

function count(s: ClusterSummary | 'loading' | string | undefined, c: ClusterInfo, pick: (s: ClusterSummary) => string | null): string {
  if (c.state !== 'ok' || needsLogin(c)) return '—';
  if (s === undefined || s === 'loading') return '…';
  if (typeof s === 'string') return '?';
  return pick(s) ?? '—';
}

function Row({ c, fav, summary }: { c: ClusterInfo; fav: boolean; summary: ClusterSummary | 'loading' | string | undefined }) {
  const s = typeof summary === 'object' ? summary : undefined;
  const notes = s?.notes.length ? s.notes.join('; ') : typeof summary === 'string' && summary !== 'loading' ? summary : undefined;
  const nodes = count(summary, c, (x) => (x.nodes === null ? null : `${x.nodesReady}/${x.nodes}`));
  const pods = count(summary, c, (x) => (x.podsNotReady === null ? null : `${x.podsNotReady}${x.complete ? '' : '+'}`));
  const warns = count(summary, c, (x) => (x.warnings === null ? null : String(x.warnings)));
  return (
    <tr class={`fleet-row state-${c.state}${fav ? ' fav' : ''}`} data-cluster={c.name} data-state={c.state} data-counts={c.state === 'ok' && !needsLogin(c) ? '' : undefined} title={notes}>
      <td class="fav-col">
        <button class={`star${fav ? ' on' : ''}`} aria-pressed={fav} aria-label={`${fav ? 'Unstar' : 'Star'} ${c.name}`} onClick={() => toggleFavourite(c.name)}>
          {fav ? '★' : '☆'}
        </button>
      </td>
      <td class="fleet-name">
        <ClusterDot name={c.name} />
        <a href={listUrl(c.name, 'overview')}>{c.name}</a>
        <div class="muted small mono ellipsis">{c.server}</div>
        {c.state !== 'ok' && c.state !== 'unknown' && c.error && <div class="error-text small cluster-error" title={c.error}>{c.error}</div>}
      </td>
      <td data-col="state" title={c.error ?? undefined}>
        <ClusterBadge c={c} />
      </td>
      <td data-col="version">{c.version ?? '—'}</td>
      <td data-col="profile">{c.profile}{c.profileSource === 'override' ? <span class="muted"> (set)</span> : null}</td>
      <td data-col="nodes" class="num">{nodes}</td>
      <td data-col="pods" class={`num${s?.podsNotReady ? ' tone-warn' : ''}`}>{pods}</td>
      <td data-col="warnings" class={`num${s?.warnings ? ' tone-warn' : ''}`}>{warns}</td>
      <td data-col="strategy" title={c.strategySource ? `learned from ${c.strategySource}` : undefined}>
        {c.strategy ?? '—'}{c.strategySource ? <span class="muted small"> ({c.strategySource})</span> : null}
      </td>
    </tr>
  );
}
