// What an object relates to (owners, pods, services, nodes, jobs) and its events.
import type { ComponentChildren } from 'preact';
import type { KubeObject } from '../../api/client';
import { age, labelsMatch, podRestarts, podStatus } from '../../format';
import { builtinKind, findBuiltinByKind, Status, type KindDef } from '../../kinds';
import { useList } from '../../state/lists';
import { now, useValue } from '../../state/value';
import { ObjLink, Section } from './parts';

export function Related({ cluster, kind, obj }: { cluster: string; kind: KindDef; obj: KubeObject }) {
  const ns = obj.metadata.namespace ?? null;
  const isPod = kind.id === 'pods';
  const podsWanted = kind.hasPods || kind.id === 'services';
  const pods = useList(podsWanted ? cluster : null, builtinKind('pods'), ns, kind.hasPods === true);
  const services = useList(isPod ? cluster : null, builtinKind('services'), ns, false);
  const rsets = useList(isPod || kind.id === 'deployments' ? cluster : null, builtinKind('replicasets'), ns, false);
  const nodePods = useList(kind.id === 'nodes' ? cluster : null, builtinKind('pods'), null, false);
  const jobs = useList(kind.id === 'cronjobs' ? cluster : null, builtinKind('jobs'), ns, false);
  const rows: { kind: string; kindId: string; name: string; ns: string | null; note?: ComponentChildren }[] = [];
  if (kind.id === 'nodes') {
    for (const p of nodePods.items) {
      if (p.spec?.nodeName === obj.metadata.name) rows.push({ kind: 'Pod', kindId: 'pods', name: p.metadata.name, ns: p.metadata.namespace ?? null, note: <><Status text={podStatus(p)} /> <span class="muted small">{p.metadata.namespace}</span></> });
    }
  }
  if (kind.id === 'cronjobs') {
    for (const j of jobs.items) if ((j.metadata.ownerReferences ?? []).some((o) => o.uid === obj.metadata.uid)) rows.push({ kind: 'Job', kindId: 'jobs', name: j.metadata.name, ns, note: `${j.status?.succeeded ?? 0} succeeded` });
  }
  if (kind.id === 'ingresses') {
    const names = new Set<string>();
    if (obj.spec?.defaultBackend?.service?.name) names.add(obj.spec.defaultBackend.service.name);
    for (const r of (obj.spec?.rules ?? []) as any[]) for (const p of (r.http?.paths ?? []) as any[]) if (p.backend?.service?.name) names.add(p.backend.service.name);
    for (const n of names) rows.push({ kind: 'Service', kindId: 'services', name: n, ns, note: 'backend' });
  }

  if (isPod) {
    for (const o of obj.metadata.ownerReferences ?? []) {
      const k = findBuiltinByKind(o.kind);
      if (!k) continue;
      rows.push({ kind: o.kind, kindId: k.id, name: o.name, ns, note: 'owner' });
      if (o.kind === 'ReplicaSet') {
        const rs = rsets.cache?.get(ns, o.name);
        for (const oo of rs?.metadata.ownerReferences ?? []) {
          const kk = findBuiltinByKind(oo.kind);
          if (kk) rows.push({ kind: oo.kind, kindId: kk.id, name: oo.name, ns, note: 'owner of the ReplicaSet' });
        }
      }
    }
    if (obj.spec?.nodeName) rows.push({ kind: 'Node', kindId: 'nodes', name: obj.spec.nodeName, ns: null, note: 'runs on' });
    for (const s of services.items) if (labelsMatch(s.spec?.selector, obj.metadata.labels)) rows.push({ kind: 'Service', kindId: 'services', name: s.metadata.name, ns, note: 'selects this pod' });
  }
  if (kind.id === 'deployments') {
    for (const rs of rsets.items) if ((rs.metadata.ownerReferences ?? []).some((o) => o.uid === obj.metadata.uid)) rows.push({ kind: 'ReplicaSet', kindId: 'replicasets', name: rs.metadata.name, ns, note: `${rs.status?.readyReplicas ?? 0}/${rs.spec?.replicas ?? 0} ready` });
  }
  if (podsWanted) {
    const sel = kind.id === 'services' ? obj.spec?.selector : obj.spec?.selector?.matchLabels;
    for (const p of pods.items) {
      if (labelsMatch(sel, p.metadata.labels)) {
        const st = podStatus(p);
        rows.push({ kind: 'Pod', kindId: 'pods', name: p.metadata.name, ns, note: <><Status text={st} /> <span class="muted small">{podRestarts(p)} restarts</span></> });
      }
    }
  }
  if (!rows.length) return null;
  return (
    <Section title="Related">
      <table class="table compact related">
        <tbody>
          {rows.map((r) => (
            <tr><td class="kind-col"><span class="kind-tag">{r.kind}</span></td><td><ObjLink cluster={cluster} kindId={r.kindId} ns={r.ns} name={r.name} /></td><td>{r.note}</td></tr>
          ))}
        </tbody>
      </table>
    </Section>
  );
}

export function ObjectEvents({ cluster, kind, obj }: { cluster: string; kind: KindDef; obj: KubeObject }) {
  const t = useValue(now);
  const ev = useList(kind.id === 'events' ? null : cluster, builtinKind('events'), obj.metadata.namespace ?? null, false);
  if (kind.id === 'events') return null;
  const mine = ev.items
    .filter((e) => (e.involvedObject?.uid && e.involvedObject.uid === obj.metadata.uid) || (e.involvedObject?.kind === kind.kind && e.involvedObject?.name === obj.metadata.name))
    .sort((a, b) => Date.parse(b.lastTimestamp ?? b.eventTime ?? b.metadata.creationTimestamp ?? '0') - Date.parse(a.lastTimestamp ?? a.eventTime ?? a.metadata.creationTimestamp ?? '0'));
  return (
    <Section title={`Events (${mine.length})`}>
      {mine.length === 0 ? (
        <span class="muted">{ev.loaded ? 'No events for this object.' : 'Loading…'}</span>
      ) : (
        <table class="table compact">
          <thead><tr><th>Type</th><th>Reason</th><th>Age</th><th>Count</th><th>Message</th></tr></thead>
          <tbody>{mine.map((e) => <tr><td><Status text={e.type ?? 'Normal'} /></td><td>{e.reason}</td><td>{age(e.lastTimestamp ?? e.eventTime ?? e.metadata.creationTimestamp, t)}</td><td>{e.count ?? 1}</td><td class="wrap">{e.message}</td></tr>)}</tbody>
        </table>
      )}
    </Section>
  );
}

// ------------------------------------------------------------------ dialogs
