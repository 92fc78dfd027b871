// Workload logs across clusters (issue 11 ★): the same workload (namespace + kind + name) in
// several clusters, one pane, lines merged by timestamp, each tagged with its cluster's chip.
// Per cluster it is the single-cluster mode: the workload's own label selector there (clusters
// may differ), a pod watch (podfollow.ts) whose joins and departures feed the one pane.

import { clusterJson, errorText, type KubeObject } from '../api/client';
import { toast } from '../state/toasts';
import { addLogs } from './dockstore';
import type { PodRef } from './logcontroller';
import { followPods, selectorString } from './podfollow';

export interface WorkloadRef {
  namespace: string;
  /** `Deployment`, `StatefulSet`… (for the title). */
  kind: string;
  /** The workload's API path without the namespace part, e.g. `/apis/apps/v1` + `deployments`. */
  apiBase: string;
  resource: string;
  name: string;
}

export function workloadPath(w: WorkloadRef): string {
  return `${w.apiBase}/namespaces/${encodeURIComponent(w.namespace)}/${w.resource}/${encodeURIComponent(w.name)}`;
}

/** Pure: a workload as one deep-link value (`Kind apiBase resource name`; none has spaces). */
export function encodeWorkload(w: Omit<WorkloadRef, 'namespace'>): string {
  return [w.kind, w.apiBase, w.resource, w.name].join(' ');
}

/** Pure: the workload of a deep-link value, or null when it is not one. */
export function decodeWorkload(s: string, namespace: string): WorkloadRef | null {
  const [kind, apiBase, resource, name, ...rest] = s.split(' ');
  if (rest.length || !name || !/^\/apis?\//.test(apiBase)) return null;
  return { namespace, kind, apiBase, resource, name };
}

/** Pure: every cluster's current pods as one list, each PodRef tagged with its cluster. */
export function mergePods(perCluster: Map<string, PodRef[]>, order: string[]): PodRef[] {
  return order.flatMap((c) => (perCluster.get(c) ?? []).map((p) => ({ ...p, cluster: c })));
}

/** Opens one log pane over `clusters` (in that order; the first is the pane's own). */
export function openMultiClusterLogs(clusters: string[], w: WorkloadRef): number {
  const title = `${w.kind.toLowerCase()}/${w.name} · ${clusters.length} clusters`;
  const { id, ctl } = addLogs({ cluster: clusters[0], namespace: w.namespace, pods: [], title, selector: `${w.kind.toLowerCase()}/${w.name}`, clusters: [...clusters], workload: encodeWorkload(w) });
  ctl.setResolveError(`looking up ${w.kind.toLowerCase()}/${w.name} in ${clusters.join(', ')}…`);
  const perCluster = new Map<string, PodRef[]>();
  // The first set of pods goes in once every cluster has answered, so pods that were already
  // running start from their tail; later pods join from the start of their log.
  const waiting = new Set(clusters);
  const stops: (() => void)[] = [];
  let disposed = false;
  const changed = () => {
    if (waiting.size) return;
    const pods = mergePods(perCluster, clusters);
    if (pods.length) ctl.updatePods(pods);
    else if (!ctl.opts.pods.length) ctl.setResolveError(`waiting for pods of ${w.kind.toLowerCase()}/${w.name} to start…`);
  };
  const answered = (cluster: string) => {
    if (waiting.delete(cluster)) changed();
  };
  for (const cluster of clusters) {
    clusterJson<KubeObject>(cluster, workloadPath(w)).then(
      (obj) => {
        if (disposed) return;
        const selector = selectorString(obj.spec?.selector);
        if (!selector) {
          toast(`${w.kind}/${w.name} on cluster ${cluster} has no label selector: its pods are left out.`, 'bad');
          answered(cluster);
          return;
        }
        stops.push(
          followPods(cluster, w.namespace, selector, (pods) => {
            perCluster.set(cluster, pods);
            if (waiting.has(cluster)) answered(cluster);
            else changed();
          }),
        );
      },
      (e) => {
        if (disposed) return;
        toast(`${w.kind}/${w.name} on cluster ${cluster}: ${errorText(e)} (left out of the merged logs)`, 'bad');
        answered(cluster);
      },
    );
  }
  ctl.onDispose = () => {
    disposed = true;
    for (const stop of stops) stop();
  };
  return id;
}
