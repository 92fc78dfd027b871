// Why a container has no log yet. The API server answers a log request for a pod that has no
// node with an empty 200 (no error), so a Pending pod's stream "ends" at once with 0 lines;
// the reason is in the pod's status and its events, which we read and put into words.

import { clusterJson, podPath, type KubeList, type KubeObject } from '../api/client';

/** Pure: "not started: Pending, Unschedulable — 0/3 nodes are available…", or null when the
 * container has started (an empty log is then just an empty log). */
export function notStartedReason(pod: KubeObject, container: string, events: KubeObject[] = []): string | null {
  const st = pod.status ?? {};
  const all = [...(st.initContainerStatuses ?? []), ...(st.containerStatuses ?? [])] as any[];
  const cs = all.find((c) => c.name === container);
  if (cs?.state?.running || cs?.state?.terminated || cs?.lastState?.terminated) return null;
  const waiting = cs?.state?.waiting;
  const unscheduled = ((st.conditions ?? []) as any[]).find((c) => c.type === 'PodScheduled' && c.status === 'False');
  const warning = events
    .filter((e) => e.type === 'Warning')
    .sort((a, b) => String(b.lastTimestamp ?? b.eventTime ?? '').localeCompare(String(a.lastTimestamp ?? a.eventTime ?? '')))[0];
  const parts: string[] = [];
  let detail = '';
  if (unscheduled) {
    parts.push(st.phase ?? 'Pending', unscheduled.reason ?? 'not scheduled');
    detail = unscheduled.message ?? '';
  } else if (waiting) {
    parts.push(`${container} waiting`, waiting.reason ?? 'Waiting');
    detail = waiting.message ?? '';
  } else if (st.phase === 'Pending' || !cs) {
    parts.push(st.phase ?? 'Pending');
  } else return null;
  if (!detail && warning) detail = `${warning.reason}: ${warning.message ?? ''}`.trim();
  return `not started: ${parts.join(', ')}${detail ? ` — ${detail}` : ''}`;
}

/** The pod and its events, asked once when a stream ended without a line. */
export async function explainEmptyLog(cluster: string, namespace: string, pod: string, container: string): Promise<string | null> {
  try {
    const [obj, events] = await Promise.all([
      clusterJson<KubeObject>(cluster, podPath(namespace, pod)),
      clusterJson<KubeList>(cluster, `/api/v1/namespaces/${encodeURIComponent(namespace)}/events?${new URLSearchParams({ fieldSelector: `involvedObject.name=${pod}` })}`).then(
        (l) => l.items,
        () => [] as KubeObject[],
      ),
    ]);
    return notStartedReason(obj, container, events);
  } catch {
    return null;
  }
}
