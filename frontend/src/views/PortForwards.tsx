// Port forwards (local mode): start from a pod's container port or a service port, list, stop.
import { useEffect, useState } from 'preact/hooks';
import { ApiError, apiJson, config, errorText } from '../api/client';
import { detailUrl, toast, Value, useValue } from '../state';
import { Icon } from '../icons';

export interface PortForward {
  id: string;
  cluster: string;
  namespace: string;
  pod?: string | null;
  service?: string | null;
  port: number;
  localPort: number;
  state?: string;
  error?: string | null;
  url?: string;
}

export const forwards = new Value<PortForward[] | null>(null);
export const forwardsError = new Value('');
/** False once the server answered 404 for /api/portforwards (not in this build or mode). */
export const forwardsSupported = new Value<boolean>(true);

/** The server advertises port forwarding in /api/config `features.portForward` (local mode). */
export function forwardsAdvertised(): boolean {
  const f = config.features as Record<string, unknown>;
  return config.localMode && !!(f.portForward ?? f.portforward ?? f.portForwards);
}

export async function refreshForwards(): Promise<void> {
  if (!forwardsSupported.value || !forwardsAdvertised()) return;
  try {
    const data = await apiJson<PortForward[] | { items: PortForward[] }>('/api/portforwards');
    forwards.set(Array.isArray(data) ? data : data.items ?? []);
    forwardsError.set('');
  } catch (e) {
    if (e instanceof ApiError && e.status === 404 && e.source === 'lantern') forwardsSupported.set(false);
    else forwardsError.set(errorText(e));
  }
}

export async function startForward(req: { cluster: string; namespace: string; pod?: string; service?: string; port: number; localPort?: number }): Promise<PortForward | null> {
  try {
    const pf = await apiJson<PortForward>('/api/portforwards', {
      method: 'POST',
      headers: { 'Content-Type': 'application/json' },
      body: JSON.stringify(req),
    });
    toast(`Forwarding 127.0.0.1:${pf.localPort} → ${req.pod ?? req.service}:${req.port}`, 'ok');
    await refreshForwards();
    return pf;
  } catch (e) {
    toast(`Port forward failed: ${errorText(e)}`, 'bad');
    return null;
  }
}

export async function stopForward(id: string): Promise<void> {
  try {
    await apiJson(`/api/portforwards/${encodeURIComponent(id)}`, { method: 'DELETE' });
  } catch (e) {
    toast(`Could not stop the forward: ${errorText(e)}`, 'bad');
  }
  await refreshForwards();
}

export function forwardUrl(pf: PortForward): string {
  return pf.url ?? `http://127.0.0.1:${pf.localPort}`;
}

/** A small "forward" control next to a port: choose local port (or auto) and start. */
export function ForwardButton(props: { cluster: string; namespace: string; pod?: string; service?: string; port: number }) {
  const [open, setOpen] = useState(false);
  const [local, setLocal] = useState('');
  const list = useValue(forwards);
  if (!useValue(forwardsSupported) || !forwardsAdvertised()) return null;
  const existing = list?.find((f) => f.cluster === props.cluster && f.namespace === props.namespace && f.port === props.port && (f.pod ?? null) === (props.pod ?? null) && (f.service ?? null) === (props.service ?? null));
  if (existing) {
    return (
      <span class="fwd">
        <a href={forwardUrl(existing)} target="_blank" rel="noreferrer" class="mono">{forwardUrl(existing)}</a>
        <button class="btn tiny" onClick={() => stopForward(existing.id)}>Stop</button>
      </span>
    );
  }
  if (!open) return <button class="btn tiny" title="Forward this port to 127.0.0.1" onClick={() => setOpen(true)}><Icon name="forward" size={12} /> Forward</button>;
  return (
    <form
      class="fwd"
      onSubmit={async (e) => {
        e.preventDefault();
        const lp = parseInt(local, 10);
        await startForward({ ...props, ...(lp > 0 ? { localPort: lp } : {}) });
        setOpen(false);
      }}
    >
      <input class="tiny-input" placeholder="auto" inputMode="numeric" value={local} onInput={(e) => setLocal((e.target as HTMLInputElement).value)} aria-label="Local port" />
      <button class="btn tiny primary" type="submit">Start</button>
      <button class="btn tiny" type="button" onClick={() => setOpen(false)}>Cancel</button>
    </form>
  );
}

export function PortForwards() {
  const list = useValue(forwards);
  const err = useValue(forwardsError);
  useEffect(() => {
    refreshForwards();
    const t = setInterval(refreshForwards, 3000);
    return () => clearInterval(t);
  }, []);
  return (
    <div class="page">
      <div class="page-head">
        <h1>Port forwards</h1>
        <span class="muted">Start one from a pod's container ports or a service's ports.</span>
      </div>
      {err && <div class="alert bad">{err}</div>}
      {(!useValue(forwardsSupported) || !forwardsAdvertised()) && <div class="empty">Port forwarding is not available from this kubelantern server.</div>}
      {list && list.length === 0 && <div class="empty">No active port forwards.</div>}
      {list && list.length > 0 && (
        <table class="table">
          <thead>
            <tr><th>Local</th><th>Target</th><th>Cluster</th><th>Namespace</th><th>Port</th><th>State</th><th /></tr>
          </thead>
          <tbody>
            {list.map((f) => (
              <tr>
                <td><a class="mono" href={forwardUrl(f)} target="_blank" rel="noreferrer">{forwardUrl(f)}</a></td>
                <td>
                  <a href={detailUrl(f.cluster, f.pod ? 'pods' : 'services', f.namespace, (f.pod ?? f.service)!)}>{f.pod ? `pod/${f.pod}` : `service/${f.service}`}</a>
                </td>
                <td>{f.cluster}</td>
                <td>{f.namespace}</td>
                <td>{f.port}</td>
                <td>{f.error ? <span class="tone-bad" title={f.error}>{f.state ?? 'error'}: {f.error}</span> : <span class="tone-ok">{f.state ?? 'active'}</span>}</td>
                <td><button class="btn small" onClick={() => stopForward(f.id)}>Stop</button></td>
              </tr>
            ))}
          </tbody>
        </table>
      )}
    </div>
  );
}
