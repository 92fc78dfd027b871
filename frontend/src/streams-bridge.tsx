// Integration with the log viewer / terminal / dock (frontend/src/streams/, H6): turns the pod
// objects the resource pages hold into the PodRefs and container lists that module wants.
import type { KubeObject } from './api/client';
import { Dock, closeTopPane, openLogs as streamsOpenLogs, openTerminal as streamsOpenTerminal, podRefOf, shellContainers } from './streams';

export { closeTopPane };
export { selectorString } from './streams/podfollow';

/** Logs of one pod (optionally one container preselected; `previous`: the crashed instance). */
export function openPodLogs(cluster: string, pod: KubeObject, container?: string, previous = false): void {
  streamsOpenLogs({
    cluster,
    namespace: pod.metadata.namespace ?? '',
    pods: [podRefOf(pod)],
    title: `${container ? `${pod.metadata.name}/${container}` : pod.metadata.name}${previous ? ' (previous)' : ''}`,
    pod: pod.metadata.name,
    container,
    previous,
  });
}

/**
 * Logs of every pod of a workload, merged (stern-like), following its label selector: pods
 * that appear later join, pods that go away end with a line saying so.
 */
export function openWorkloadLogs(cluster: string, namespace: string, title: string, selector: string, pods: KubeObject[]): void {
  streamsOpenLogs({ cluster, namespace, pods: pods.map(podRefOf), title, selector, follow: true });
}

/** A shell in the pod (first main container unless one is given). */
export function openShell(cluster: string, pod: KubeObject, container?: string): void {
  const containers = shellContainers(podRefOf(pod));
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
