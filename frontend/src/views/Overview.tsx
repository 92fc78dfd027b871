// The cluster at a glance: nodes, pods by state, workloads that are not available, warnings.
import type { ComponentChildren } from 'preact';
import { ClusterChip } from '../clusterchip';
import { DoctorPanel } from './Doctor';
import { age, nodeReady, podRestarts, podStatus, statusTone } from '../format';
import { builtinKind, findBuiltinByKind, Status } from '../kinds';
import { clusters, namespaceFilter, namespaceFor } from '../state/clusters';
import { useList } from '../state/lists';
import { detailUrl, listUrl } from '../state/router';
import { now, useValue } from '../state/value';


function Tile({ title, href, value, sub, tone }: { title: string; href: string; value: ComponentChildren; sub?: ComponentChildren; tone?: string }) {
  return (
    <a class={`tile ${tone ? `tile-${tone}` : ''}`} href={href}>
      <div class="tile-title">{title}</div>
      <div class="tile-value">{value}</div>
      {sub && <div class="tile-sub">{sub}</div>}
    </a>
  );
}

export function Overview({ cluster }: { cluster: string }) {
  useValue(namespaceFilter);
  const t = useValue(now);
  const ns = namespaceFor(cluster);
  const info = useValue(clusters)?.find((c) => c.name === cluster);
  const nodes = useList(cluster, builtinKind('nodes'), null, false);
  const pods = useList(cluster, builtinKind('pods'), ns, false);
  const deps = useList(cluster, builtinKind('deployments'), ns, false);
  const events = useList(cluster, builtinKind('events'), ns, false);

  const readyNodes = nodes.items.filter((n) => nodeReady(n).startsWith('Ready')).length;
  const byState = new Map<string, number>();
  for (const p of pods.items) {
    const s = podStatus(p);
    byState.set(s, (byState.get(s) ?? 0) + 1);
  }
  const troubled = pods.items
    .filter((p) => statusTone(podStatus(p)) !== 'ok' || podRestarts(p) > 5)
    .sort((a, b) => podRestarts(b) - podRestarts(a))
    .slice(0, 12);
  const unavailable = deps.items.filter((d) => (d.status?.readyReplicas ?? 0) < (d.spec?.replicas ?? 1));
  const warnings = events.items
    .filter((e) => e.type === 'Warning')
    .sort((a, b) => Date.parse(b.lastTimestamp ?? b.eventTime ?? b.metadata.creationTimestamp ?? '0') - Date.parse(a.lastTimestamp ?? a.eventTime ?? a.metadata.creationTimestamp ?? '0'))
    .slice(0, 10);
  const running = byState.get('Running') ?? 0;

  return (
    <div class="page overview-page">
      <div class="page-head">
        <h1><ClusterChip name={cluster} /></h1>
        {info && <span class="kind-tag">{info.profile}{info.version ? ` · ${info.version}` : ''}</span>}
        <span class="muted small">{ns ? `namespace ${ns}` : 'all namespaces'}</span>
      </div>
      {(nodes.error || pods.error) && <div class="alert bad" role="alert">{nodes.error || pods.error}</div>}
      <div class="tiles">
        <Tile title="Nodes" href={listUrl(cluster, 'nodes')} value={nodes.loaded ? `${readyNodes}/${nodes.items.length}` : '…'} sub="ready" tone={nodes.loaded && readyNodes < nodes.items.length ? 'bad' : 'ok'} />
        <Tile title="Pods" href={listUrl(cluster, 'pods')} value={pods.loaded ? `${running}/${pods.items.length}` : '…'} sub="running" tone={troubled.length ? 'warn' : 'ok'} />
        <Tile title="Deployments" href={listUrl(cluster, 'deployments')} value={deps.loaded ? `${deps.items.length - unavailable.length}/${deps.items.length}` : '…'} sub="available" tone={unavailable.length ? 'bad' : 'ok'} />
        <Tile title="Warnings" href={listUrl(cluster, 'events')} value={events.loaded ? String(events.items.filter((e) => e.type === 'Warning').length) : '…'} sub="events" tone={warnings.length ? 'warn' : 'ok'} />
      </div>
      {pods.loaded && byState.size > 0 && (
        <div class="state-bar" title="Pods by state">
          {[...byState.entries()].sort((a, b) => b[1] - a[1]).map(([s, n]) => (
            <span class={`state-seg bg-${statusTone(s)}`} style={{ flex: n }} title={`${s}: ${n}`} />
          ))}
        </div>
      )}
      {pods.loaded && (
        <div class="chips state-legend">
          {[...byState.entries()].sort((a, b) => b[1] - a[1]).map(([s, n]) => <span class="legend"><Status text={s} /> {n}</span>)}
        </div>
      )}
      <div class="cols">
        <section class="card">
          <div class="card-head"><h3>Pods needing attention</h3></div>
          <div class="card-body">
            {troubled.length === 0 ? <span class="muted">{pods.loaded ? 'All pods are fine.' : 'Loading…'}</span> : (
              <table class="table compact">
                <tbody>
                  {troubled.map((p) => (
                    <tr>
                      <td><a href={detailUrl(cluster, 'pods', p.metadata.namespace, p.metadata.name)}>{p.metadata.name}</a> <span class="muted small">{p.metadata.namespace}</span></td>
                      <td><Status text={podStatus(p)} /></td>
                      <td class="right">{podRestarts(p)} restarts</td>
                    </tr>
                  ))}
                </tbody>
              </table>
            )}
          </div>
        </section>
        <section class="card">
          <div class="card-head"><h3>Recent warnings</h3></div>
          <div class="card-body">
            {warnings.length === 0 ? <span class="muted">{events.loaded ? 'No warning events.' : 'Loading…'}</span> : (
              <table class="table compact">
                <tbody>
                  {warnings.map((e) => {
                    const k = findBuiltinByKind(e.involvedObject?.kind);
                    const name = `${e.involvedObject?.kind ?? ''}/${e.involvedObject?.name ?? ''}`;
                    return (
                      <tr>
                        <td class="nowrap">{age(e.lastTimestamp ?? e.eventTime ?? e.metadata.creationTimestamp, t)}</td>
                        <td>{e.reason}</td>
                        <td>{k ? <a href={detailUrl(cluster, k.id, e.involvedObject?.namespace, e.involvedObject?.name)}>{name}</a> : name}</td>
                        <td class="wrap small">{e.message}</td>
                      </tr>
                    );
                  })}
                </tbody>
              </table>
            )}
          </div>
        </section>
      </div>
      <DoctorPanel cluster={cluster} />
    </div>
  );
}
