// The list of a kind without hand-made columns: the server prints it (Table output, as
// `kubectl get` shows it), paged with limit/continue and refreshed every few seconds.
import { useEffect, useMemo, useState } from 'preact/hooks';
import { clusterJson, errorText } from '../api/client';
import { ClusterChip } from '../clusterchip';
import { collectionPath, type KindDef } from '../kinds';
import { namespaceFilter, namespaceFor } from '../state/clusters';
import { detailUrl, navigate } from '../state/router';
import { useValue } from '../state/value';

const TABLE = 'application/json;as=Table;g=meta.k8s.io;v=v1,application/json';
const PAGE = 500;
const MAX_ROWS = 5000;
const REFRESH_MS = 10_000;

interface TableColumn {
  name: string;
  type: string;
  format?: string;
  priority?: number;
}
interface TableRow {
  cells: unknown[];
  object?: { metadata?: { name?: string; namespace?: string; uid?: string } };
}
interface Table {
  columnDefinitions: TableColumn[] | null;
  rows: TableRow[] | null;
  metadata?: { continue?: string };
}

async function fetchTable(cluster: string, kind: KindDef, ns: string | null): Promise<{ columns: TableColumn[]; rows: TableRow[]; capped: boolean }> {
  let columns: TableColumn[] = [];
  const rows: TableRow[] = [];
  let cont = '';
  do {
    const q = new URLSearchParams({ limit: String(PAGE), includeObject: 'Metadata' });
    if (cont) q.set('continue', cont);
    const t = await clusterJson<Table>(cluster, `${collectionPath(kind, ns)}?${q}`, { headers: { Accept: TABLE } });
    if (t.columnDefinitions?.length) columns = t.columnDefinitions;
    rows.push(...(t.rows ?? []));
    cont = t.metadata?.continue ?? '';
  } while (cont && rows.length < MAX_ROWS);
  return { columns, rows, capped: !!cont };
}

const cellText = (v: unknown): string => (v == null ? '' : typeof v === 'object' ? JSON.stringify(v) : String(v));

export function TableList({ cluster, kind }: { cluster: string; kind: KindDef }) {
  useValue(namespaceFilter);
  const ns = kind.namespaced ? namespaceFor(cluster) : null;
  const [data, setData] = useState<{ columns: TableColumn[]; rows: TableRow[]; capped: boolean } | null>(null);
  const [error, setError] = useState('');
  const [filter, setFilter] = useState('');
  const [sort, setSort] = useState<{ col: number; dir: 1 | -1 }>({ col: -1, dir: 1 });

  useEffect(() => {
    let alive = true;
    let timer = 0;
    const load = async () => {
      try {
        const d = await fetchTable(cluster, kind, ns);
        if (!alive) return;
        setData(d);
        setError('');
      } catch (e) {
        if (alive) setError(errorText(e));
      }
      if (alive) timer = window.setTimeout(load, REFRESH_MS);
    };
    setData(null);
    load();
    return () => {
      alive = false;
      clearTimeout(timer);
    };
  }, [cluster, kind.id, ns]);

  // kubectl's default columns (priority 0); `-o wide` ones stay in the YAML.
  const shown = useMemo(() => (data?.columns ?? []).map((c, i) => ({ c, i })).filter(({ c }) => !c.priority), [data]);
  const showNs = kind.namespaced && !ns;
  const rows = useMemo(() => {
    const words = filter.trim().toLowerCase().split(/\s+/).filter(Boolean);
    const list = (data?.rows ?? []).filter((r) => {
      const hay = `${r.object?.metadata?.namespace ?? ''} ${r.cells.map(cellText).join(' ')}`.toLowerCase();
      return words.every((w) => hay.includes(w));
    });
    if (sort.col >= 0) {
      list.sort((a, b) => {
        const [x, y] = [a.cells[sort.col], b.cells[sort.col]];
        const c = typeof x === 'number' && typeof y === 'number' ? x - y : cellText(x).localeCompare(cellText(y), undefined, { numeric: true });
        return c * sort.dir;
      });
    }
    return list;
  }, [data, filter, sort]);

  const grid = [...(showNs ? ['minmax(90px, 0.9fr)'] : []), ...shown.map(({ c }) => (c.format === 'name' ? 'minmax(180px, 2.4fr)' : 'minmax(80px, 1fr)'))].join(' ');
  const nameAt = (data?.columns ?? []).findIndex((c) => c.format === 'name');
  const href = (r: TableRow) => detailUrl(cluster, kind.id, r.object?.metadata?.namespace ?? null, r.object?.metadata?.name ?? cellText(r.cells[nameAt]));

  return (
    <div class="list-page" data-testid="table-list">
      <div class="page-head">
        <ClusterChip name={cluster} />
        <h1>{kind.label}</h1>
        <span class="count" data-testid="row-count">{data ? rows.length : '…'}</span>
        <span class="live live-polled" title={`The server's columns, refreshed every ${REFRESH_MS / 1000} s`}>polled</span>
        <span class="muted small" title={`${kind.group || 'core'}/${kind.version} ${kind.resource}`}>{kind.group || 'core'}/{kind.version} · {kind.namespaced ? (ns ? `namespace ${ns}` : 'all namespaces') : 'cluster-wide'}</span>
        <span class="spacer" />
        <input class="filter" type="search" placeholder="Filter" value={filter} onInput={(e) => setFilter((e.target as HTMLInputElement).value)} aria-label="Filter rows" />
      </div>
      {error && <div class="alert bad" role="alert">{error}</div>}
      {data?.capped && <div class="alert" role="status">Showing the first {data.rows.length} rows; pick a namespace to see the rest.</div>}
      <div class="grid-table" role="table" aria-label={kind.label}>
        <div class="grid-row grid-head" role="row" style={{ gridTemplateColumns: grid }}>
          {showNs && <div role="columnheader" class="cell">Namespace</div>}
          {shown.map(({ c, i }) => (
            <div
              role="columnheader"
              class={`cell sortable ${sort.col === i ? 'sorted' : ''}`}
              aria-sort={sort.col === i ? (sort.dir === 1 ? 'ascending' : 'descending') : 'none'}
              onClick={() => setSort({ col: i, dir: sort.col === i ? (-sort.dir as 1 | -1) : 1 })}
            >
              {c.name}
              {sort.col === i && <span class="sort-arrow">{sort.dir === 1 ? '▲' : '▼'}</span>}
            </div>
          ))}
        </div>
        <div class="grid-body">
          {!data && !error && <div class="empty">Loading…</div>}
          {data && rows.length === 0 && <div class="empty">{filter ? 'No rows match the filter.' : `No ${kind.label.toLowerCase()}${ns ? ` in ${ns}` : ''}.`}</div>}
          {rows.map((r) => (
            <div
              key={r.object?.metadata?.uid ?? `${r.object?.metadata?.namespace}/${cellText(r.cells[nameAt])}`}
              role="row"
              class="grid-row static"
              data-name={r.object?.metadata?.name ?? cellText(r.cells[nameAt])}
              style={{ gridTemplateColumns: grid }}
              onClick={(e) => !(e.target as Element).closest('a') && navigate(href(r))}
            >
              {showNs && <div role="cell" class="cell">{r.object?.metadata?.namespace ?? ''}</div>}
              {shown.map(({ i }) => (
                <div role="cell" class="cell" title={cellText(r.cells[i])}>
                  {i === nameAt ? <a class="cell-name" href={href(r)}>{cellText(r.cells[i])}</a> : cellText(r.cells[i])}
                </div>
              ))}
            </div>
          ))}
        </div>
      </div>
    </div>
  );
}
