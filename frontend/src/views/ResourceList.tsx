// A live, sortable, virtualised list of one kind (1,000s of rows stay smooth: only the rows in
// view are rendered, and watch bursts are folded into one update per frame by the cache).
import { useEffect, useMemo, useRef, useState } from 'preact/hooks';
import { onKey } from '../keys';
import type { KubeObject } from '../api/client';
import { namespaceFilter, namespaceFor } from '../state/clusters';
import { crdKinds, kindById, kindSettled } from '../state/discovery';
import { useList } from '../state/lists';
import { detailUrl, navigate } from '../state/router';
import { now, useValue } from '../state/value';
import { Icon } from '../icons';
import { openPodLogs, openShell } from '../streams-bridge';
import { ClusterChip } from '../clusterchip';
import { podStatus } from '../format';
import { minWidth, type Column } from '../kinds';
import { useUsageColumns } from '../usage/columns';
import { sortRows, type Sorted } from './sortrows';

const ROW_H = 32;

/** Filter words: `key=value` / `key!=value` match labels, anything else the name or namespace. */
function rowMatcher(filter: string): ((o: KubeObject) => boolean) | null {
  const words = filter.trim().toLowerCase().split(/\s+/).filter(Boolean);
  if (!words.length) return null;
  return (o) =>
    words.every((w) => {
      const m = /^([^=!]+)(!?=)(.*)$/.exec(w);
      if (m) {
        const v = Object.entries(o.metadata.labels ?? {}).find(([k]) => k.toLowerCase() === m[1])?.[1]?.toLowerCase();
        return m[2] === '=' ? v === m[3] : v !== m[3];
      }
      return o.metadata.name.toLowerCase().includes(w) || (o.metadata.namespace ?? '').toLowerCase().includes(w);
    });
}
const sortMemory = new Map<string, { col: string; dir: 1 | -1 }>();

export function ResourceList({ cluster, kindId }: { cluster: string; kindId: string }) {
  useValue(crdKinds);
  useValue(namespaceFilter);
  const t = useValue(now);
  const kind = kindById(cluster, kindId);
  const ns = namespaceFor(cluster);
  const { items, loaded, error, live, pending } = useList(cluster, kind, ns);
  const usage = useUsageColumns(cluster, kindId, ns);
  const [sort, setSort] = useState(sortMemory.get(kindId) ?? { col: kindId === 'events' ? 'last' : 'name', dir: 1 as 1 | -1 });
  const [filter, setFilter] = useState('');
  const [selected, setSelected] = useState(-1);
  const [scrollTop, setScrollTop] = useState(0);
  const [viewH, setViewH] = useState(600);
  const [viewW, setViewW] = useState(1200);
  const scroller = useRef<HTMLDivElement>(null);

  useEffect(() => {
    const el = scroller.current;
    if (!el) return;
    const ro = new ResizeObserver(() => {
      setViewH(el.clientHeight);
      setViewW(el.clientWidth);
    });
    ro.observe(el);
    return () => ro.disconnect();
  }, [kind?.id]);

  const columns = useMemo(() => {
    if (!kind) return [];
    let cols = kind.columns.filter((c) => !(c.id === 'namespace' && ns));
    if (usage.columns.length) {
      const at = cols.findIndex((c) => c.id === 'age');
      cols = at < 0 ? [...cols, ...usage.columns] : [...cols.slice(0, at), ...usage.columns, ...cols.slice(at)];
    }
    // Narrow window: drop optional columns (level 1 first) until the rest fit.
    const need = (cs: Column[]) => cs.reduce((n, c) => n + minWidth(c.width), 0) + (kindId === 'pods' ? 64 : 0);
    for (const level of [1, 2] as const) {
      if (need(cols) <= viewW) break;
      cols = cols.filter((c) => c.optional !== level);
    }
    return cols;
  }, [kind, ns, viewW, usage.columns]);

  // Sorted again only when the sort column itself changes (the usage poll gives new CPU and
  // memory columns every time, which re-sorted every row even when sorting by name); a page
  // appended to a big list is merged in (sortrows.ts).
  const sortCol = columns.find((c) => c.id === sort.col) ?? columns[0];
  const sorted = useRef<Sorted | null>(null);
  const rows = useMemo(() => {
    if (!kind || !sortCol) return [];
    sorted.current = sortRows(sorted.current, items, sortCol, sort.dir, filter, rowMatcher(filter));
    return sorted.current.rows;
  }, [items, sort, filter, sortCol]);

  const open = (o: KubeObject) => navigate(detailUrl(cluster, kindId, o.metadata.namespace ?? null, o.metadata.name));
  const logs = (o: KubeObject) => openPodLogs(cluster, o);
  const shell = (o: KubeObject) => openShell(cluster, o);

  const scrollToRow = (i: number) => {
    const el = scroller.current;
    if (!el) return;
    const top = i * ROW_H;
    if (top < el.scrollTop) el.scrollTop = top;
    else if (top + ROW_H > el.scrollTop + el.clientHeight) el.scrollTop = top + ROW_H - el.clientHeight;
  };

  // Keys read the current rows and selection through refs: quick key presses must not see a
  // handler from an older render.
  const rowsRef = useRef(rows);
  rowsRef.current = rows;
  const selRef = useRef(selected);
  const select = (i: number) => {
    selRef.current = i;
    setSelected(i);
    scrollToRow(i);
  };
  useEffect(
    () =>
      onKey((e) => {
        const list = rowsRef.current;
        if (!list.length) return false;
        if (e.key === 'j' || e.key === 'ArrowDown') {
          select(Math.min(list.length - 1, selRef.current + 1));
          return true;
        }
        if (e.key === 'k' || e.key === 'ArrowUp') {
          select(Math.max(0, selRef.current - 1));
          return true;
        }
        const row = list[selRef.current];
        if (!row) return false;
        if (e.key === 'Enter' || e.key === 'o') {
          open(row);
          return true;
        }
        if (kindId === 'pods' && e.key === 'l') {
          logs(row);
          return true;
        }
        if (kindId === 'pods' && e.key === 'x') {
          shell(row);
          return true;
        }
        return false;
      }),
    [],
  );

  if (!kind) {
    return kindSettled(cluster, kindId) ? (
      <div class="empty big"><h2>Unknown kind “{kindId}”</h2><p class="muted">The cluster's discovery does not list it.</p></div>
    ) : (
      <div class="empty">Loading…</div>
    );
  }

  const grid = columns.map((c) => c.width).join(' ') + (kindId === 'pods' ? ' 64px' : '');
  const first = Math.max(0, Math.floor(scrollTop / ROW_H) - 8);
  // The measured height can lag a layout change; a window's height of rows is always enough.
  const last = Math.min(rows.length, Math.ceil((scrollTop + Math.max(viewH, window.innerHeight)) / ROW_H) + 8);
  const visible = rows.slice(first, last);

  return (
    <div class="list-page">
      <div class="page-head">
        <ClusterChip name={cluster} />
        <h1>{kind.label}</h1>
        <span class="count" data-testid="row-count">{loaded ? rows.length : '…'}</span>
        {!!pending && <span class="muted small" data-testid="rows-pending">listing {pending} more…</span>}
        <span class={`live live-${live}`} title={live === 'live' ? 'Watching for changes' : live}>{live === 'live' ? 'live' : live}</span>
        <span class="muted small">{kind.namespaced ? (ns ? `namespace ${ns}` : 'all namespaces') : 'cluster-wide'}</span>
        <span class="spacer" />
        <input class="filter" type="search" placeholder="Filter: name or app=x" title="Words match the name or namespace; key=value or key!=value match labels" value={filter} onInput={(e) => setFilter((e.target as HTMLInputElement).value)} aria-label="Filter rows" />
      </div>
      {usage.hint ? <div class="muted small usage-hint" data-testid="usage-hint">{usage.hint}</div> : null}
      {/* A string '' here (not null) made Preact remount the table when an error or hint
          appeared, leaving the width observer on a detached node (columns laid out for 0 px). */}
      {error ? (
        <div class="alert bad" role="alert">
          {error}
          {/\(403\)/.test(error) && kind.namespaced && !ns && <div class="small">You may only be allowed to list in some namespaces: pick one in the top bar.</div>}
        </div>
      ) : null}
      <div class="grid-table" role="table" aria-label={kind.label}>
        <div class="grid-row grid-head" role="row" style={{ gridTemplateColumns: grid }}>
          {columns.map((c) => (
            <div
              role="columnheader"
              aria-sort={sort.col === c.id ? (sort.dir === 1 ? 'ascending' : 'descending') : 'none'}
              class={`cell sortable ${c.align === 'right' ? 'right' : ''} ${sort.col === c.id ? 'sorted' : ''}`}
              onClick={() => {
                const next = { col: c.id, dir: (sort.col === c.id ? -sort.dir : 1) as 1 | -1 };
                sortMemory.set(kindId, next);
                setSort(next);
              }}
            >
              {c.title}
              {sort.col === c.id && <span class="sort-arrow">{sort.dir === 1 ? '▲' : '▼'}</span>}
            </div>
          ))}
          {kindId === 'pods' && <div class="cell" />}
        </div>
        <div class="grid-body" ref={scroller} onScroll={(e) => setScrollTop((e.target as HTMLDivElement).scrollTop)}>
          {loaded && rows.length === 0 && <div class="empty">{filter ? 'No rows match the filter.' : `No ${kind.label.toLowerCase()} ${kind.namespaced && ns ? `in ${ns}` : ''}.`}</div>}
          {!loaded && !error && <div class="empty">Loading…</div>}
          <div style={{ height: `${rows.length * ROW_H}px`, position: 'relative' }}>
            {visible.map((o, j) => {
              const i = first + j;
              return (
                <div
                  key={o.metadata.uid ?? `${o.metadata.namespace}/${o.metadata.name}`}
                  role="row"
                  class={`grid-row ${i === selected ? 'selected' : ''}`}
                  data-name={o.metadata.name}
                  style={{ gridTemplateColumns: grid, transform: `translateY(${i * ROW_H}px)` }}
                  onClick={(e) => {
                    selRef.current = i;
                    const ref = (e.target as Element).closest('a.obj-ref') as HTMLElement | null;
                    if (ref) {
                      navigate(detailUrl(cluster, ref.dataset.kind!, ref.dataset.ns || null, ref.dataset.name!));
                      return;
                    }
                    if ((e.target as Element).closest('a,button')) return;
                    setSelected(i);
                    open(o);
                  }}
                >
                  {columns.map((c) => (
                    <div role="cell" class={`cell ${c.align === 'right' ? 'right' : ''}`}>
                      {c.id === 'name' ? (
                        <a class="cell-name" href={detailUrl(cluster, kindId, o.metadata.namespace ?? null, o.metadata.name)}>{o.metadata.name}</a>
                      ) : c.render ? (
                        c.render(o, t)
                      ) : (
                        String(c.value(o, t))
                      )}
                    </div>
                  ))}
                  {kindId === 'pods' && (
                    <div class="cell row-actions">
                      <button class="iconbtn small" title="Logs (l)" onClick={() => logs(o)} aria-label={`Logs of ${o.metadata.name}`}><Icon name="logs" size={14} /></button>
                      <button class="iconbtn small" title="Shell (x)" disabled={podStatus(o) !== 'Running'} onClick={() => shell(o)} aria-label={`Shell in ${o.metadata.name}`}><Icon name="terminal" size={14} /></button>
                    </div>
                  )}
                </div>
              );
            })}
          </div>
        </div>
      </div>
    </div>
  );
}
