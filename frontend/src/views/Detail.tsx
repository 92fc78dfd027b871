// One object: metadata, status, containers, related objects, events, YAML, and the actions the
// user is allowed (SelfSubjectAccessReview) — logs, shell, scale, restart, delete.
import { useEffect, useState } from 'preact/hooks';
import { type KubeObject } from '../api/client';
import { ClusterChip } from '../clusterchip';
import { age, labelsMatch, nodeReady, podReady, podRestarts, podStatus } from '../format';
import { builtinKind, findBuiltinByKind, Status, type KindDef } from '../kinds';
import { onEscape } from '../keys';
import { canI } from '../state/access';
import { crdKinds, kindById, kindSettled } from '../state/discovery';
import { useList } from '../state/lists';
import { listUrl, mayLeave } from '../state/router';
import { now, useValue } from '../state/value';
import { Icon } from '../icons';
import { openPodLogs, openShell, openWorkloadLogs, selectorString } from '../streams-bridge';
import { lazyComponent } from '../lazy';
import { DeleteDialog, RestartDialog, ScaleDialog } from './detail/dialogs';
import { Breadcrumb, Chips, ObjLink, Section } from './detail/parts';
import { DataSection, PodContainers, ServicePorts, TemplateContainers } from './detail/sections';
import { ObjectEvents, Related } from './detail/related';
import { NodeUsage } from '../usage/NodeUsage';
import { MultiClusterLogsButton } from './detail/multilogs';

// CodeMirror and the YAML library come with the YAML tab, not with the first screen.
const YamlPanel = lazyComponent('YAML editor', () => import('./Yaml').then((m) => m.YamlPanel));

function useAllowed(cluster: string, kind: KindDef | undefined, ns: string | null, name: string) {
  const [perm, setPerm] = useState<Record<string, boolean>>({});
  useEffect(() => {
    if (!kind) return;
    const base = { group: kind.group, resource: kind.resource, namespace: ns, name };
    const checks: [string, Parameters<typeof canI>[1]][] = [
      ['update', { ...base, verb: 'update' }],
      ['patch', { ...base, verb: 'patch' }],
      ['delete', { ...base, verb: 'delete' }],
      ['scale', { ...base, verb: 'update', subresource: 'scale' }],
      ['logs', { group: '', resource: 'pods', subresource: 'log', namespace: ns, verb: 'get' }],
      ['exec', { group: '', resource: 'pods', subresource: 'exec', namespace: ns, verb: 'create' }],
      ['forward', { group: '', resource: 'pods', subresource: 'portforward', namespace: ns, verb: 'create' }],
    ];
    let alive = true;
    Promise.all(checks.map(([k, a]) => canI(cluster, a).then((v) => [k, v] as const))).then((r) => {
      if (alive) setPerm(Object.fromEntries(r));
    });
    return () => {
      alive = false;
    };
  }, [cluster, kind?.id, ns, name]);
  return perm;
}

export function Detail({ cluster, kindId, namespace, name }: { cluster: string; kindId: string; namespace: string | null; name: string }) {
  useValue(crdKinds);
  const kind = kindById(cluster, kindId);
  const { cache, loaded, error } = useList(cluster, kind, kind?.namespaced ? namespace : null);
  const [tab, setTab] = useState<'overview' | 'yaml'>(location.hash === '#yaml' ? 'yaml' : 'overview');
  const [dialog, setDialog] = useState<null | 'delete' | 'scale' | 'restart'>(null);
  const [editNow, setEditNow] = useState(false);
  const perm = useAllowed(cluster, kind, namespace, name);
  useValue(now);
  const obj = cache?.get(kind?.namespaced ? namespace : null, name);
  const podList = useList(kind?.hasPods ? cluster : null, builtinKind('pods'), namespace);
  const wlSel: Record<string, string> | undefined = obj?.spec?.selector?.matchLabels;
  const workloadPods = kind?.hasPods && wlSel ? podList.items.filter((p) => labelsMatch(wlSel, p.metadata.labels)) : [];

  useEffect(() => onEscape(() => (dialog ? (setDialog(null), true) : false)), [dialog]);

  if (!kind) {
    return kindSettled(cluster, kindId) ? (
      <div class="empty big"><h2>Unknown kind “{kindId}”</h2><p class="muted">The cluster's discovery does not list it.</p></div>
    ) : (
      <div class="empty">Loading kind {kindId}…</div>
    );
  }
  if (!obj) {
    return (
      <div class="page">
        <Breadcrumb cluster={cluster} kind={kind} namespace={namespace} name={name} />
        {error ? <div class="alert bad">{error}</div> : loaded ? <div class="empty big"><h2>{kind.kind} {name} not found</h2><p class="muted">It may have been deleted.</p><a href={listUrl(cluster, kind.id)}>Back to {kind.label}</a></div> : <div class="empty">Loading…</div>}
      </div>
    );
  }

  const isPod = kind.id === 'pods';
  const status = isPod ? podStatus(obj) : kind.id === 'nodes' ? nodeReady(obj) : obj.status?.phase;
  const selector: Record<string, string> | undefined = obj.spec?.selector?.matchLabels ?? (kind.id === 'services' ? obj.spec?.selector : undefined);
  const ns = obj.metadata.namespace ?? '';

  const switchTab = (t: 'overview' | 'yaml') => {
    if (t !== tab && !mayLeave()) return; // the YAML editor may hold unsaved edits
    setTab(t);
    history.replaceState(null, '', t === 'yaml' ? '#yaml' : location.pathname + location.search);
  };

  return (
    <div class="page detail">
      <Breadcrumb cluster={cluster} kind={kind} namespace={namespace} name={name} />
      <div class="page-head">
        <ClusterChip name={cluster} />
        <h1 class="obj-title">{obj.metadata.name}</h1>
        <span class="kind-tag">{kind.kind}</span>
        {status && <Status text={status} />}
        <span class="spacer" />
        <div class="actions">
          {isPod && perm.logs === true && (
            <button class="btn" data-testid="action-logs" onClick={() => openPodLogs(cluster, obj)}>
              <Icon name="logs" /> Logs
            </button>
          )}
          {isPod && perm.exec === true && (
            <button class="btn" data-testid="action-shell" disabled={status !== 'Running'} onClick={() => openShell(cluster, obj)}>
              <Icon name="terminal" /> Shell
            </button>
          )}
          {kind.hasPods && selector && perm.logs === true && (
            <button class="btn" data-testid="action-workload-logs" disabled={!workloadPods.length || !selectorString(obj.spec?.selector)} onClick={() => openWorkloadLogs(cluster, ns, `${kind.kind.toLowerCase()}/${obj.metadata.name}`, selectorString(obj.spec?.selector)!, workloadPods)}>
              <Icon name="logs" /> Logs of all pods
            </button>
          )}
          {kind.hasPods && selector && perm.logs === true && <MultiClusterLogsButton cluster={cluster} kind={kind} obj={obj} />}
          {kind.scalable && perm.scale === true && <button class="btn" data-testid="action-scale" onClick={() => setDialog('scale')}><Icon name="scale" /> Scale</button>}
          {kind.restartable && perm.patch === true && <button class="btn" data-testid="action-restart" onClick={() => setDialog('restart')}><Icon name="restart" /> Restart</button>}
          {perm.update === true && tab !== 'yaml' && <button class="btn" data-testid="action-edit" onClick={() => { setEditNow(true); switchTab('yaml'); }}><Icon name="edit" /> Edit</button>}
          {perm.delete === true && <button class="btn danger" data-testid="action-delete" onClick={() => setDialog('delete')}><Icon name="trash" /> Delete</button>}
        </div>
      </div>
      <div class="tabs" role="tablist">
        <button role="tab" aria-selected={tab === 'overview'} class={tab === 'overview' ? 'active' : ''} onClick={() => { setEditNow(false); switchTab('overview'); }}>Overview</button>
        <button role="tab" aria-selected={tab === 'yaml'} class={tab === 'yaml' ? 'active' : ''} data-testid="tab-yaml" onClick={() => switchTab('yaml')}>YAML</button>
      </div>
      {tab === 'yaml' ? (
        <YamlPanel cluster={cluster} kind={kind} obj={obj} canEdit={perm.update === true} startEditing={editNow} />
      ) : (
        <Overview cluster={cluster} kind={kind} obj={obj} perm={perm} />
      )}
      {dialog === 'delete' && <DeleteDialog cluster={cluster} kind={kind} obj={obj} close={() => setDialog(null)} />}
      {dialog === 'scale' && <ScaleDialog cluster={cluster} kind={kind} obj={obj} close={() => setDialog(null)} />}
      {dialog === 'restart' && <RestartDialog cluster={cluster} kind={kind} obj={obj} close={() => setDialog(null)} />}
    </div>
  );
}

function Overview({ cluster, kind, obj, perm }: { cluster: string; kind: KindDef; obj: KubeObject; perm: Record<string, boolean> }) {
  const t = useValue(now);
  const m = obj.metadata;
  const conditions: any[] = obj.status?.conditions ?? [];
  const owners = m.ownerReferences ?? [];
  return (
    <div class="overview">
      <div class="cols">
        <Section title="Metadata">
          <dl class="kv">
            <dt>Name</dt><dd class="mono">{m.name}</dd>
            {m.namespace && <><dt>Namespace</dt><dd><ObjLink cluster={cluster} kindId="namespaces" name={m.namespace} /></dd></>}
            <dt>Created</dt><dd title={m.creationTimestamp}>{age(m.creationTimestamp, t)} ago <span class="muted small">({m.creationTimestamp})</span></dd>
            <dt>UID</dt><dd class="mono small">{m.uid}</dd>
            {owners.length > 0 && (
              <><dt>Owners</dt><dd>{owners.map((o) => { const k = findBuiltinByKind(o.kind); return <span class="owner">{o.kind}/{k ? <ObjLink cluster={cluster} kindId={k.id} ns={m.namespace} name={o.name} /> : o.name} </span>; })}</dd></>
            )}
            <Specifics cluster={cluster} kind={kind} obj={obj} />
          </dl>
        </Section>
        <Section title="Labels & annotations">
          <div class="sub-title">Labels</div>
          <Chips map={m.labels} />
          <div class="sub-title">Annotations</div>
          <Chips map={m.annotations} />
        </Section>
      </div>
      {kind.id === 'pods' && <PodContainers cluster={cluster} pod={obj} perm={perm} />}
      {kind.id === 'nodes' && <NodeUsage cluster={cluster} node={obj} />}
      {conditions.length > 0 && (
        <Section title="Conditions">
          <table class="table compact">
            <thead><tr><th>Type</th><th>Status</th><th>Reason</th><th>Message</th><th>Last transition</th></tr></thead>
            <tbody>{conditions.map((c) => <tr><td>{c.type}</td><td><span class={`tone-${conditionTone(c.type, c.status)}`}>{c.status}</span></td><td>{c.reason}</td><td class="wrap">{c.message}</td><td>{age(c.lastTransitionTime, t)}</td></tr>)}</tbody>
          </table>
        </Section>
      )}
      {obj.spec?.template?.spec?.containers && <TemplateContainers spec={obj.spec.template.spec} />}
      {kind.id === 'services' && <ServicePorts cluster={cluster} svc={obj} perm={perm} />}
      {(kind.id === 'configmaps' || kind.id === 'secrets') && <DataSection kind={kind} obj={obj} />}
      <Related cluster={cluster} kind={kind} obj={obj} />
      <ObjectEvents cluster={cluster} kind={kind} obj={obj} />
    </div>
  );
}

function Specifics({ cluster, kind, obj }: { cluster: string; kind: KindDef; obj: KubeObject }) {
  const s = obj.spec ?? {};
  const st = obj.status ?? {};
  if (kind.id === 'pods') {
    const [r, tot] = podReady(obj);
    return (
      <>
        <dt>Node</dt><dd>{s.nodeName ? <ObjLink cluster={cluster} kindId="nodes" name={s.nodeName} /> : <span class="muted">not scheduled</span>}</dd>
        <dt>Pod IP</dt><dd class="mono">{st.podIP ?? '—'}</dd>
        <dt>Ready</dt><dd>{r}/{tot}</dd>
        <dt>Restarts</dt><dd>{podRestarts(obj)}</dd>
        <dt>QoS</dt><dd>{st.qosClass ?? '—'}</dd>
        {s.serviceAccountName && <><dt>Service account</dt><dd>{s.serviceAccountName}</dd></>}
      </>
    );
  }
  if (kind.scalable) {
    return (
      <>
        <dt>Replicas</dt><dd data-testid="replicas">{st.readyReplicas ?? 0} ready / {s.replicas ?? 0} desired</dd>
        {s.strategy?.type && <><dt>Strategy</dt><dd>{s.strategy.type}</dd></>}
        {s.selector?.matchLabels && <><dt>Selector</dt><dd><Chips map={s.selector.matchLabels} /></dd></>}
      </>
    );
  }
  if (kind.id === 'services') {
    return (
      <>
        <dt>Type</dt><dd>{s.type}</dd>
        <dt>Cluster IP</dt><dd class="mono">{s.clusterIP}</dd>
        <dt>Selector</dt><dd><Chips map={s.selector} /></dd>
      </>
    );
  }
  if (kind.id === 'nodes') {
    const ni = st.nodeInfo ?? {};
    return (
      <>
        <dt>Kubelet</dt><dd>{ni.kubeletVersion}</dd>
        <dt>OS image</dt><dd>{ni.osImage}</dd>
        <dt>Runtime</dt><dd>{ni.containerRuntimeVersion}</dd>
        <dt>Capacity</dt><dd>{Object.entries(st.capacity ?? {}).map(([k, v]) => `${k}: ${v}`).join(', ')}</dd>
      </>
    );
  }
  if (kind.id === 'ingresses') {
    const rules: any[] = s.rules ?? [];
    return (
      <>
        {s.ingressClassName && <><dt>Class</dt><dd>{s.ingressClassName}</dd></>}
        <dt>Rules</dt>
        <dd>
          {rules.flatMap((r) =>
            ((r.http?.paths ?? []) as any[]).map((p) => (
              <div class="mono small">
                {r.host ?? '*'}{p.path ?? '/'} → {p.backend?.service ? <ObjLink cluster={cluster} kindId="services" ns={obj.metadata.namespace} name={p.backend.service.name} /> : '?'}
                {p.backend?.service?.port ? `:${p.backend.service.port.number ?? p.backend.service.port.name}` : ''}
              </div>
            )),
          )}
        </dd>
        {(s.tls ?? []).length > 0 && <><dt>TLS</dt><dd class="mono small">{(s.tls as any[]).map((t) => `${(t.hosts ?? []).join(', ')} (${t.secretName ?? ''})`).join('; ')}</dd></>}
      </>
    );
  }
  if (kind.id === 'persistentvolumeclaims') {
    return (
      <>
        <dt>Status</dt><dd><Status text={st.phase ?? 'Unknown'} /></dd>
        <dt>Capacity</dt><dd>{st.capacity?.storage ?? s.resources?.requests?.storage ?? '—'}</dd>
        <dt>Access modes</dt><dd>{(s.accessModes ?? []).join(', ')}</dd>
        <dt>Storage class</dt><dd>{s.storageClassName ?? '—'}</dd>
        <dt>Volume</dt><dd class="mono">{s.volumeName ?? '—'}</dd>
      </>
    );
  }
  if (kind.id === 'events') {
    return (
      <>
        <dt>Type</dt><dd><Status text={obj.type ?? 'Normal'} /></dd>
        <dt>Reason</dt><dd>{obj.reason}</dd>
        <dt>Object</dt><dd>{obj.involvedObject?.kind}/{obj.involvedObject?.name}</dd>
        <dt>Message</dt><dd class="wrap">{obj.message}</dd>
        <dt>Count</dt><dd>{obj.count ?? 1}</dd>
      </>
    );
  }
  return null;
}

/** Most conditions are good when True; "pressure"-style ones are good when False. */
function conditionTone(type: string, status: string): string {
  const negative = /pressure|unavailable|failed|unschedulable/i.test(type);
  if (status === 'True') return negative ? 'bad' : 'ok';
  if (status === 'False') return negative ? 'ok' : /^(Ready|Available|ContainersReady)$/.test(type) ? 'bad' : 'warn';
  return 'muted';
}
