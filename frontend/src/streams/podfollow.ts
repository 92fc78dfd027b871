// Workload logs that follow a label selector (like stern): a watch on the pods the selector
// matches tells the log pane which pods joined and which went away.

import { podPath, watchList, type KubeObject } from '../api/client';
import type { PodRef } from './logcontroller';
import { podRefOf } from './podrefs';

/**
 * The label selector string of a workload's `spec.selector` (matchLabels and
 * matchExpressions), or null when it selects nothing expressible.
 */
export function selectorString(sel: { matchLabels?: Record<string, string>; matchExpressions?: { key: string; operator: string; values?: string[] }[] } | undefined): string | null {
  if (!sel) return null;
  const parts = Object.entries(sel.matchLabels ?? {}).map(([k, v]) => `${k}=${v}`);
  for (const e of sel.matchExpressions ?? []) {
    const vals = (e.values ?? []).join(',');
    if (e.operator === 'In') parts.push(`${e.key} in (${vals})`);
    else if (e.operator === 'NotIn') parts.push(`${e.key} notin (${vals})`);
    else if (e.operator === 'Exists') parts.push(e.key);
    else if (e.operator === 'DoesNotExist') parts.push(`!${e.key}`);
  }
  return parts.length ? parts.join(',') : null;
}

/** A pod joins once a container has started: before that its log is empty or refused. */
function hasLogs(p: KubeObject): boolean {
  const phase = p.status?.phase;
  if (phase && phase !== 'Pending') return true;
  const all = [...(p.status?.initContainerStatuses ?? []), ...(p.status?.containerStatuses ?? [])] as { state?: Record<string, unknown> }[];
  return all.some((c) => !!(c.state?.running || c.state?.terminated));
}

/**
 * Watches the pods `selector` matches in `namespace`; `onPods` gets the whole current set
 * (sorted by name) after the list and after every change. Returns the stop function.
 */
export function followPods(cluster: string, namespace: string, selector: string, onPods: (pods: PodRef[]) => void): () => void {
  const byName = new Map<string, KubeObject>();
  const emit = () => onPods([...byName.values()].map(podRefOf).sort((a, b) => a.name.localeCompare(b.name)));
  return watchList(cluster, podPath(namespace), {
    onList: (items) => {
      byName.clear();
      for (const p of items) if (hasLogs(p)) byName.set(p.metadata.name, p);
      emit();
    },
    onEvent: (ev) => {
      const had = byName.has(ev.object.metadata.name);
      if (ev.type === 'DELETED' || !hasLogs(ev.object)) byName.delete(ev.object.metadata.name);
      else byName.set(ev.object.metadata.name, ev.object);
      // Only joins and departures matter to the pane; status changes of known pods do not.
      if (had !== byName.has(ev.object.metadata.name)) emit();
    },
  }, { query: { labelSelector: selector } });
}
