// The confirmations of a detail page: delete, scale, rollout restart.
import { useState } from 'preact/hooks';
import type { ComponentChildren } from 'preact';
import { clusterJson, errorText, type KubeObject } from '../../api/client';
import { objectPath, type KindDef } from '../../kinds';
import { listUrl, navigate } from '../../state/router';
import { toast } from '../../state/toasts';

export function Dialog({ title, children, close }: { title: string; children: ComponentChildren; close: () => void }) {
  return (
    <div class="overlay" onClick={close}>
      <div class="dialog" role="dialog" aria-label={title} onClick={(e) => e.stopPropagation()}>
        <h3>{title}</h3>
        {children}
      </div>
    </div>
  );
}

export function DeleteDialog({ cluster, kind, obj, close }: { cluster: string; kind: KindDef; obj: KubeObject; close: () => void }) {
  const [busy, setBusy] = useState(false);
  const [err, setErr] = useState('');
  return (
    <Dialog title={`Delete ${kind.kind.toLowerCase()} ${obj.metadata.name}?`} close={close}>
      <p>This deletes <b>{obj.metadata.name}</b>{obj.metadata.namespace ? <> in namespace <b>{obj.metadata.namespace}</b></> : null} on cluster <b>{cluster}</b>.</p>
      {err && <div class="alert bad">{err}</div>}
      <div class="dialog-actions">
        <button class="btn" onClick={close}>Cancel</button>
        <button
          class="btn danger"
          data-testid="confirm-delete"
          disabled={busy}
          onClick={async () => {
            setBusy(true);
            try {
              await clusterJson(cluster, objectPath(kind, obj.metadata.namespace, obj.metadata.name), { method: 'DELETE' });
              toast(`${kind.kind} ${obj.metadata.name} deleted`, 'ok');
              close();
              navigate(listUrl(cluster, kind.id));
            } catch (e) {
              setErr(errorText(e));
              setBusy(false);
            }
          }}
        >
          Delete
        </button>
      </div>
    </Dialog>
  );
}

export function ScaleDialog({ cluster, kind, obj, close }: { cluster: string; kind: KindDef; obj: KubeObject; close: () => void }) {
  const [n, setN] = useState(String(obj.spec?.replicas ?? 1));
  const [err, setErr] = useState('');
  const submit = async (e: Event) => {
    e.preventDefault();
    const v = parseInt(n, 10);
    if (!(v >= 0)) return setErr('Replicas must be a whole number ≥ 0');
    try {
      await clusterJson(cluster, `${objectPath(kind, obj.metadata.namespace, obj.metadata.name)}/scale`, {
        method: 'PATCH',
        headers: { 'Content-Type': 'application/merge-patch+json' },
        body: JSON.stringify({ spec: { replicas: v } }),
      });
      toast(`${obj.metadata.name} scaled to ${v}`, 'ok');
      close();
    } catch (x) {
      setErr(errorText(x));
    }
  };
  return (
    <Dialog title={`Scale ${obj.metadata.name}`} close={close}>
      <form onSubmit={submit}>
        <label class="field"><span>Replicas</span><input type="number" min={0} value={n} autoFocus onInput={(e) => setN((e.target as HTMLInputElement).value)} data-testid="scale-input" /></label>
        {err && <div class="alert bad">{err}</div>}
        <div class="dialog-actions"><button class="btn" type="button" onClick={close}>Cancel</button><button class="btn primary" type="submit" data-testid="scale-submit">Scale</button></div>
      </form>
    </Dialog>
  );
}

export function RestartDialog({ cluster, kind, obj, close }: { cluster: string; kind: KindDef; obj: KubeObject; close: () => void }) {
  const [err, setErr] = useState('');
  return (
    <Dialog title={`Restart ${obj.metadata.name}?`} close={close}>
      <p>A rollout restart replaces the pods one by one (like <code>kubectl rollout restart</code>).</p>
      {err && <div class="alert bad">{err}</div>}
      <div class="dialog-actions">
        <button class="btn" onClick={close}>Cancel</button>
        <button
          class="btn primary"
          data-testid="confirm-restart"
          onClick={async () => {
            try {
              await clusterJson(cluster, objectPath(kind, obj.metadata.namespace, obj.metadata.name), {
                method: 'PATCH',
                headers: { 'Content-Type': 'application/strategic-merge-patch+json' },
                body: JSON.stringify({ spec: { template: { metadata: { annotations: { 'kubectl.kubernetes.io/restartedAt': new Date().toISOString() } } } } }),
              });
              toast(`${obj.metadata.name} restarting`, 'ok');
              close();
            } catch (x) {
              setErr(errorText(x));
            }
          }}
        >
          Restart
        </button>
      </div>
    </Dialog>
  );
}
