// One object: metadata, status, containers, related objects, events, YAML, and the actions the
// user is allowed (SelfSubjectAccessReview) — logs, shell, scale, restart, delete.
import { useEffect, useState } from 'preact/hooks';
import type { ComponentChildren } from 'preact';
import { clusterJson, errorText, type KubeObject } from '../api/client';
import { age, labelsMatch, nodeReady, podReady, podRestarts, podStatus, shortImage, statusTone } from '../format';
import { builtinKind, findBuiltinByKind, objectPath, Status, type KindDef } from '../kinds';
import { onEscape } from '../keys';
import { canI, crdKinds, detailUrl, kindById, kindSettled, listUrl, navigate, now, toast, useList, useValue } from '../state';
import { Icon } from '../icons';
import { openPodLogs, openShell, openWorkloadLogs } from '../streams-bridge';
import { lazyComponent } from '../lazy';
import { ForwardButton, forwardsAdvertised, refreshForwards } from './PortForwards';

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
    setTab(t);
    history.replaceState(null, '', t === 'yaml' ? '#yaml' : location.pathname);
  };

  return (
    <div class="page detail">
      <Breadcrumb cluster={cluster} kind={kind} namespace={namespace} name={name} />
      <div class="page-head">
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
            <button class="btn" data-testid="action-workload-logs" disabled={!workloadPods.length} onClick={() => openWorkloadLogs(cluster, ns, `${kind.kind.toLowerCase()}/${obj.metadata.name}`, workloadPods)}>
              <Icon name="logs" /> Logs of all pods
            </button>
          )}
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

function Breadcrumb({ cluster, kind, namespace, name }: { cluster: string; kind: KindDef; namespace: string | null; name: string }) {
  return (
    <div class="breadcrumb">
      <a href={listUrl(cluster, kind.id)}>{kind.label}</a>
      {namespace && <><span class="sep">/</span><span class="muted">{namespace}</span></>}
      <span class="sep">/</span>
      <span>{name}</span>
    </div>
  );
}

function Section({ title, children, right }: { title: string; children: ComponentChildren; right?: ComponentChildren }) {
  return (
    <section class="card">
      <div class="card-head"><h3>{title}</h3><span class="spacer" />{right}</div>
      <div class="card-body">{children}</div>
    </section>
  );
}

function Chips({ map }: { map: Record<string, string> | undefined }) {
  const e = Object.entries(map ?? {});
  if (!e.length) return <span class="muted">none</span>;
  return <div class="chips">{e.map(([k, v]) => <span class="chip" title={`${k}=${v}`}><span class="chip-k">{k}</span>{v !== '' && <span class="chip-v">{v.length > 80 ? `${v.slice(0, 80)}…` : v}</span>}</span>)}</div>;
}

function ObjLink({ cluster, kindId, ns, name }: { cluster: string; kindId: string; ns?: string | null; name: string }) {
  return <a href={detailUrl(cluster, kindId, ns ?? null, name)}>{name}</a>;
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

function containerState(s: any): [string, string] {
  if (!s) return ['Unknown', ''];
  if (s.running) return ['Running', s.running.startedAt ? `started ${age(s.running.startedAt)} ago` : ''];
  if (s.waiting) return [s.waiting.reason ?? 'Waiting', s.waiting.message ?? ''];
  if (s.terminated) return [s.terminated.reason ?? `Exit ${s.terminated.exitCode}`, `exit code ${s.terminated.exitCode}${s.terminated.message ? `: ${s.terminated.message}` : ''}`];
  return ['Unknown', ''];
}

function PodContainers({ cluster, pod, perm }: { cluster: string; pod: KubeObject; perm: Record<string, boolean> }) {
  const ns = pod.metadata.namespace!;
  const statuses = new Map<string, any>([...(pod.status?.initContainerStatuses ?? []), ...(pod.status?.containerStatuses ?? [])].map((c: any) => [c.name, c]));
  const all: [any, boolean][] = [...(pod.spec?.initContainers ?? []).map((c: any) => [c, true] as [any, boolean]), ...(pod.spec?.containers ?? []).map((c: any) => [c, false] as [any, boolean])];
  useEffect(() => {
    if (forwardsAdvertised()) refreshForwards();
  }, []);
  return (
    <Section title={`Containers (${all.length})`}>
      <div class="containers">
        {all.map(([c, init]) => {
          const cs = statuses.get(c.name);
          const [state, detail] = containerState(cs?.state);
          const last = cs?.lastState?.terminated;
          return (
            <div class="container-card" data-container={c.name}>
              <div class="container-head">
                <span class="cell-name">{c.name}</span>
                {init && <span class="kind-tag">init</span>}
                <Status text={state} />
                {cs?.ready && <span class="tone-ok small">ready</span>}
                <span class="spacer" />
                {perm.logs === true && <button class="btn tiny" onClick={() => openPodLogs(cluster, pod, c.name)}><Icon name="logs" size={12} /> Logs</button>}
                {perm.logs === true && (cs?.restartCount ?? 0) > 0 && <button class="btn tiny" data-testid="previous-logs" title="Logs of the previous (crashed) instance" onClick={() => openPodLogs(cluster, pod, c.name, true)}>Previous logs</button>}
                {!init && state === 'Running' && perm.exec === true && <button class="btn tiny" onClick={() => openShell(cluster, pod, c.name)}><Icon name="terminal" size={12} /> Shell</button>}
              </div>
              <dl class="kv">
                <dt>Image</dt><dd class="mono" title={c.image}>{shortImage(c.image ?? '')}</dd>
                {detail && <><dt>State</dt><dd class={`tone-${statusTone(state)}`}>{detail}</dd></>}
                <dt>Restarts</dt><dd>{cs?.restartCount ?? 0}{last ? <span class="muted"> · last: {last.reason} (exit {last.exitCode}) {age(last.finishedAt)} ago</span> : null}</dd>
                {(c.ports ?? []).length > 0 && (
                  <><dt>Ports</dt><dd>{(c.ports as any[]).map((p) => (
                    <div class="port-line"><span class="mono">{p.containerPort}/{p.protocol ?? 'TCP'}</span>{p.name && <span class="muted"> {p.name}</span>} {forwardsAdvertised() && perm.forward === true && <ForwardButton cluster={cluster} namespace={ns} pod={pod.metadata.name} port={p.containerPort} />}</div>
                  ))}</dd></>
                )}
                {(c.env ?? []).length > 0 && <><dt>Env</dt><dd class="mono small">{(c.env as any[]).map((e) => e.name).join(', ')}</dd></>}
                {c.command && <><dt>Command</dt><dd class="mono small">{[...(c.command ?? []), ...(c.args ?? [])].join(' ')}</dd></>}
              </dl>
            </div>
          );
        })}
      </div>
    </Section>
  );
}

function TemplateContainers({ spec }: { spec: any }) {
  return (
    <Section title="Pod template">
      <table class="table compact">
        <thead><tr><th>Container</th><th>Image</th><th>Ports</th><th>Env</th></tr></thead>
        <tbody>
          {[...(spec.initContainers ?? []), ...(spec.containers ?? [])].map((c: any) => (
            <tr><td>{c.name}</td><td class="mono">{shortImage(c.image ?? '')}</td><td>{(c.ports ?? []).map((p: any) => `${p.containerPort}/${p.protocol ?? 'TCP'}`).join(', ')}</td><td class="mono small">{(c.env ?? []).map((e: any) => e.name).join(', ')}</td></tr>
          ))}
        </tbody>
      </table>
    </Section>
  );
}

function ServicePorts({ cluster, svc, perm }: { cluster: string; svc: KubeObject; perm: Record<string, boolean> }) {
  useEffect(() => {
    if (forwardsAdvertised()) refreshForwards();
  }, []);
  return (
    <Section title="Ports">
      <table class="table compact">
        <thead><tr><th>Name</th><th>Port</th><th>Target</th><th>Node port</th><th>Protocol</th>{forwardsAdvertised() && <th>Forward</th>}</tr></thead>
        <tbody>
          {((svc.spec?.ports ?? []) as any[]).map((p) => (
            <tr><td>{p.name ?? ''}</td><td class="mono">{p.port}</td><td class="mono">{p.targetPort}</td><td>{p.nodePort ?? ''}</td><td>{p.protocol ?? 'TCP'}</td>
              {forwardsAdvertised() && <td>{perm.forward === true && <ForwardButton cluster={cluster} namespace={svc.metadata.namespace!} service={svc.metadata.name} port={p.port} />}</td>}</tr>
          ))}
        </tbody>
      </table>
    </Section>
  );
}

function decodeB64(v: string): string {
  try {
    const bytes = Uint8Array.from(atob(v), (c) => c.charCodeAt(0));
    return new TextDecoder('utf-8', { fatal: false }).decode(bytes);
  } catch {
    return '(not valid base64)';
  }
}

function DataSection({ kind, obj }: { kind: KindDef; obj: KubeObject }) {
  const secret = kind.id === 'secrets';
  const [shown, setShown] = useState<Set<string>>(new Set());
  const data: Record<string, string> = obj.data ?? {};
  const keys = Object.keys(data).sort();
  const toggle = (k: string) => {
    const s = new Set(shown);
    s.has(k) ? s.delete(k) : s.add(k);
    setShown(s);
  };
  return (
    <Section title={`Data (${keys.length})`} right={secret && keys.length > 0 ? <button class="btn tiny" onClick={() => setShown(shown.size ? new Set() : new Set(keys))}>{shown.size ? 'Hide all' : 'Reveal all'}</button> : undefined}>
      {keys.length === 0 && <span class="muted">No data.</span>}
      <div class="data-list">
        {keys.map((k) => {
          const v = secret ? decodeB64(data[k]) : data[k];
          const visible = !secret || shown.has(k);
          return (
            <div class="data-item" data-key={k}>
              <div class="data-key">
                <span class="mono">{k}</span>
                <span class="muted small">{v.length} bytes</span>
                <span class="spacer" />
                {secret && <button class="btn tiny" data-testid={`reveal-${k}`} onClick={() => toggle(k)}><Icon name="eye" size={12} /> {visible ? 'Hide' : 'Reveal'}</button>}
                {visible && <button class="btn tiny" onClick={() => navigator.clipboard?.writeText(v).then(() => toast(`${k} copied`, 'ok'))}><Icon name="copy" size={12} /></button>}
              </div>
              <pre class={`data-value ${visible ? '' : 'hidden-value'}`}>{visible ? v : '••••••••'}</pre>
            </div>
          );
        })}
      </div>
    </Section>
  );
}

function Related({ cluster, kind, obj }: { cluster: string; kind: KindDef; obj: KubeObject }) {
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

function ObjectEvents({ cluster, kind, obj }: { cluster: string; kind: KindDef; obj: KubeObject }) {
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

function Dialog({ title, children, close }: { title: string; children: ComponentChildren; close: () => void }) {
  return (
    <div class="overlay" onClick={close}>
      <div class="dialog" role="dialog" aria-label={title} onClick={(e) => e.stopPropagation()}>
        <h3>{title}</h3>
        {children}
      </div>
    </div>
  );
}

function DeleteDialog({ cluster, kind, obj, close }: { cluster: string; kind: KindDef; obj: KubeObject; close: () => void }) {
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

function ScaleDialog({ cluster, kind, obj, close }: { cluster: string; kind: KindDef; obj: KubeObject; close: () => void }) {
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

function RestartDialog({ cluster, kind, obj, close }: { cluster: string; kind: KindDef; obj: KubeObject; close: () => void }) {
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
