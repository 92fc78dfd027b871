// Pure: Kubernetes resource quantities (CPU and memory) to numbers and back to short text.
// metrics-server reports CPU in nanocores ("123456789n") and memory in Ki; specs say "250m",
// "1", "512Mi", "1G", "1e9" — all of them must land on one scale to sum and compare.

import type { KubeObject } from '../api/client';

const BINARY: Record<string, number> = { Ki: 2 ** 10, Mi: 2 ** 20, Gi: 2 ** 30, Ti: 2 ** 40, Pi: 2 ** 50, Ei: 2 ** 60 };
const DECIMAL: Record<string, number> = { n: 1e-9, u: 1e-6, m: 1e-3, '': 1, k: 1e3, K: 1e3, M: 1e6, G: 1e9, T: 1e12, P: 1e15, E: 1e18 };

/** A quantity as a plain number of base units (cores, bytes), or null when it does not parse. */
export function parseQuantity(q: string | number | undefined | null): number | null {
  if (q === undefined || q === null) return null;
  if (typeof q === 'number') return Number.isFinite(q) ? q : null;
  const m = /^([+-]?(?:\d+\.?\d*|\.\d+)(?:[eE][+-]?\d+)?)([a-zA-Z]{0,2})$/.exec(q.trim());
  if (!m) return null;
  const n = Number(m[1]);
  const suffix = m[2];
  const f = BINARY[suffix] ?? DECIMAL[suffix];
  return f === undefined || !Number.isFinite(n) ? null : n * f;
}

/** Cores → millicores. */
export const cpuMilli = (q: string | number | undefined | null): number | null => {
  const v = parseQuantity(q);
  return v === null ? null : v * 1000;
};

/** "45m" under one core, "1.25" (cores) above, like kubectl top. */
export function formatCpu(milli: number): string {
  if (milli < 1000) return `${Math.round(milli)}m`;
  const cores = milli / 1000;
  return cores < 10 ? `${cores.toFixed(2).replace(/\.?0+$/, '')}` : `${Math.round(cores)}`;
}

/** Bytes as Ki / Mi / Gi (binary units, as kubectl top and specs use). */
export function formatMemory(bytes: number): string {
  if (bytes < 2 ** 20) return `${Math.round(bytes / 2 ** 10)}Ki`;
  if (bytes < 2 ** 30) return `${Math.round(bytes / 2 ** 20)}Mi`;
  const gi = bytes / 2 ** 30;
  return `${gi < 10 ? gi.toFixed(1).replace(/\.0$/, '') : Math.round(gi)}Gi`;
}

/** Whole percent of a known total, or null. */
export function percent(part: number, whole: number | null | undefined): number | null {
  return whole && whole > 0 ? Math.round((part / whole) * 100) : null;
}

export interface Amounts {
  /** Millicores. */
  cpu: number;
  /** Bytes. */
  memory: number;
}

type Container = { resources?: { requests?: Record<string, string>; limits?: Record<string, string> } };

/**
 * What a pod asks for (`requests`) or may use at most (`limits`), summed over its containers
 * the way the scheduler counts: init containers run one at a time, so the pod needs the larger
 * of their biggest and the sum of the regular ones. `strict`: a container without the value
 * makes the pod's null (a pod's limit is unbounded then); otherwise it counts as 0, as
 * `kubectl describe node` sums what is set.
 */
export function podResources(
  pod: { spec?: { containers?: Container[]; initContainers?: Container[] } } | { [k: string]: any },
  which: 'requests' | 'limits',
  strict = which === 'limits',
): { cpu: number | null; memory: number | null } {
  const sum = (cs: Container[] | undefined, key: 'cpu' | 'memory', combine: (a: number, b: number) => number): number | null => {
    let total = 0;
    for (const c of cs ?? []) {
      const v = parseQuantity(c.resources?.[which]?.[key]);
      if (v === null) {
        if (strict) return null;
        continue;
      }
      total = combine(total, v);
    }
    return total;
  };
  const one = (key: 'cpu' | 'memory', scale: number): number | null => {
    const spec = pod.spec as { containers?: Container[]; initContainers?: Container[] } | undefined;
    if (!(spec?.containers ?? []).length) return null;
    const regular = sum(spec?.containers, key, (a, b) => a + b);
    const init = sum(spec?.initContainers, key, Math.max);
    if (regular === null || init === null) return null;
    return Math.max(regular, init) * scale;
  };
  return { cpu: one('cpu', 1000), memory: one('memory', 1) };
}

export interface NodeAllocation {
  requests: Amounts;
  limits: Amounts;
  pods: number;
}

/** Pure: requests and limits of the pods that hold room on each node (not finished ones). */
export function nodeAllocations(pods: KubeObject[]): Map<string, NodeAllocation> {
  const out = new Map<string, NodeAllocation>();
  for (const p of pods) {
    const node = p.spec?.nodeName;
    const phase = p.status?.phase;
    if (!node || phase === 'Succeeded' || phase === 'Failed') continue;
    let a = out.get(node);
    if (!a) out.set(node, (a = { requests: { cpu: 0, memory: 0 }, limits: { cpu: 0, memory: 0 }, pods: 0 }));
    const req = podResources(p, 'requests');
    const lim = podResources(p, 'limits', false);
    a.requests.cpu += req.cpu ?? 0;
    a.requests.memory += req.memory ?? 0;
    a.limits.cpu += lim.cpu ?? 0;
    a.limits.memory += lim.memory ?? 0;
    a.pods++;
  }
  return out;
}
