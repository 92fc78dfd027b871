// What the UI knows about each resource kind: where it lives in the API, where it sits in the
// sidebar, and which columns its list shows.
import type { ComponentChildren } from 'preact';
import type { KubeObject } from './api/client';
import { age, nodeReady, nodeRoles, podReady, podRestarts, podStatus, selectorText, shortImage, statusTone } from './format';

export interface Column {
  id: string;
  title: string;
  /** CSS grid track, e.g. '1fr' or '90px'. */
  width: string;
  /** Sort key. */
  value: (o: KubeObject, now: number) => string | number;
  render?: (o: KubeObject, now: number) => ComponentChildren;
  align?: 'right';
  /** Dropped first when the list is too narrow (1 before 2). */
  optional?: 1 | 2;
}

export interface KindDef {
  /** URL segment: `pods`, or `<plural>.<group>` for custom resources. */
  id: string;
  label: string;
  kind: string;
  group: string;
  version: string;
  resource: string;
  namespaced: boolean;
  section: Section;
  columns: Column[];
  /** No hand-made columns: the list shows the server's Table output (views/TableList.tsx). */
  table?: boolean;
  /** Extra columns from a CRD's additionalPrinterColumns. */
  scalable?: boolean;
  restartable?: boolean;
  hasPods?: boolean;
}

/** Sidebar sections, in order; `API groups` lists every other discovered kind by group. */
export type Section = 'Workloads' | 'Network' | 'Config' | 'Storage' | 'Cluster' | 'OpenShift' | 'Rancher' | 'Custom resources' | 'API groups';

export function Status({ text }: { text: string }) {
  return <span class={`status tone-${statusTone(text)}`}>{text}</span>;
}

export const nameCol: Column = {
  id: 'name',
  title: 'Name',
  width: 'minmax(180px, 2.4fr)',
  value: (o) => o.metadata.name,
  render: (o) => <span class="cell-name">{o.metadata.name}</span>,
};
export const nsCol: Column = {
  id: 'namespace',
  title: 'Namespace',
  width: 'minmax(90px, 0.9fr)',
  value: (o) => o.metadata.namespace ?? '',
};
export const ageCol: Column = {
  id: 'age',
  title: 'Age',
  width: '70px',
  align: 'right',
  value: (o) => -Date.parse(o.metadata.creationTimestamp ?? '0'),
  render: (o, now) => <span title={o.metadata.creationTimestamp}>{age(o.metadata.creationTimestamp, now)}</span>,
};

export function readyCol(get: (o: KubeObject) => [number, number]): Column {
  return {
    id: 'ready',
    title: 'Ready',
    width: '70px',
    value: (o) => {
      const [a, b] = get(o);
      return b ? a / b : 0;
    },
    render: (o) => {
      const [a, b] = get(o);
      return <span class={a < b ? 'tone-warn' : ''}>{`${a}/${b}`}</span>;
    },
  };
}

export function statusCol(get: (o: KubeObject) => string, title = 'Status'): Column {
  // 164px: the longest common reason ("CrashLoopBackOff", "ContainerCreating") whole, with its dot.
  return { id: 'status', title, width: 'minmax(164px, 1fr)', value: get, render: (o) => <Status text={get(o)} /> };
}

export function textCol(id: string, title: string, get: (o: KubeObject) => string | number | undefined, width = 'minmax(80px, 1fr)'): Column {
  return { id, title, width, value: (o) => get(o) ?? '', render: (o) => <span title={String(get(o) ?? '')}>{String(get(o) ?? '')}</span> };
}

const images = (o: KubeObject) =>
  ((o.spec?.template?.spec?.containers ?? o.spec?.jobTemplate?.spec?.template?.spec?.containers ?? []) as any[])
    .map((c) => shortImage(c.image ?? ''))
    .join(', ');

function workloadStatus(o: KubeObject): string {
  const want = o.spec?.replicas ?? 1;
  const ready = o.status?.readyReplicas ?? 0;
  if (want === 0) return 'Scaled down';
  if (ready >= want) return 'Available';
  const available = ((o.status?.conditions ?? []) as any[]).find((c) => c.type === 'Available');
  return available?.status === 'False' || ready === 0 ? 'Unavailable' : 'Progressing';
}

const B = (o: Omit<KindDef, 'columns'> & { columns: Column[] }): KindDef => o;
const opt = (c: Column, level: 1 | 2): Column => ({ ...c, optional: level });

export const BUILTIN_KINDS: KindDef[] = [
  B({
    id: 'pods', label: 'Pods', kind: 'Pod', group: '', version: 'v1', resource: 'pods', namespaced: true, section: 'Workloads',
    columns: [
      nameCol, nsCol, readyCol(podReady), statusCol(podStatus),
      {
        id: 'restarts', title: 'Restarts', width: '96px', align: 'right', value: podRestarts,
        render: (o) => { const n = podRestarts(o); return <span class={n > 0 ? 'tone-warn' : ''}>{n}</span>; },
      },
      opt(textCol('node', 'Node', (o) => o.spec?.nodeName, 'minmax(90px, 1fr)'), 2),
      opt(textCol('ip', 'IP', (o) => o.status?.podIP, '110px'), 1),
      ageCol,
    ],
  }),
  B({
    id: 'deployments', label: 'Deployments', kind: 'Deployment', group: 'apps', version: 'v1', resource: 'deployments', namespaced: true,
    section: 'Workloads', scalable: true, restartable: true, hasPods: true,
    columns: [
      nameCol, nsCol, readyCol((o) => [o.status?.readyReplicas ?? 0, o.spec?.replicas ?? 0]),
      opt(textCol('uptodate', 'Up-to-date', (o) => o.status?.updatedReplicas ?? 0, '100px'), 1),
      opt(textCol('available', 'Available', (o) => o.status?.availableReplicas ?? 0, '90px'), 1),
      statusCol(workloadStatus), opt(textCol('images', 'Images', images, 'minmax(120px, 1.6fr)'), 2), ageCol,
    ],
  }),
  B({
    id: 'statefulsets', label: 'StatefulSets', kind: 'StatefulSet', group: 'apps', version: 'v1', resource: 'statefulsets', namespaced: true,
    section: 'Workloads', scalable: true, restartable: true, hasPods: true,
    columns: [nameCol, nsCol, readyCol((o) => [o.status?.readyReplicas ?? 0, o.spec?.replicas ?? 0]), textCol('images', 'Images', images, 'minmax(120px, 1.6fr)'), ageCol],
  }),
  B({
    id: 'daemonsets', label: 'DaemonSets', kind: 'DaemonSet', group: 'apps', version: 'v1', resource: 'daemonsets', namespaced: true,
    section: 'Workloads', restartable: true, hasPods: true,
    columns: [
      nameCol, nsCol, textCol('desired', 'Desired', (o) => o.status?.desiredNumberScheduled ?? 0, '70px'),
      readyCol((o) => [o.status?.numberReady ?? 0, o.status?.desiredNumberScheduled ?? 0]),
      textCol('images', 'Images', images, 'minmax(120px, 1.6fr)'), ageCol,
    ],
  }),
  B({
    id: 'replicasets', label: 'ReplicaSets', kind: 'ReplicaSet', group: 'apps', version: 'v1', resource: 'replicasets', namespaced: true,
    section: 'Workloads', scalable: true, hasPods: true,
    columns: [nameCol, nsCol, readyCol((o) => [o.status?.readyReplicas ?? 0, o.spec?.replicas ?? 0]), textCol('images', 'Images', images, 'minmax(120px, 1.6fr)'), ageCol],
  }),
  B({
    id: 'jobs', label: 'Jobs', kind: 'Job', group: 'batch', version: 'v1', resource: 'jobs', namespaced: true, section: 'Workloads', hasPods: true,
    columns: [
      nameCol, nsCol,
      textCol('completions', 'Completions', (o) => `${o.status?.succeeded ?? 0}/${o.spec?.completions ?? 1}`, '100px'),
      statusCol((o) => (o.status?.succeeded ?? 0) >= (o.spec?.completions ?? 1) ? 'Complete' : (o.status?.failed ? 'Failed' : 'Running')),
      ageCol,
    ],
  }),
  B({
    id: 'cronjobs', label: 'CronJobs', kind: 'CronJob', group: 'batch', version: 'v1', resource: 'cronjobs', namespaced: true, section: 'Workloads',
    columns: [
      nameCol, nsCol, textCol('schedule', 'Schedule', (o) => o.spec?.schedule, '120px'),
      textCol('suspend', 'Suspend', (o) => String(!!o.spec?.suspend), '80px'),
      textCol('active', 'Active', (o) => (o.status?.active ?? []).length, '70px'),
      { id: 'last', title: 'Last schedule', width: '110px', value: (o) => o.status?.lastScheduleTime ?? '', render: (o, now) => age(o.status?.lastScheduleTime, now) },
      ageCol,
    ],
  }),
  B({
    id: 'services', label: 'Services', kind: 'Service', group: '', version: 'v1', resource: 'services', namespaced: true, section: 'Network',
    columns: [
      nameCol, nsCol, textCol('type', 'Type', (o) => o.spec?.type, '100px'),
      opt(textCol('clusterip', 'Cluster IP', (o) => o.spec?.clusterIP, '110px'), 2),
      textCol('ports', 'Ports', (o) => ((o.spec?.ports ?? []) as any[]).map((p) => `${p.port}${p.nodePort ? `:${p.nodePort}` : ''}/${p.protocol ?? 'TCP'}`).join(', '), 'minmax(100px, 1fr)'),
      opt(textCol('selector', 'Selector', (o) => selectorText(o.spec?.selector), 'minmax(100px, 1.2fr)'), 1),
      ageCol,
    ],
  }),
  B({
    id: 'ingresses', label: 'Ingresses', kind: 'Ingress', group: 'networking.k8s.io', version: 'v1', resource: 'ingresses', namespaced: true, section: 'Network',
    columns: [
      nameCol, nsCol, textCol('class', 'Class', (o) => o.spec?.ingressClassName, '100px'),
      textCol('hosts', 'Hosts', (o) => ((o.spec?.rules ?? []) as any[]).map((r) => r.host ?? '*').join(', '), 'minmax(120px, 1.5fr)'),
      ageCol,
    ],
  }),
  B({
    id: 'configmaps', label: 'ConfigMaps', kind: 'ConfigMap', group: '', version: 'v1', resource: 'configmaps', namespaced: true, section: 'Config',
    columns: [nameCol, nsCol, textCol('data', 'Data', (o) => Object.keys(o.data ?? {}).length + Object.keys(o.binaryData ?? {}).length, '70px'), ageCol],
  }),
  B({
    id: 'secrets', label: 'Secrets', kind: 'Secret', group: '', version: 'v1', resource: 'secrets', namespaced: true, section: 'Config',
    columns: [nameCol, nsCol, textCol('type', 'Type', (o) => o.type, 'minmax(120px, 1.2fr)'), textCol('data', 'Data', (o) => Object.keys(o.data ?? {}).length, '70px'), ageCol],
  }),
  B({
    id: 'persistentvolumeclaims', label: 'PVCs', kind: 'PersistentVolumeClaim', group: '', version: 'v1', resource: 'persistentvolumeclaims', namespaced: true, section: 'Storage',
    columns: [
      nameCol, nsCol, statusCol((o) => o.status?.phase ?? 'Unknown'),
      textCol('volume', 'Volume', (o) => o.spec?.volumeName), textCol('capacity', 'Capacity', (o) => o.status?.capacity?.storage, '90px'),
      textCol('class', 'Storage class', (o) => o.spec?.storageClassName, '120px'), ageCol,
    ],
  }),
  B({
    id: 'nodes', label: 'Nodes', kind: 'Node', group: '', version: 'v1', resource: 'nodes', namespaced: false, section: 'Cluster',
    columns: [
      nameCol, statusCol(nodeReady), textCol('roles', 'Roles', nodeRoles, '120px'),
      textCol('version', 'Version', (o) => o.status?.nodeInfo?.kubeletVersion, '110px'),
      opt(textCol('ip', 'Internal IP', (o) => ((o.status?.addresses ?? []) as any[]).find((a) => a.type === 'InternalIP')?.address, '120px'), 1),
      ageCol,
    ],
  }),
  B({
    id: 'namespaces', label: 'Namespaces', kind: 'Namespace', group: '', version: 'v1', resource: 'namespaces', namespaced: false, section: 'Cluster',
    columns: [nameCol, statusCol((o) => o.status?.phase ?? 'Active'), ageCol],
  }),
  B({
    id: 'events', label: 'Events', kind: 'Event', group: '', version: 'v1', resource: 'events', namespaced: true, section: 'Cluster',
    columns: [
      {
        id: 'last', title: 'Last seen', width: '108px', align: 'right',
        value: (o) => -Date.parse(o.lastTimestamp ?? o.eventTime ?? o.metadata.creationTimestamp ?? '0'),
        render: (o, now) => age(o.lastTimestamp ?? o.eventTime ?? o.metadata.creationTimestamp, now),
      },
      statusCol((o) => o.type ?? 'Normal', 'Type'),
      textCol('reason', 'Reason', (o) => o.reason, '160px'),
      {
        id: 'object', title: 'Object', width: 'minmax(160px, 1.3fr)',
        value: (o) => `${o.involvedObject?.kind ?? ''}/${o.involvedObject?.name ?? ''}`,
        render: (o) => {
          const io = o.involvedObject ?? {};
          const k = BUILTIN_KINDS.find((x) => x.kind === io.kind);
          const text = `${io.kind ?? ''}/${io.name ?? ''}`;
          // The cluster segment is filled in by the list (it knows the cluster); see objectHref.
          return k ? <a class="obj-ref" data-kind={k.id} data-ns={io.namespace ?? ''} data-name={io.name} title={text}>{text}</a> : <span title={text}>{text}</span>;
        },
      },
      opt(nsCol, 1),
      textCol('message', 'Message', (o) => o.message, 'minmax(200px, 3fr)'),
    ],
  }),
];

export const SECTIONS: Section[] = ['Workloads', 'Network', 'Config', 'Storage', 'Cluster', 'OpenShift', 'Rancher', 'Custom resources'];

/** Builds a KindDef from a CustomResourceDefinition (served storage version). */
export function crdKind(crd: KubeObject): KindDef | null {
  const spec = crd.spec ?? {};
  const versions: any[] = spec.versions ?? [];
  const v = versions.find((x) => x.storage && x.served) ?? versions.find((x) => x.served);
  if (!v || !spec.names?.plural) return null;
  const printer: Column[] = ((v.additionalPrinterColumns ?? []) as any[])
    .filter((c) => c.jsonPath && c.name?.toLowerCase() !== 'age')
    .slice(0, 5)
    .map((c) => textCol(`p-${c.name}`, c.name, (o) => jsonPath(o, c.jsonPath), 'minmax(80px, 1fr)'));
  return {
    id: `${spec.names.plural}.${spec.group}`,
    label: spec.names.kind,
    kind: spec.names.kind,
    group: spec.group,
    version: v.name,
    resource: spec.names.plural,
    namespaced: spec.scope !== 'Cluster',
    section: 'Custom resources',
    columns: [nameCol, ...(spec.scope !== 'Cluster' ? [nsCol] : []), ...printer, ageCol],
  };
}

/** Smallest width a grid track needs (for dropping optional columns on narrow screens). */
export function minWidth(track: string): number {
  const m = /minmax\((\d+)px/.exec(track) ?? /^(\d+)px$/.exec(track);
  return m ? Number(m[1]) : 60;
}

/** The small subset of JSONPath that printer columns use: `.a.b[0].c`. */
export function jsonPath(o: unknown, path: string): string {
  let cur: any = o;
  for (const part of path.replace(/^\$?\./, '').split(/\.|\[(\d+)\]/).filter((x) => x !== undefined && x !== '')) {
    if (cur == null) return '';
    cur = cur[part];
  }
  if (cur == null) return '';
  return typeof cur === 'object' ? JSON.stringify(cur) : String(cur);
}

/** Collection URL for a kind, optionally in one namespace. */
export function collectionPath(k: KindDef, namespace?: string | null): string {
  const base = k.group ? `/apis/${k.group}/${k.version}` : `/api/${k.version}`;
  return k.namespaced && namespace ? `${base}/namespaces/${encodeURIComponent(namespace)}/${k.resource}` : `${base}/${k.resource}`;
}

export function objectPath(k: KindDef, namespace: string | undefined, name: string): string {
  return `${collectionPath(k, k.namespaced ? namespace : null)}/${encodeURIComponent(name)}`;
}

export function apiVersionOf(k: KindDef): string {
  return k.group ? `${k.group}/${k.version}` : k.version;
}

/** A built-in kind by id (`pods`, `deployments`…); the id must exist. */
export function builtinKind(id: string): KindDef {
  const k = BUILTIN_KINDS.find((k) => k.id === id);
  if (!k) throw new Error(`no built-in kind ${id}`);
  return k;
}

/** The built-in kind with this `kind` name (owner references, events), if any. */
export function findBuiltinByKind(kind: string | undefined): KindDef | undefined {
  return BUILTIN_KINDS.find((k) => k.kind === kind);
}

export { selectorText };

/**
 * kubectl's short and singular names of the built-in kinds (and the sidebar's "pvcs"), so a
 * typed URL such as /c/x/deploy or /c/x/pvc opens the list. Plural ids are the canonical form.
 */
const ALIASES: Record<string, string> = {
  po: 'pods', pod: 'pods', deploy: 'deployments', deployment: 'deployments', sts: 'statefulsets', statefulset: 'statefulsets',
  ds: 'daemonsets', daemonset: 'daemonsets', rs: 'replicasets', replicaset: 'replicasets', job: 'jobs', cj: 'cronjobs', cronjob: 'cronjobs',
  svc: 'services', service: 'services', ing: 'ingresses', ingress: 'ingresses', cm: 'configmaps', configmap: 'configmaps', secret: 'secrets',
  pvc: 'persistentvolumeclaims', pvcs: 'persistentvolumeclaims', persistentvolumeclaim: 'persistentvolumeclaims',
  no: 'nodes', node: 'nodes', ns: 'namespaces', namespace: 'namespaces', ev: 'events', event: 'events',
};

/** The canonical kind id for a URL segment (aliases of built-in kinds; anything else as is). */
export function canonicalKindId(segment: string): string {
  return ALIASES[segment.toLowerCase()] ?? segment;
}

