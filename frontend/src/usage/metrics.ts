// Live usage from metrics.k8s.io (metrics-server, OpenShift's adapter…), for the CPU/memory
// columns and the node page. Asked only where the cluster's discovery lists the group (a
// cluster without metrics-server would answer every poll with a 404), polled while a page
// shows it, and shared by every view of the same cluster, resource and namespace.
import { ApiError, clusterJson, errorText } from '../api/client';
import { Value } from '../state/value';
import { Poller, usePolled, type Polled } from './poller';
import { cpuMilli, parseQuantity, type Amounts } from './quantity';

export const METRICS_GROUP = 'metrics.k8s.io';
const POLL_MS = 15_000;
/** Pods (or nodes) one poll every POLL_MS may cover before polls space out. */
const ITEMS_PER_POLL = 1_000;
const MAX_POLL_MS = 300_000;

/**
 * Pure: the wait after a poll that returned `items` usage items. Each poll downloads, parses
 * and re-renders every item: at 50,000 pods (all namespaces) that was a main-thread stall every
 * 15 s, felt as a stuck scroll. So a big answer waits in proportion (3,000 pods: 45 s, 50,000:
 * the 5 min cap). metrics-server itself scrapes only every 15-60 s.
 */
export function pollDelay(items: number): number {
  return Math.min(MAX_POLL_MS, Math.round(POLL_MS * Math.max(1, items / ITEMS_PER_POLL)));
}

export type UsageStatus = 'loading' | 'ok' | 'absent' | 'forbidden' | 'error';

export interface UsageState {
  status: UsageStatus;
  /** Why there are no numbers (shown as a hint instead of the columns). */
  hint: string;
  /** `namespace/name` (pods) or `name` (nodes) → usage summed over containers. */
  usage: Map<string, Amounts>;
}

interface MetricsItem {
  metadata: { name: string; namespace?: string };
  usage?: Record<string, string>;
  containers?: { usage?: Record<string, string> }[];
}

/** Pure: one PodMetrics/NodeMetrics item → millicores and bytes. */
export function itemUsage(item: MetricsItem): Amounts {
  const parts = item.usage ? [item.usage] : (item.containers ?? []).map((c) => c.usage ?? {});
  let cpu = 0;
  let memory = 0;
  for (const u of parts) {
    cpu += cpuMilli(u.cpu) ?? 0;
    memory += parseQuantity(u.memory) ?? 0;
  }
  return { cpu, memory };
}

const served = new Map<string, Promise<boolean>>();

/** Whether the cluster serves metrics.k8s.io (discovery's group list, asked once). */
export function metricsServed(cluster: string): Promise<boolean> {
  let p = served.get(cluster);
  if (!p) {
    p = clusterJson<{ groups?: { name: string }[] }>(cluster, '/apis')
      .then((d) => (d.groups ?? []).some((g) => g.name === METRICS_GROUP))
      .catch(() => {
        served.delete(cluster); // unknown yet: ask again next time
        return false;
      });
    served.set(cluster, p);
  }
  return p;
}

class UsageCache implements Polled<UsageState> {
  readonly state = new Value<UsageState>({ status: 'loading', hint: '', usage: new Map() });
  readonly poller = new Poller(async () => pollDelay(await this.poll()));
  refs = 0;

  constructor(
    readonly cluster: string,
    readonly resource: 'pods' | 'nodes',
    readonly namespace: string | null,
  ) {}

  private set(status: UsageStatus, hint: string, usage = new Map<string, Amounts>()): void {
    this.state.set({ status, hint, usage });
  }

  /** One poll; returns how many items it got (0 after an error). */
  private async poll(): Promise<number> {
    if (!(await metricsServed(this.cluster))) {
      this.set('absent', `No CPU or memory usage: cluster ${this.cluster} does not serve ${METRICS_GROUP} (install metrics-server to see it).`);
      this.poller.stop();
      return 0;
    }
    const base = `/apis/${METRICS_GROUP}/v1beta1`;
    const path = this.resource === 'pods' && this.namespace ? `${base}/namespaces/${encodeURIComponent(this.namespace)}/pods` : `${base}/${this.resource}`;
    try {
      const list = await clusterJson<{ items?: MetricsItem[] }>(this.cluster, path);
      const usage = new Map<string, Amounts>();
      for (const item of list.items ?? []) {
        const key = this.resource === 'pods' ? `${item.metadata.namespace ?? ''}/${item.metadata.name}` : item.metadata.name;
        usage.set(key, itemUsage(item));
      }
      this.set('ok', '', usage);
      return usage.size;
    } catch (e) {
      if (e instanceof ApiError && e.status === 403) this.set('forbidden', `No CPU or memory usage: you may not list ${this.resource} in ${METRICS_GROUP} on cluster ${this.cluster}.`);
      else if (e instanceof ApiError && e.status === 503) this.set('error', `No CPU or memory usage: ${METRICS_GROUP} is registered on cluster ${this.cluster} but not answering (is metrics-server running?).`);
      else this.set('error', `No CPU or memory usage: ${errorText(e)}`);
      return 0;
    }
  }
}

const caches = new Map<string, UsageCache>();

/** Usage of pods (in a namespace, or all) or nodes, polled while the calling view is shown. */
export function useUsage(cluster: string | null, resource: 'pods' | 'nodes' | null, namespace: string | null): UsageState | null {
  const ns = resource === 'pods' ? namespace : null;
  const key = cluster && resource ? `${cluster}\n${resource}\n${ns ?? ''}` : null;
  return usePolled(caches, key, () => new UsageCache(cluster ?? '', resource ?? 'pods', ns));
}
