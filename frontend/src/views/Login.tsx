// Token login for clusters whose kubeconfig carries no usable credentials (in-cluster mode).
import { useState } from 'preact/hooks';
import { apiJson, errorText } from '../api/client';
import { clearAccessCache } from '../state/access';
import { type ClusterInfo, refreshClusters } from '../state/clusters';
import { dropClusterCaches } from '../state/lists';
import { ClusterBadge } from './Home';

export function LoginForm({ cluster, intro }: { cluster: ClusterInfo; intro?: string }) {
  const [token, setToken] = useState('');
  const [busy, setBusy] = useState(false);
  const [err, setErr] = useState('');
  const submit = async (e: Event) => {
    e.preventDefault();
    setBusy(true);
    setErr('');
    try {
      await apiJson(`/api/clusters/${encodeURIComponent(cluster.name)}/login`, {
        method: 'POST',
        headers: { 'Content-Type': 'application/json' },
        body: JSON.stringify({ token: token.trim() }),
      });
      setToken('');
      dropClusterCaches(cluster.name);
      clearAccessCache();
      await refreshClusters();
    } catch (x) {
      setErr(errorText(x));
    } finally {
      setBusy(false);
    }
  };
  return (
    <div class="login">
      <form class="card login-card" onSubmit={submit}>
        <h2>Log in to {cluster.name} <ClusterBadge c={cluster} /></h2>
        <p class="muted">
          {intro ?? "This cluster has no credentials in kubelantern's configuration."} Paste a bearer token (for example from{' '}
          <code>kubectl create token &lt;service-account&gt;</code>). It is kept in an HttpOnly cookie for this cluster only.
        </p>
        <label class="field">
          <span>Token</span>
          <input type="password" autocomplete="off" value={token} onInput={(e) => setToken((e.target as HTMLInputElement).value)} required />
        </label>
        {err && <div class="alert bad">{err}</div>}
        <div class="dialog-actions">
          <button class="btn primary" type="submit" disabled={busy || !token.trim()}>{busy ? 'Checking…' : 'Log in'}</button>
        </div>
      </form>
    </div>
  );
}
