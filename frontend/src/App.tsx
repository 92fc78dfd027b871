// The app shell: top bar (cluster, namespace, search, theme), sidebar, routed main view, dock.
import { useErrorBoundary, useEffect, useRef, useState } from 'preact/hooks';
import type { ComponentChildren } from 'preact';
import { onLanternUnauthorized } from './api/client';
import { helpOpen, initKeys, onEscape } from './keys';
import { BUILTIN_KINDS, SECTIONS, type KindDef } from './kinds';
import { blocked, clusters, needsLogin, refreshClusters } from './state/clusters';
import { crdKinds, kindById, loadCrds } from './state/discovery';
import { detailUrl, homeUrl, listUrl, navigate, recordingsUrl, route, type Route } from './state/router';
import { toggleTheme } from './state/theme';
import { toasts } from './state/toasts';
import { useValue } from './state/value';
import { ResourceList } from './views/ResourceList';
import { TableList } from './views/TableList';
import { Detail } from './views/Detail';
import { Home } from './views/Home';
import { ClusterProblem } from './views/ClusterProblem';
import { LoginForm } from './views/Login';
import { PortForwards } from './views/PortForwards';
import { RecordingWarning } from './views/RecordingWarning';
import { lazyComponent } from './lazy';
import { refreshRecordingStatus } from './state/recordings';
import { Overview } from './views/Overview';
import { TopBar } from './views/TopBar';
import { Help } from './views/Help';
import { Switcher, initSwitcherKey, switcherOpen } from './views/Switcher';
import { DockSlot, closeTopPane } from './streams-bridge';

// The recordings page is its own chunk (the first screen stays small); the player another.
const Recordings = lazyComponent('recordings page', () => import('./views/Recordings').then((m) => m.Recordings));

export function App() {
  const r = useValue(route);
  const list = useValue(clusters);
  const discovered = useValue(crdKinds);
  const [lanternLocked, setLocked] = useState(false);
  const searchRef = useRef<HTMLInputElement>(null);

  useEffect(() => {
    refreshClusters();
    const t = setInterval(refreshClusters, 15000);
    // A recording that fails must not go unnoticed: the shell warns on every page.
    refreshRecordingStatus();
    const tr = setInterval(refreshRecordingStatus, 15000);
    const off = onLanternUnauthorized(() => setLocked(true));
    // Lowest priority: Esc with the focus in a log pane minimizes the dock.
    const offEsc = onEscape(closeTopPane);
    const offSwitcher = initSwitcherKey();
    initKeys({
      go: (kind) => {
        const cur = route.value;
        const cluster = 'cluster' in cur ? cur.cluster : clusters.value?.[0]?.name;
        if (cluster) navigate(listUrl(cluster, kind));
      },
      home: () => navigate(homeUrl()),
      search: () => searchRef.current?.focus(),
      theme: toggleTheme,
    });
    return () => {
      clearInterval(t);
      clearInterval(tr);
      off();
      offEsc();
      offSwitcher();
    };
  }, []);

  const cluster = 'cluster' in r ? r.cluster : null;
  const info = list?.find((c) => c.name === cluster);
  // Nothing is asked of a cluster before we know it can answer (no burst of errors).
  const usable = !!info && !needsLogin(info) && !blocked(info);
  useEffect(() => {
    if (cluster && usable) loadCrds(cluster);
  }, [cluster, usable]);

  // A plural, singular or short name in the URL (`/c/x/route`, `/c/x/dc/ns/name`) becomes the
  // kind's id once discovery knows it, so the sidebar, links and back button agree.
  useEffect(() => {
    if (r.page !== 'list' && r.page !== 'detail') return;
    const k = kindById(r.cluster, r.kind);
    if (!k || k.id === r.kind) return;
    const url = r.page === 'list' ? listUrl(r.cluster, k.id) : detailUrl(r.cluster, k.id, k.namespaced ? r.namespace : null, r.name);
    navigate(url + location.search + location.hash, true);
  }, [r, discovered]);

  useEffect(() => {
    const k = r.page === 'list' || r.page === 'detail' ? kindById(r.cluster, r.kind) : undefined;
    document.title = pageTitle(r, k);
  }, [r, discovered]);

  const listKind = r.page === 'list' ? kindById(r.cluster, r.kind) : undefined;
  let main;
  if (lanternLocked) {
    main = (
      <div class="empty big">
        <h2>kubelantern needs its launch token</h2>
        <p>Open the URL printed in the terminal where <code>kubelantern serve</code> runs (it ends with <code>?token=…</code>).</p>
      </div>
    );
  } else if (r.page === 'home') main = <Home />;
  else if (r.page === 'portforwards') main = <PortForwards />;
  else if (r.page === 'recordings') main = <Recordings />;
  else if (r.page === 'notfound') main = <div class="empty big"><h2>Nothing at {r.path}</h2><a href={homeUrl()}>Go to the clusters</a></div>;
  else if (!list) main = <div class="empty">Loading clusters…</div>;
  else if (!info) main = <div class="empty big"><h2>No cluster named “{r.cluster}”</h2><a href={homeUrl()}>Choose a cluster</a></div>;
  else if (info && needsLogin(info)) main = <LoginForm cluster={info} />;
  else if (info && blocked(info)) main = <ClusterProblem info={info} />;
  else if (r.page === 'list' && r.kind === 'overview') main = <Overview cluster={r.cluster} />;
  else if (r.page === 'list' && listKind?.table) main = <TableList key={`${r.cluster}/${listKind.id}`} cluster={r.cluster} kind={listKind} />;
  else if (r.page === 'list') main = <ResourceList key={`${r.cluster}/${r.kind}`} cluster={r.cluster} kindId={r.kind} />;
  else main = <Detail key={`${r.cluster}/${r.kind}/${r.namespace}/${r.name}`} cluster={r.cluster} kindId={r.kind} namespace={r.namespace} name={r.name} />;

  return (
    <div class="app">
      <TopBar cluster={cluster} info={info} usable={usable} searchRef={searchRef} />
      <div class="body">
        {cluster && <Sidebar cluster={cluster} />}
        <main class="main" id="main">
          {r.page !== 'recordings' && <RecordingWarning href={recordingsUrl()} />}
          <Guard key={location.pathname}>{main}</Guard>
        </main>
      </div>
      <DockSlot />
      {useValue(helpOpen) && <Help />}
      {useValue(switcherOpen) && <Switcher />}
      <Toasts />
    </div>
  );
}

/** The browser tab's title: the page, then its cluster (`pods · kind-dev — kubelantern`,
 *  `redis-0 (pod) · prod-eu — kubelantern`), so many open tabs can be told apart. */
export function pageTitle(r: Route, k: KindDef | undefined): string {
  let what;
  if (r.page === 'list') what = r.kind === 'overview' ? 'overview' : k?.resource ?? r.kind;
  else if (r.page === 'detail') what = `${r.name} (${k?.kind.toLowerCase() ?? r.kind})`;
  else what = r.page === 'portforwards' ? 'port forwards' : r.page === 'recordings' ? 'recordings' : r.page === 'home' ? 'clusters' : 'not found';
  return 'cluster' in r ? `${what} · ${r.cluster} — kubelantern` : `${what} — kubelantern`;
}

/** A view that throws (an object shaped unlike we expect) shows the error, not a blank page. */
function Guard({ children }: { children: ComponentChildren }) {
  const [error, reset] = useErrorBoundary((e) => console.warn('view failed', e));
  if (error) {
    return (
      <div class="empty big">
        <h2>This view failed</h2>
        <p class="error-text">{String((error as Error)?.message ?? error)}</p>
        <button class="btn" onClick={reset}>Try again</button>
      </div>
    );
  }
  return <>{children}</>;
}

function Sidebar({ cluster }: { cluster: string }) {
  const r = useValue(route);
  const found = useValue(crdKinds);
  const active = 'kind' in r ? r.kind : '';
  const extra = found.cluster === cluster ? found.kinds : [];
  const kinds = [...BUILTIN_KINDS, ...extra];
  // Every other discovered kind, under its API group (folded unless it holds the open kind).
  const groups = new Map<string, KindDef[]>();
  for (const k of extra.filter((k) => k.section === 'API groups')) {
    const g = k.group || 'core';
    groups.set(g, [...(groups.get(g) ?? []), k]);
  }
  const item = (k: KindDef) => (
    <a class={`nav-item ${k.id === active ? 'active' : ''}`} href={listUrl(cluster, k.id)} data-kind={k.id} title={`${k.resource}.${k.group || 'core'}/${k.version}`}>
      {k.label}
    </a>
  );
  return (
    <nav class="sidebar" aria-label="Resources">
      <a class={`nav-item nav-overview ${active === 'overview' ? 'active' : ''}`} href={listUrl(cluster, 'overview')} data-kind="overview">
        Overview
      </a>
      {SECTIONS.map((s) => {
        const ks = kinds.filter((k) => k.section === s);
        if (!ks.length) return null;
        return (
          <div class="nav-section">
            <div class="nav-title">{s}</div>
            {ks.map(item)}
          </div>
        );
      })}
      {groups.size > 0 && (
        <div class="nav-section" data-testid="nav-groups">
          <div class="nav-title">API groups</div>
          {[...groups.entries()].map(([g, ks]) => (
            <details class="nav-group" data-group={g} open={ks.some((k) => k.id === active)}>
              <summary title={g}>{g}</summary>
              {ks.map(item)}
            </details>
          ))}
        </div>
      )}
      {found.cluster === cluster && found.error && <div class="muted small nav-note" title={found.error}>Discovery failed: built-in kinds only.</div>}
    </nav>
  );
}

function Toasts() {
  const list = useValue(toasts);
  return (
    <div class="toasts" aria-live="polite">
      {list.map((t) => (
        <div class={`toast toast-${t.tone}`}>{t.text}</div>
      ))}
    </div>
  );
}
