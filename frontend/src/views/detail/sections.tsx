// Kind-specific cards: a pod's containers, a template's containers, service ports, ConfigMap/Secret data.
import { useEffect, useState } from 'preact/hooks';
import { clusterJson, errorText, type KubeObject } from '../../api/client';
import { canI } from '../../state/access';
import { age, shortImage, statusTone } from '../../format';
import { Status, type KindDef } from '../../kinds';
import { toast } from '../../state/toasts';
import { Icon } from '../../icons';
import { openPodLogs, openShell } from '../../streams-bridge';
import { ForwardButton, forwardsAdvertised, refreshForwards } from '../PortForwards';
import { Section } from './parts';

export function containerState(s: any): [string, string] {
  if (!s) return ['Unknown', ''];
  if (s.running) return ['Running', s.running.startedAt ? `started ${age(s.running.startedAt)} ago` : ''];
  if (s.waiting) return [s.waiting.reason ?? 'Waiting', s.waiting.message ?? ''];
  if (s.terminated) return [s.terminated.reason ?? `Exit ${s.terminated.exitCode}`, `exit code ${s.terminated.exitCode}${s.terminated.message ? `: ${s.terminated.message}` : ''}`];
  return ['Unknown', ''];
}

export function PodContainers({ cluster, pod, perm }: { cluster: string; pod: KubeObject; perm: Record<string, boolean> }) {
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
                {((c.env ?? []).length > 0 || (c.envFrom ?? []).length > 0) && <><dt>Env</dt><dd><EnvList cluster={cluster} ns={ns} c={c} /></dd></>}
                {c.command && <><dt>Command</dt><dd class="mono small">{[...(c.command ?? []), ...(c.args ?? [])].join(' ')}</dd></>}
              </dl>
            </div>
          );
        })}
      </div>
    </Section>
  );
}

export function TemplateContainers({ spec }: { spec: any }) {
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

export function ServicePorts({ cluster, svc, perm }: { cluster: string; svc: KubeObject; perm: Record<string, boolean> }) {
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

export function decodeB64(v: string): string {
  try {
    const bytes = Uint8Array.from(atob(v), (c) => c.charCodeAt(0));
    return new TextDecoder('utf-8', { fatal: false }).decode(bytes);
  } catch {
    return '(not valid base64)';
  }
}

export function DataSection({ kind, obj }: { kind: KindDef; obj: KubeObject }) {
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

/** Where an env variable's value comes from, as the user would look it up. */
function envSource(e: any): string {
  if (e.value !== undefined) return `=${e.value}`;
  const f = e.valueFrom ?? {};
  if (f.configMapKeyRef) return ` ← ConfigMap ${f.configMapKeyRef.name}, key ${f.configMapKeyRef.key}`;
  if (f.secretKeyRef) return ` ← Secret ${f.secretKeyRef.name}, key ${f.secretKeyRef.key}`;
  if (f.fieldRef) return ` ← field ${f.fieldRef.fieldPath}`;
  if (f.resourceFieldRef) return ` ← resource ${f.resourceFieldRef.resource}${f.resourceFieldRef.containerName ? ` of ${f.resourceFieldRef.containerName}` : ''}`;
  return '=';
}

/** The value a ConfigMap key holds, fetched once per page (many env lines share a ConfigMap). */
function useConfigMap(cluster: string, ns: string, name: string | undefined): KubeObject | null | undefined {
  const [cm, setCm] = useState<KubeObject | null | undefined>(undefined);
  useEffect(() => {
    if (!name) return;
    let alive = true;
    clusterJson<KubeObject>(cluster, `/api/v1/namespaces/${encodeURIComponent(ns)}/configmaps/${encodeURIComponent(name)}`).then(
      (o) => alive && setCm(o),
      () => alive && setCm(null),
    );
    return () => {
      alive = false;
    };
  }, [cluster, ns, name]);
  return cm;
}

/** A ConfigMap-referenced value, looked up (the pod spec only names the key). */
function ConfigMapValue({ cluster, ns, keyRef: r }: { cluster: string; ns: string; keyRef: { name: string; key: string } }) {
  const cm = useConfigMap(cluster, ns, r.name);
  if (cm === undefined) return null;
  if (cm === null) return <span class="muted" data-testid="env-value"> (ConfigMap not readable or missing)</span>;
  const v = cm.data?.[r.key];
  return v === undefined ? <span class="muted" data-testid="env-value"> (no key {r.key})</span> : <span data-testid="env-value"> = {v}</span>;
}

/** A Secret-referenced value: hidden until revealed, and offered only when an access review
 * says the user may read that Secret. */
function SecretValue({ cluster, ns, keyRef: r }: { cluster: string; ns: string; keyRef: { name: string; key: string } }) {
  const [allowed, setAllowed] = useState<boolean | null>(null);
  const [value, setValue] = useState<string | null>(null);
  useEffect(() => {
    let alive = true;
    canI(cluster, { verb: 'get', group: '', resource: 'secrets', namespace: ns, name: r.name }).then((ok) => alive && setAllowed(ok));
    return () => {
      alive = false;
    };
  }, [cluster, ns, r.name]);
  const reveal = async () => {
    if (value !== null) return setValue(null);
    try {
      const sec = await clusterJson<KubeObject>(cluster, `/api/v1/namespaces/${encodeURIComponent(ns)}/secrets/${encodeURIComponent(r.name)}`);
      const b64 = sec.data?.[r.key];
      setValue(b64 === undefined ? `(no key ${r.key})` : decodeBase64(b64));
    } catch (e) {
      toast(`Could not read Secret ${r.name}: ${errorText(e)}`, 'bad');
    }
  };
  if (allowed === null) return null;
  return (
    <>
      {value !== null && <span data-testid="env-value"> = {value}</span>}{' '}
      <button class="btn tiny" data-testid="env-reveal" disabled={!allowed} title={allowed ? '' : `You may not read Secret ${r.name} (access review)`} onClick={reveal}>
        <Icon name="eye" size={12} /> {value !== null ? 'Hide' : 'Reveal'}
      </button>
    </>
  );
}

function decodeBase64(b64: string): string {
  try {
    return new TextDecoder().decode(Uint8Array.from(atob(b64), (ch) => ch.charCodeAt(0)));
  } catch {
    return b64;
  }
}

/** A container's env: values shown, ConfigMap values looked up, Secret values on request. */
function EnvList({ cluster, ns, c }: { cluster: string; ns: string; c: any }) {
  return (
    <div class="env-list mono small" data-testid="env">
      {((c.env ?? []) as any[]).map((e) => (
        <div class="env-line" data-env={e.name}>
          {e.name}
          {envSource(e)}
          {e.valueFrom?.configMapKeyRef && <ConfigMapValue cluster={cluster} ns={ns} keyRef={e.valueFrom.configMapKeyRef} />}
          {e.valueFrom?.secretKeyRef && <SecretValue cluster={cluster} ns={ns} keyRef={e.valueFrom.secretKeyRef} />}
        </div>
      ))}
      {((c.envFrom ?? []) as any[]).map((e) => (
        <div class="env-line muted">
          {e.prefix ? `${e.prefix}* ← ` : ''}all keys of {e.configMapRef ? `ConfigMap ${e.configMapRef.name}` : `Secret ${e.secretRef?.name ?? '?'}`}
        </div>
      ))}
    </div>
  );
}
