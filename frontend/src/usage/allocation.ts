// What the pods on each node request and limit, for the node list's columns and the node page.
// Its own poll rather than the shared pod list: on a cluster of 50,000 pods the node list must
// not keep (or re-list every 10 s) every pod object just to sum a few numbers. Only pods that
// hold room are asked for (the field selector `kubectl describe node` uses), reduced to sums at
// once; the node page asks for its node's pods alone.
import { clusterJson, errorText, type KubeList } from '../api/client';
import { Value } from '../state/value';
import { nodeAllocations, type NodeAllocation } from './quantity';
import { Poller, usePolled, type Polled } from './poller';

const ALL_MS = 60_000;
const ONE_MS = 15_000;

export interface AllocationState {
  loaded: boolean;
  error: string;
  byNode: Map<string, NodeAllocation>;
}

/** Pure: the pods list path: non-finished pods, on one node or all. */
export function allocationPath(node: string | null): string {
  const terms = ['status.phase!=Succeeded', 'status.phase!=Failed', ...(node ? [`spec.nodeName=${node}`] : [])];
  return `/api/v1/pods?${new URLSearchParams({ fieldSelector: terms.join(',') })}`;
}

class AllocationCache implements Polled<AllocationState> {
  readonly state = new Value<AllocationState>({ loaded: false, error: '', byNode: new Map() });
  readonly poller = new Poller(() => this.poll());
  refs = 0;

  constructor(
    readonly cluster: string,
    readonly node: string | null,
  ) {}

  /** One poll; returns the wait before the next. */
  private async poll(): Promise<number> {
    try {
      const list = await clusterJson<KubeList>(this.cluster, allocationPath(this.node));
      this.state.set({ loaded: true, error: '', byNode: nodeAllocations(list.items ?? []) });
    } catch (e) {
      this.state.set({ ...this.state.value, error: errorText(e) });
    }
    return this.node ? ONE_MS : ALL_MS;
  }
}

const caches = new Map<string, AllocationCache>();

/** Allocation per node (all nodes, or `node` only), polled while the calling view is shown. */
export function useAllocations(cluster: string | null, node: string | null): AllocationState | null {
  const key = cluster ? `${cluster}\n${node ?? ''}` : null;
  return usePolled(caches, key, () => new AllocationCache(cluster ?? '', node));
}
