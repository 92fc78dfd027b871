// What the pods on each node request and limit, for the node list's columns and the node page.
// Its own poll rather than the shared pod list: on a cluster of 50,000 pods the node list must
// not keep (or re-list every 10 s) every pod object just to sum a few numbers. Only pods that
// hold room are asked for (the field selector `kubectl describe node` uses), reduced to sums at
// once; the node page asks for its node's pods alone.
import { useEffect, useState } from 'preact/hooks';
import { clusterJson, errorText, type KubeList } from '../api/client';
import { Value } from '../state/value';
import { nodeAllocations, type NodeAllocation } from './columns';

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

class AllocationCache {
  readonly state = new Value<AllocationState>({ loaded: false, error: '', byNode: new Map() });
  refs = 0;
  private timer: ReturnType<typeof setTimeout> | null = null;
  private running = false;
  private gen = 0;

  constructor(
    readonly cluster: string,
    readonly node: string | null,
  ) {}

  /** Polls until stopped, the next one timed from the end of the last (never two in flight). */
  start(): void {
    if (this.running) return;
    this.running = true;
    const gen = ++this.gen; // a stop and start while a poll is in flight: one loop only
    const loop = async () => {
      await this.poll();
      if (this.running && gen === this.gen) this.timer = setTimeout(() => void loop(), this.node ? ONE_MS : ALL_MS);
    };
    void loop();
  }

  stop(): void {
    this.running = false;
    if (this.timer) clearTimeout(this.timer);
    this.timer = null;
  }

  private async poll(): Promise<void> {
    try {
      const list = await clusterJson<KubeList>(this.cluster, allocationPath(this.node));
      this.state.set({ loaded: true, error: '', byNode: nodeAllocations(list.items ?? []) });
    } catch (e) {
      this.state.set({ ...this.state.value, error: errorText(e) });
    }
  }
}

const caches = new Map<string, AllocationCache>();

/** Allocation per node (all nodes, or `node` only), polled while the calling view is shown. */
export function useAllocations(cluster: string | null, node: string | null): AllocationState | null {
  const [cache, setCache] = useState<AllocationCache | null>(null);
  const [, force] = useState(0);
  useEffect(() => {
    if (!cluster) {
      setCache(null);
      return;
    }
    const key = `${cluster}\n${node ?? ''}`;
    let c = caches.get(key);
    if (!c) {
      c = new AllocationCache(cluster, node);
      caches.set(key, c);
    }
    c.refs++;
    c.start();
    setCache(c);
    const unsub = c.state.subscribe(() => force((n) => n + 1));
    const held = c;
    return () => {
      unsub();
      if (--held.refs <= 0) held.stop();
    };
  }, [cluster, node]);
  return cache?.state.value ?? null;
}
