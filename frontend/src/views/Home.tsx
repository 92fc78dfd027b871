// The cluster chooser: every cluster from the kubeconfig(s), with the profile and WebSocket
// strategy the backend uses for it; unreachable ones stay listed with the reason and advice.
import { useEffect } from 'preact/hooks';
import { type ClusterInfo, clusters, clustersError, namespaceFor, needsLogin, refreshClusters, sourcesText, stateLabel } from '../state/clusters';
import { listUrl } from '../state/router';
import { useValue } from '../state/value';
import { statusTone } from '../format';
import { Icon } from '../icons';

export function ClusterBadge({ c }: { c: ClusterInfo }) {
  const label = stateLabel(c);
  return <span class={`badge tone-${needsLogin(c) ? 'warn' : c.state === 'ok' ? 'ok' : c.state === 'unknown' ? 'muted' : statusTone(c.state)}`}>{label}</span>;
}

export function Home() {
  const list = useValue(clusters);
  const err = useValue(clustersError);
  useEffect(() => {
    refreshClusters();
  }, []);
  if (!list) return <div class="empty">{err ? <span class="error-text">{err}</span> : 'Loading clusters…'}</div>;
  if (!list.length) return <div class="empty big"><h2>No clusters</h2><p>kubelantern found no context in the kubeconfig. Pass <code>--kubeconfig</code> or run with <code>--demo</code>.</p></div>;
  return (
    <div class="page">
      <div class="page-head">
        <h1>Clusters</h1>
        <span class="muted" data-testid="cluster-sources">{sourcesText(list)}</span>
        <span class="spacer" />
        <button class="btn" onClick={() => refreshClusters()}><Icon name="refresh" /> Refresh</button>
      </div>
      {err && <div class="alert bad">{err}</div>}
      <div class="cluster-grid">
        {list.map((c) => (
          <a class={`cluster-card state-${c.state}`} href={listUrl(c.name, 'overview')} data-cluster={c.name}>
            <div class="cluster-card-head">
              <Icon name="cluster" size={20} />
              <span class="cluster-name">{c.name}</span>
              <ClusterBadge c={c} />
            </div>
            <dl class="kv">
              <dt>Server</dt><dd class="mono">{c.server}</dd>
              <dt>Profile</dt><dd>{c.profile}{c.profileSource ? <span class="muted"> ({c.profileSource})</span> : null}</dd>
              <dt>WebSocket</dt><dd>{c.strategy ?? '—'}{c.strategySource ? <span class="muted"> ({c.strategySource})</span> : null}</dd>
              {c.version && <><dt>Version</dt><dd>{c.version}</dd></>}
              {namespaceFor(c.name) && <><dt>Namespace</dt><dd>{namespaceFor(c.name)}</dd></>}
            </dl>
            {c.state !== 'ok' && c.state !== 'unknown' && (
              <div class="cluster-error">
                {c.error && <div class="error-text">{c.error}</div>}
                <div class="muted small">Diagnose with <code>kubelantern doctor {c.name}</code></div>
              </div>
            )}
          </a>
        ))}
      </div>
    </div>
  );
}
