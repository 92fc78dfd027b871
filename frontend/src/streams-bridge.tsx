// Integration with the log viewer / terminal / dock (frontend/src/streams/, H6): turns the pod
// objects the resource pages hold into the PodRefs and container lists that module wants.
import type { KubeObject } from './api/client';
import { Dock, closeTopPane, openLogs as streamsOpenLogs, openTerminal as streamsOpenTerminal, type PodRef } from './streams';

export { closeTopPane };

export function podRef(pod: KubeObject): PodRef {
  const spec = pod.spec ?? {};
  return {
    name: pod.metadata.name,
    containers: [
      ...((spec.initContainers ?? []) as any[]).map((c) => ({ name: c.name as string, kind: 'init' as const })),
      ...((spec.containers ?? []) as any[]).map((c) => ({ name: c.name as string, kind: 'main' as const })),
      ...((spec.ephemeralContainers ?? []) as any[]).map((c) => ({ name: c.name as string, kind: 'ephemeral' as const })),
    ],
  };
}

/** Logs of one pod (optionally one container preselected; `previous`: the crashed instance). */
export function openPodLogs(cluster: string, pod: KubeObject, container?: string, previous = false): void {
  streamsOpenLogs({
    cluster,
    namespace: pod.metadata.namespace ?? '',
    pods: [podRef(pod)],
    title: `${container ? `${pod.metadata.name}/${container}` : pod.metadata.name}${previous ? ' (previous)' : ''}`,
    pod: pod.metadata.name,
    container,
    previous,
  });
}

/** Logs of every pod of a workload, merged (stern-like). */
export function openWorkloadLogs(cluster: string, namespace: string, title: string, pods: KubeObject[]): void {
  streamsOpenLogs({ cluster, namespace, pods: pods.map(podRef), title });
}

/** A shell in the pod (first main container unless one is given). */
export function openShell(cluster: string, pod: KubeObject, container?: string): void {
  const containers = ((pod.spec?.containers ?? []) as any[]).map((c) => c.name as string);
  streamsOpenTerminal({
    cluster,
    namespace: pod.metadata.namespace ?? '',
    pod: pod.metadata.name,
    containers,
    container: container ?? containers[0],
    mode: 'exec',
  });
}

export function DockSlot() {
  return <Dock />;
}
