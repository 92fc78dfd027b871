// The app shell: top bar (cluster, namespace, search, theme), sidebar, routed main view, dock.
import { useErrorBoundary, useEffect, useMemo, useRef, useState } from 'preact/hooks';
import type { ComponentChildren } from 'preact';
import { apiJson, onLanternUnauthorized } from './api/client';
import { helpOpen, initKeys, onEscape, SHORTCUTS } from './keys';
import { BUILTIN_KINDS, builtinKind, SECTIONS } from './kinds';
import {
  clearAccessCache, clusters, followSystemTheme, clustersError, crdKinds, dropClusterCaches, detailUrl, homeUrl, kindById, listUrl, loadCrds, loadedCaches, namespaceFor, namespaceFilter,
  navigate, needsLogin, portForwardsUrl, refreshClusters, route, setNamespace, toasts, toggleTheme, useList, useValue, warmSearch, type ClusterInfo,
} from './state';
import { ResourceList } from './views/ResourceList';
import { Detail } from './views/Detail';
import { Home, ClusterBadge } from './views/Home';
import { LoginForm } from './views/Login';
import { PortForwards, forwardsAdvertised } from './views/PortForwards';
import { Overview } from './views/Overview';
import { DockSlot, closeTopPane } from './streams-bridge';
import { Icon } from './icons';
import { config, signInUrl, type Me } from './api/client';

export function App() {
  const r = useValue(route);
  const list = useValue(clusters);
  const [lanternLocked, setLocked] = useState(false);
  const searchRef = useRef<HTMLInputElement>(null);

  useEffect(() => {
    refreshClusters();
    const t = setInterval(refreshClusters, 15000);
    const off = onLanternUnauthorized(() => setLocked(true));
    // Lowest priority: Esc with the focus in a log pane minimizes the dock.
    const offEsc = onEscape(closeTopPane);
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
      off();
      offEsc();
    };
  }, []);

  const cluster = 'cluster' in r ? r.cluster : null;
  const info = list?.find((c) => c.name === cluster);
  // Nothing is asked of a cluster before we know it can answer (no burst of errors).
  const usable = !!info && !needsLogin(info) && info.state !== 'unreachable';
  useEffect(() => {
    if (cluster && usable) loadCrds(cluster);
  }, [cluster, usable]);

  useEffect(() => {
    const k = r.page === 'list' || r.page === 'detail' ? kindById(r.cluster, r.kind) : undefined;
    const what = r.page === 'list' && r.kind === 'overview' ? 'Overview' : r.page === 'detail' ? `${r.name} · ${k?.label ?? r.kind}` : r.page === 'list' ? k?.label ?? r.kind : r.page === 'portforwards' ? 'Port forwards' : 'Clusters';
    document.title = cluster ? `${what} · ${cluster} · kubelantern` : `${what} · kubelantern`;
  }, [r]);

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
  else if (r.page === 'notfound') main = <div class="empty big"><h2>Nothing at {r.path}</h2><a href={homeUrl()}>Go to the clusters</a></div>;
  else if (!list) main = <div class="empty">Loading clusters…</div>;
  else if (!info) main = <div class="empty big"><h2>No cluster named “{r.cluster}”</h2><a href={homeUrl()}>Choose a cluster</a></div>;
  else if (info && needsLogin(info)) main = <LoginForm cluster={info} />;
  else if (info && info.state === 'unreachable') main = <Unreachable info={info} />;
  else if (r.page === 'list' && r.kind === 'overview') main = <Overview cluster={r.cluster} />;
  else if (r.page === 'list') main = <ResourceList key={`${r.cluster}/${r.kind}`} cluster={r.cluster} kindId={r.kind} />;
  else main = <Detail key={`${r.cluster}/${r.kind}/${r.namespace}/${r.name}`} cluster={r.cluster} kindId={r.kind} namespace={r.namespace} name={r.name} />;

  return (
    <div class="app">
      <TopBar cluster={cluster} info={info} usable={usable} searchRef={searchRef} />
      <div class="body">
        {cluster && <Sidebar cluster={cluster} />}
        <main class="main" id="main">
          <Guard key={location.pathname}>{main}</Guard>
        </main>
      </div>
      <DockSlot />
      {useValue(helpOpen) && <Help />}
      <Toasts />
    </div>
  );
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

function Unreachable({ info }: { info: ClusterInfo }) {
  return (
    <div class="empty big">
      <h2>
        {info.name} is unreachable <ClusterBadge c={info} />
      </h2>
      <p class="error-text">{info.error || 'kubelantern could not connect to the API server.'}</p>
      <p>
        Server <code>{info.server}</code>. Run <code>kubelantern doctor {info.name}</code> in a terminal to see which step fails.
      </p>
      <button class="btn" onClick={() => refreshClusters()}>Check again</button>
    </div>
  );
}

function TopBar({ cluster, info, usable, searchRef }: { cluster: string | null; info: ClusterInfo | undefined; usable: boolean; searchRef: { current: HTMLInputElement | null } }) {
  const list = useValue(clusters);
  const err = useValue(clustersError);
  return (
    <header class="topbar">
      <a class="brand" href={homeUrl()} title="All clusters">
        <img src={`${config.baseUrl}/favicon.svg`} alt="" width={22} height={22} />
        <span>kubelantern</span>
      </a>
      {cluster ? (
        <>
          <label class="picker" title="Cluster">
            <Icon name="cluster" />
            <select
              aria-label="Cluster"
              value={cluster}
              onChange={(e) => {
                const r = route.value;
                const next = (e.target as HTMLSelectElement).value;
                navigate(listUrl(next, r.page === 'list' || r.page === 'detail' ? r.kind : 'pods'));
              }}
            >
              {(list ?? []).map((c) => (
                <option value={c.name}>{c.name}{c.state !== 'ok' && c.state !== 'unknown' ? ` (${c.state})` : ''}</option>
              ))}
              {list && !list.some((c) => c.name === cluster) && <option value={cluster}>{cluster}</option>}
            </select>
          </label>
          {info && <span class="profile-chip" title={`profile from ${info.profileSource ?? '?'}, WebSocket strategy ${info.strategy ?? '?'} (${info.strategySource ?? '?'})`}>{info.profile}{info.strategy ? ` · ${info.strategy}` : ''}</span>}
          {usable && <NamespacePicker cluster={cluster} />}
          {usable && <Search cluster={cluster} inputRef={searchRef} />}
        </>
      ) : (
        <span class="topbar-title">Clusters</span>
      )}
      <span class="spacer" />
      {err && <span class="tone-bad small" title={err}>{err.slice(0, 80)}</span>}
      {forwardsAdvertised() && (
        <a class="iconbtn" href={portForwardsUrl()} title="Port forwards">
          <Icon name="plug" />
        </a>
      )}
      <button class="iconbtn" id="theme-toggle" title="Toggle dark / light (t)" onClick={toggleTheme}>
        <Icon name="theme" />
      </button>
      <button class="iconbtn" title="Keyboard shortcuts (?)" onClick={() => helpOpen.set(true)}>
        <Icon name="help" />
      </button>
      {info && (info.auth === 'login' || info.auth === 'none') && info.loggedIn && <LogoutButton cluster={info.name} />}
      {config.signIn && <SignedInUser />}
    </header>
  );
}

/** Team mode: who is signed in, and signing out (also at the identity provider). */
function SignedInUser() {
  const [me, setMe] = useState<Me | null>(null);
  useEffect(() => {
    apiJson<Me>('/api/me').then(setMe, () => setMe(null));
  }, []);
  if (!me) return null;
  if (!me.signedIn) {
    if (config.signIn !== 'oidc') return null;
    return (
      <a class="btn small" href={signInUrl()} id="sign-in">
        Sign in
      </a>
    );
  }
  return (
    <>
      <span class="user-chip" id="signed-in-user" title={me.email ?? me.name ?? ''}>
        <Icon name="user" />
        {me.name}
      </span>
      {config.signIn === 'oidc' && <button
        class="btn small"
        id="sign-out"
        onClick={async () => {
          const out = await apiJson<{ redirect: string }>('/oidc/logout', { method: 'POST' }).catch(() => null);
          location.assign(out?.redirect ?? `${config.baseUrl}/`);
        }}
      >
        Sign out
      </button>}
    </>
  );
}

function LogoutButton({ cluster }: { cluster: string }) {
  return (
    <button
      class="btn small"
      onClick={async () => {
        await apiJson(`/api/clusters/${encodeURIComponent(cluster)}/logout`, { method: 'POST' }).catch(() => undefined);
        dropClusterCaches(cluster);
        clearAccessCache();
        await refreshClusters();
      }}
    >
      Log out
    </button>
  );
}

function NamespacePicker({ cluster }: { cluster: string }) {
  useValue(namespaceFilter);
  const nsKind = builtinKind('namespaces');
  const { items, error, loaded } = useList(cluster, nsKind, null, false);
  const current = namespaceFor(cluster);
  if (error && !loaded) {
    // Not allowed to list namespaces (common for namespace-scoped users): type one instead.
    return (
      <label class="picker" title={`Namespaces cannot be listed: ${error}`}>
        <Icon name="ns" />
        <input
          class="ns-input"
          aria-label="Namespace"
          placeholder="namespace (all)"
          value={current ?? ''}
          onChange={(e) => setNamespace(cluster, (e.target as HTMLInputElement).value.trim() || null)}
        />
      </label>
    );
  }
  const names = items.map((o) => o.metadata.name).sort();
  if (current && !names.includes(current)) names.unshift(current);
  return (
    <label class="picker" title="Namespace filter">
      <Icon name="ns" />
      <select aria-label="Namespace" value={current ?? ''} onChange={(e) => setNamespace(cluster, (e.target as HTMLSelectElement).value || null)}>
        <option value="">All namespaces</option>
        {names.map((n) => (
          <option value={n}>{n}</option>
        ))}
      </select>
    </label>
  );
}

function Search({ cluster, inputRef }: { cluster: string; inputRef: { current: HTMLInputElement | null } }) {
  const [q, setQ] = useState('');
  const [open, setOpen] = useState(false);
  const [sel, setSel] = useState(0);
  useValue(namespaceFilter);
  const [warm, setWarm] = useState(0);
  const blurTimer = useRef<ReturnType<typeof setTimeout> | null>(null);
  useEffect(() => {
    if (!open) return;
    const t = setInterval(() => setWarm((n) => n + 1), 500);
    return () => clearInterval(t);
  }, [open]);
  const results = useMemo(() => {
    const needle = q.trim().toLowerCase();
    if (!needle) return [];
    const out: { kind: string; label: string; ns?: string; name: string }[] = [];
    const seen = new Set<string>();
    for (const c of loadedCaches(cluster)) {
      for (const o of c.state.value.items) {
        if (!o.metadata.name.toLowerCase().includes(needle)) continue;
        const key = `${c.kind.id}/${o.metadata.namespace ?? ''}/${o.metadata.name}`;
        if (seen.has(key) || c.kind.id === 'events') continue;
        seen.add(key);
        out.push({ kind: c.kind.id, label: c.kind.kind, ns: o.metadata.namespace, name: o.metadata.name });
      }
    }
    // Prefix matches first, then the kind on screen, then workloads before the rest.
    const here = route.value.page === 'list' || route.value.page === 'detail' ? route.value.kind : '';
    const order = BUILTIN_KINDS.map((k) => k.id);
    const rank = (kind: string) => (kind === here ? -1 : order.indexOf(kind) < 0 ? 99 : order.indexOf(kind));
    out.sort((a, b) => {
      const ax = a.name.toLowerCase().startsWith(needle) ? 0 : 1;
      const bx = b.name.toLowerCase().startsWith(needle) ? 0 : 1;
      return ax - bx || rank(a.kind) - rank(b.kind) || a.name.localeCompare(b.name);
    });
    return out.slice(0, 30);
  }, [q, cluster, open, warm]);

  useEffect(() => onEscape(() => {
    if (!open) return false;
    setOpen(false);
    inputRef.current?.blur();
    return true;
  }), [open]);

  const go = (i: number) => {
    const r = results[i];
    if (!r) return;
    setOpen(false);
    setQ('');
    inputRef.current?.blur();
    navigate(detailUrl(cluster, r.kind, r.ns ?? null, r.name));
  };

  return (
    <div class="search">
      <Icon name="search" />
      <input
        ref={inputRef}
        id="global-search"
        type="search"
        placeholder="Search names…  /"
        value={q}
        autocomplete="off"
        spellcheck={false}
        onInput={(e) => {
          setQ((e.target as HTMLInputElement).value);
          setSel(0);
          setOpen(true);
        }}
        onFocus={() => {
          if (blurTimer.current) clearTimeout(blurTimer.current);
          setOpen(true);
          warmSearch(cluster, namespaceFor(cluster));
        }}
        onBlur={() => {
          // Late enough for a click on a result to land; cancelled by a quick re-focus.
          blurTimer.current = setTimeout(() => setOpen(false), 150);
        }}
        onKeyDown={(e) => {
          if (e.key === 'ArrowDown') { setSel((s) => Math.min(s + 1, results.length - 1)); e.preventDefault(); }
          else if (e.key === 'ArrowUp') { setSel((s) => Math.max(s - 1, 0)); e.preventDefault(); }
          else if (e.key === 'Enter') go(sel);
        }}
      />
      {open && q.trim() && (
        <div class="search-results" role="listbox">
          {results.length === 0 && <div class="muted pad">No loaded object matches “{q}”. Search covers the lists opened in this cluster.</div>}
          {results.map((r, i) => (
            <div class={`search-hit ${i === sel ? 'sel' : ''}`} role="option" onMouseDown={(e) => { e.preventDefault(); go(i); }}>
              <span class="kind-tag">{r.label}</span>
              <span class="cell-name">{r.name}</span>
              {r.ns && <span class="muted small">{r.ns}</span>}
            </div>
          ))}
        </div>
      )}
    </div>
  );
}

function Sidebar({ cluster }: { cluster: string }) {
  const r = useValue(route);
  const crds = useValue(crdKinds);
  const active = 'kind' in r ? r.kind : '';
  const kinds = [...BUILTIN_KINDS, ...(crds.cluster === cluster ? crds.kinds : [])];
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
            {ks.map((k) => (
              <a class={`nav-item ${k.id === active ? 'active' : ''}`} href={listUrl(cluster, k.id)} data-kind={k.id}>
                {k.label}
              </a>
            ))}
          </div>
        );
      })}
    </nav>
  );
}

function Help() {
  return (
    <div class="overlay" onClick={() => helpOpen.set(false)}>
      <div class="dialog" role="dialog" aria-label="Keyboard shortcuts" onClick={(e) => e.stopPropagation()}>
        <h3>Keyboard shortcuts</h3>
        <table class="keys">
          {SHORTCUTS.map(([k, d]) => (
            <tr>
              <td>{k.split(' ').map((x) => (x === '/' && k.length > 1 ? ' / ' : <kbd>{x}</kbd>))}</td>
              <td>{d}</td>
            </tr>
          ))}
        </table>
        <div class="dialog-actions">
          <button class="btn" onClick={() => { followSystemTheme(); helpOpen.set(false); }} title="Forget the toggle and follow the system setting">Theme: follow system</button>
          <button class="btn" onClick={() => helpOpen.set(false)}>Close</button>
        </div>
      </div>
    </div>
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
