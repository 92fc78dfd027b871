// Port forwards (local mode): start from a pod's container port or a service port, list, stop.
import { useEffect, useState } from 'preact/hooks';
import { ApiError, apiJson, config, errorText } from '../api/client';
import { detailUrl } from '../state/router';
import { toast } from '../state/toasts';
import { useValue, Value } from '../state/value';
import { Icon } from '../icons';

/** One forward as the server reports it (proxy/portforward.py `Forward.as_json`). */
export interface PortForward {
  id: string;
  cluster: string;
  namespace: string;
  pod?: string | null;
  service?: string | null;
  /** The service port asked for (service forwards); `port` is then the pod port it maps to. */
  servicePort?: number | null;
  port: number;
  localPort: number;
  address?: string;
  connections?: number;
  totalConnections?: number;
  bytesIn?: number;
  bytesOut?: number;
  started?: string;
  lastError?: string | null;
}

function bytes(n: number | undefined): string {
  if (!n) return '0 B';
  const u = ['B', 'KiB', 'MiB', 'GiB'];
  let i = 0;
  let v = n;
  while (v >= 1024 && i < u.length - 1) {
    v /= 1024;
    i++;
  }
  return `${v < 10 && i ? v.toFixed(1) : Math.round(v)} ${u[i]}`;
}

export const forwards = new Value<PortForward[] | null>(null);
export const forwardsError = new Value('');
/** False once the server answered 404 for /api/portforwards (not in this build or mode). */
export const forwardsSupported = new Value<boolean>(true);

/** Port forwarding is offered in local mode unless /api/config `features.portForward` is false. */
export function forwardsAdvertised(): boolean {
  const f = config.features as Record<string, unknown>;
  // The server mounts /api/portforwards in local mode (not --in-cluster); a feature flag may say no.
  return config.localMode && (f.portForward ?? f.portforward ?? true) !== false;
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
    toast(`Forwarding 127.0.0.1:${pf.localPort} → ${req.pod ? 'pod' : 'service'}/${req.pod ?? req.service}:${req.port}`, 'ok');
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
  return `http://${pf.address ?? `127.0.0.1:${pf.localPort}`}`;
}

/** A small "forward" control next to a port: choose local port (or auto) and start. */
export function ForwardButton(props: { cluster: string; namespace: string; pod?: string; service?: string; port: number }) {
  const [open, setOpen] = useState(false);
  const [local, setLocal] = useState('');
  const list = useValue(forwards);
  if (!useValue(forwardsSupported) || !forwardsAdvertised()) return null;
  const existing = list?.find(
    (f) =>
      f.cluster === props.cluster &&
      f.namespace === props.namespace &&
      (props.service ? f.service === props.service && (f.servicePort ?? f.port) === props.port : f.pod === props.pod && f.port === props.port),
  );
  if (existing) {
    return (
      <span class="fwd">
        <a href={forwardUrl(existing)} target="_blank" rel="noreferrer" class="mono" data-testid="forward-link">{forwardUrl(existing)}</a>
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
        <table class="table" data-testid="forwards">
          <thead>
            <tr><th>Local address</th><th>Target</th><th>Cluster</th><th>Namespace</th><th>Port</th><th>Connections</th><th>Traffic</th><th>Status</th><th /></tr>
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
                <td class="mono">{f.service && f.servicePort ? `${f.servicePort} → ${f.port}` : f.port}</td>
                <td>{f.connections ?? 0} open <span class="muted small">/ {f.totalConnections ?? 0} total</span></td>
                <td class="small">↓ {bytes(f.bytesIn)} · ↑ {bytes(f.bytesOut)}</td>
                <td>{f.lastError ? <span class="tone-bad wrap" title={f.lastError}>{f.lastError}</span> : <span class="tone-ok">listening</span>}</td>
                <td><button class="btn small" onClick={() => stopForward(f.id)}>Stop</button></td>
              </tr>
            ))}
          </tbody>
        </table>
      )}
    </div>
  );
}
