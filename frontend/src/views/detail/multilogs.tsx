// "Logs across clusters" on a workload's page: pick the clusters that have the same workload
// (namespace + kind + name) and open one merged pane (streams/multicluster.ts).
import { useEffect, useState } from 'preact/hooks';
import { clusterJson, errorText, type KubeList, type KubeObject } from '../../api/client';
import { clusterColour } from '../../clustercolour';
import { type KindDef } from '../../kinds';
import { blocked, clusters } from '../../state/clusters';
import { useValue } from '../../state/value';
import { Icon } from '../../icons';
import { openMultiClusterLogs, type WorkloadRef } from '../../streams/multicluster';
import { Dialog } from './dialogs';

type Presence = 'checking' | 'found' | 'absent' | string;

function workloadOf(kind: KindDef, obj: KubeObject): WorkloadRef {
  return {
    namespace: obj.metadata.namespace ?? '',
    kind: kind.kind,
    apiBase: kind.group ? `/apis/${kind.group}/${kind.version}` : `/api/${kind.version}`,
    resource: kind.resource,
    name: obj.metadata.name,
  };
}

/** Whether `cluster` has the workload: a list by name (no 404 to show up as an error). */
async function presence(cluster: string, w: WorkloadRef): Promise<Presence> {
  try {
    const q = new URLSearchParams({ fieldSelector: `metadata.name=${w.name}` });
    const list = await clusterJson<KubeList>(cluster, `${w.apiBase}/namespaces/${encodeURIComponent(w.namespace)}/${w.resource}?${q}`);
    return list.items.some((o) => o.metadata.name === w.name) ? 'found' : 'absent';
  } catch (e) {
    return errorText(e);
  }
}

function PickDialog({ cluster, w, close }: { cluster: string; w: WorkloadRef; close: () => void }) {
  const all = (useValue(clusters) ?? []).filter((c) => !blocked(c)).map((c) => c.name);
  const names = [cluster, ...all.filter((n) => n !== cluster)];
  const [found, setFound] = useState<Record<string, Presence>>({ [cluster]: 'found' });
  const [picked, setPicked] = useState<Set<string>>(new Set([cluster]));
  useEffect(() => {
    let alive = true;
    for (const n of names) {
      if (n === cluster) continue;
      setFound((f) => ({ ...f, [n]: 'checking' }));
      void presence(n, w).then((p) => {
        if (!alive) return;
        setFound((f) => ({ ...f, [n]: p }));
        if (p === 'found') setPicked((s) => new Set([...s, n]));
      });
    }
    return () => {
      alive = false;
    };
  }, [names.join('\n')]);
  const toggle = (n: string) => setPicked((s) => {
    const next = new Set(s);
    if (next.has(n)) next.delete(n);
    else next.add(n);
    return next;
  });
  const chosen = names.filter((n) => picked.has(n));
  return (
    <Dialog title={`Logs of ${w.kind.toLowerCase()}/${w.name} across clusters`} close={close}>
      <p class="muted small">Namespace <b>{w.namespace}</b>. Lines from every chosen cluster are merged by time, each with its cluster's chip; pods that start or go away join or leave as they do.</p>
      <ul class="multi-clusters" data-testid="multi-clusters">
        {names.map((n) => {
          const p = found[n] ?? 'checking';
          return (
            <li>
              <label>
                <input type="checkbox" checked={picked.has(n)} disabled={p !== 'found'} onChange={() => toggle(n)} aria-label={`cluster ${n}`} />
                <span class="kl-chip" style={{ background: clusterColour(n) }}>{n}</span>
                <span class="muted small">{p === 'found' ? '' : p === 'checking' ? 'checking…' : p === 'absent' ? `no ${w.kind.toLowerCase()} ${w.name} here` : p}</span>
              </label>
            </li>
          );
        })}
      </ul>
      <div class="dialog-actions">
        <button class="btn" onClick={close}>Cancel</button>
        <button
          class="btn primary"
          data-testid="open-multi-logs"
          disabled={chosen.length < 2}
          onClick={() => {
            openMultiClusterLogs(chosen, w);
            close();
          }}
        >
          Open merged logs ({chosen.length})
        </button>
      </div>
    </Dialog>
  );
}

/** The button, shown when kubelantern serves more than one cluster. */
export function MultiClusterLogsButton({ cluster, kind, obj }: { cluster: string; kind: KindDef; obj: KubeObject }) {
  const list = useValue(clusters) ?? [];
  const [open, setOpen] = useState(false);
  if (list.length < 2 || !obj.metadata.namespace) return null;
  return (
    <>
      <button class="btn" data-testid="action-multi-logs" onClick={() => setOpen(true)} title="The same workload in several clusters, one merged log">
        <Icon name="logs" /> Logs across clusters
      </button>
      {open && <PickDialog cluster={cluster} w={workloadOf(kind, obj)} close={() => setOpen(false)} />}
    </>
  );
}
