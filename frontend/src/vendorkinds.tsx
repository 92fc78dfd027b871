// Well-known kinds of OpenShift and Rancher with hand-made columns. They are used only when the
// cluster's discovery lists them (state/discovery.ts), with the version it prefers.
import type { KubeObject } from './api/client';
import { ageCol, nameCol, nsCol, readyCol, statusCol, textCol, type KindDef } from './kinds';

const routeHost = (o: KubeObject): string => {
  const admitted = ((o.status?.ingress ?? []) as any[]).some((i) => ((i.conditions ?? []) as any[]).some((c) => c.type === 'Admitted' && c.status === 'True'));
  return `${o.spec?.host ?? ''}${o.spec?.path ?? ''}${admitted ? '' : ' (not admitted)'}`;
};
const routeServices = (o: KubeObject): string => [o.spec?.to, ...((o.spec?.alternateBackends ?? []) as any[])].filter(Boolean).map((b: any) => b.name).join(', ');
const annotation = (o: KubeObject, key: string): string => o.metadata.annotations?.[key] ?? '';
const conditionsOk = (o: KubeObject): string => {
  const bad = ((o.status?.conditions ?? []) as any[]).find((c) => c.status === 'False');
  return bad ? `${bad.type}: ${bad.message ?? bad.reason ?? 'False'}` : 'Active';
};

export const VENDOR_KINDS: KindDef[] = [
  {
    id: 'routes.route.openshift.io', label: 'Routes', kind: 'Route', group: 'route.openshift.io', version: 'v1', resource: 'routes', namespaced: true, section: 'OpenShift',
    columns: [
      nameCol, nsCol, textCol('host', 'Host / path', routeHost, 'minmax(180px, 2fr)'), textCol('services', 'Services', routeServices, 'minmax(100px, 1fr)'),
      textCol('port', 'Port', (o) => o.spec?.port?.targetPort ?? '', '90px'),
      textCol('termination', 'TLS', (o) => o.spec?.tls?.termination ?? '', '90px'), ageCol,
    ],
  },
  {
    id: 'deploymentconfigs.apps.openshift.io', label: 'DeploymentConfigs', kind: 'DeploymentConfig', group: 'apps.openshift.io', version: 'v1', resource: 'deploymentconfigs',
    namespaced: true, section: 'OpenShift', scalable: true,
    columns: [
      nameCol, nsCol, readyCol((o) => [o.status?.readyReplicas ?? 0, o.spec?.replicas ?? 0]),
      textCol('revision', 'Revision', (o) => o.status?.latestVersion ?? 0, '90px'),
      textCol('triggers', 'Triggered by', (o) => ((o.spec?.triggers ?? []) as any[]).map((t) => t.type).join(', ') || 'manual', 'minmax(100px, 1fr)'), ageCol,
    ],
  },
  {
    id: 'projects.project.openshift.io', label: 'Projects', kind: 'Project', group: 'project.openshift.io', version: 'v1', resource: 'projects', namespaced: false, section: 'OpenShift',
    columns: [
      nameCol, textCol('display', 'Display name', (o) => annotation(o, 'openshift.io/display-name'), 'minmax(120px, 1.5fr)'),
      statusCol((o) => o.status?.phase ?? 'Active'), ageCol,
    ],
  },
  {
    // Rancher names projects p-xxxxx; people know them by display name and cluster.
    id: 'projects.management.cattle.io', label: 'Projects', kind: 'Project', group: 'management.cattle.io', version: 'v3', resource: 'projects', namespaced: true, section: 'Rancher',
    columns: [
      textCol('display', 'Display name', (o) => o.spec?.displayName ?? '', 'minmax(140px, 1.6fr)'), nameCol,
      textCol('cluster', 'Cluster', (o) => o.spec?.clusterName ?? o.metadata.namespace, 'minmax(90px, 1fr)'),
      statusCol(conditionsOk), textCol('description', 'Description', (o) => o.spec?.description ?? '', 'minmax(140px, 2fr)'), ageCol,
    ],
  },
];
