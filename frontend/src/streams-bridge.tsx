// Integration with the log viewer / terminal / dock (frontend/src/streams/, H6): turns the pod
// objects the resource pages hold into the PodRefs and container lists that module wants.
import { useEffect } from 'preact/hooks';
import type { KubeObject } from './api/client';
import { route } from './state/router';
import { Dock, closeTopPane, openLogs as streamsOpenLogs, openTerminal as streamsOpenTerminal, podRefOf, shellContainers } from './streams';
import { decodePanes, encodePanes, type PaneLink } from './streams/deeplink';
import { dockState, subscribeDock, type Pane } from './streams/dockstore';
import { decodeWorkload, openMultiClusterLogs } from './streams/multicluster';

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

/** What a pane's deep link says: enough to open the same pane again after a reload. */
function paneLink(p: Pane): PaneLink | null {
  if (p.kind === 'logs') {
    const o = p.ctl.opts;
    if (o.clusters) return o.workload ? { view: 'logs', cluster: o.clusters[0], also: o.clusters.slice(1), namespace: o.namespace, workload: o.workload } : null;
    const previous = p.ctl.query.previous;
    if (o.selector) return { view: 'logs', cluster: o.cluster, namespace: o.namespace, selector: o.selector, title: o.title };
    const pod = o.pod ?? (o.pods.length === 1 ? o.pods[0].name : undefined);
    return pod ? { view: 'logs', cluster: o.cluster, namespace: o.namespace, pod, container: o.container, previous } : null;
  }
  const o = p.ctl.opts;
  const container = p.ctl.ctl?.container || o.container;
  return { view: p.ctl.ctl?.mode ?? o.mode, cluster: o.cluster, namespace: o.namespace, pod: o.pod, container };
}

function openLink(l: PaneLink): void {
  if (l.view === 'logs') {
    const w = l.workload && l.also?.length ? decodeWorkload(l.workload, l.namespace) : null;
    if (w) openMultiClusterLogs([l.cluster, ...l.also!], w);
    else if (l.selector) streamsOpenLogs({ cluster: l.cluster, namespace: l.namespace, selector: l.selector, title: l.title, follow: true });
    else {
      const title = `${l.container ? `${l.pod}/${l.container}` : l.pod}${l.previous ? ' (previous)' : ''}`;
      streamsOpenLogs({ cluster: l.cluster, namespace: l.namespace, pod: l.pod, container: l.container, previous: l.previous, title });
    }
  } else {
    streamsOpenTerminal({ cluster: l.cluster, namespace: l.namespace, pod: l.pod!, container: l.container, mode: l.view });
  }
}

/**
 * Opens the panes the page URL names, then keeps the URL's query in step with the dock (panes
 * opened or closed, and after navigation, which replaces the path and query).
 */
function syncPanesWithUrl(): () => void {
  for (const l of decodePanes(location.search)) openLink(l);
  const write = () => {
    const links = dockState().panes.map(paneLink).filter((l): l is PaneLink => l !== null);
    const search = encodePanes(links, location.search);
    if (search !== location.search) history.replaceState(history.state, '', location.pathname + search + location.hash);
  };
  write();
  const offDock = subscribeDock(write);
  const offRoute = route.subscribe(write);
  return () => {
    offDock();
    offRoute();
  };
}

export function DockSlot() {
  useEffect(() => syncPanesWithUrl(), []);
  return <Dock />;
}
