// The top bar: cluster and namespace pickers, search, theme, help, sign-in state.
import { useEffect, useState } from 'preact/hooks';
import { apiJson, config, signInUrl, type Me } from '../api/client';
import { helpOpen } from '../keys';
import { builtinKind } from '../kinds';
import { clearAccessCache } from '../state/access';
import { type ClusterInfo, clusters, clustersError, namespaceFilter, namespaceFor, refreshClusters, setNamespace, stateLabel } from '../state/clusters';
import { dropClusterCaches, useList } from '../state/lists';
import { listUrl, homeUrl, navigate, portForwardsUrl, route } from '../state/router';
import { toggleTheme } from '../state/theme';
import { useValue } from '../state/value';
import { Icon } from '../icons';
import { ClusterDot } from '../clusterchip';
import { switcherOpen } from './Switcher';
import { forwardsAdvertised } from './PortForwards';
import { Search } from './Search';

export function TopBar({ cluster, info, usable, searchRef }: { cluster: string | null; info: ClusterInfo | undefined; usable: boolean; searchRef: { current: HTMLInputElement | null } }) {
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
          <label class="picker cluster-picker" title="Cluster (Ctrl+K to switch)" data-testid="cluster-picker">
            <ClusterDot name={cluster} />
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
                <option value={c.name}>{c.name}{stateLabel(c) !== 'ok' && stateLabel(c) !== 'unknown' ? ` (${stateLabel(c)})` : ''}</option>
              ))}
              {list && !list.some((c) => c.name === cluster) && <option value={cluster}>{cluster}</option>}
            </select>
          </label>
          <button class="iconbtn switcher-btn" title="Switch cluster (Ctrl+K)" data-testid="open-switcher" onClick={() => switcherOpen.set(true)}>
            <kbd>Ctrl K</kbd>
          </button>
          {info && <span class="profile-chip" title={`profile from ${info.profileSource ?? '?'}, WebSocket strategy ${info.strategy ?? '?'} (${info.strategySource ?? '?'})`}>{info.profile}{info.strategy ? ` · ${info.strategy}` : ''}</span>}
          {usable && <NamespacePicker cluster={cluster} />}
          {usable && <Search cluster={cluster} inputRef={searchRef} />}
        </>
      ) : (
        <>
          <span class="topbar-title">Clusters</span>
          <button class="iconbtn switcher-btn" title="Switch cluster (Ctrl+K)" data-testid="open-switcher" onClick={() => switcherOpen.set(true)}>
            <kbd>Ctrl K</kbd>
          </button>
        </>
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
