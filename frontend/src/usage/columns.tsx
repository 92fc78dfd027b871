// The usage columns of the pod and node lists: CPU/memory from metrics.k8s.io (with % of the
// pod's limit or the node's allocatable where known) and, for nodes, what the pods on them
// request and limit. Without metrics the usage columns are left out, not shown as zeros, and
// a hint says why.
import { useMemo } from 'preact/hooks';
import type { KubeObject } from '../api/client';
import type { Column } from '../kinds';
import { useAllocations } from './allocation';
import { useUsage, type UsageState } from './metrics';
import { cpuMilli, formatCpu, formatMemory, parseQuantity, percent, podResources, type NodeAllocation } from './quantity';

/** Node allocatable (else capacity) in millicores and bytes. */
export function nodeAllocatable(node: KubeObject): { cpu: number | null; memory: number | null } {
  const a = node.status?.allocatable ?? node.status?.capacity ?? {};
  return { cpu: cpuMilli(a.cpu), memory: parseQuantity(a.memory) };
}

function amountCell(value: number | null | undefined, fmt: (n: number) => string, of: number | null | undefined, ofWhat: string) {
  if (value === null || value === undefined) return <span class="muted" title="no figure for this row">—</span>;
  const pct = percent(value, of);
  const title = of ? `${fmt(value)} of ${fmt(of)} ${ofWhat}` : `${fmt(value)} (no ${ofWhat})`;
  return (
    <span class="usage-cell" title={title}>
      {fmt(value)}
      {pct !== null && ' '}
      {pct !== null && <span class={`usage-pct ${pct >= 90 ? 'tone-bad' : pct >= 75 ? 'tone-warn' : 'muted'}`}>{pct}%</span>}
    </span>
  );
}

const usageKey = (o: KubeObject) => `${o.metadata.namespace ?? ''}/${o.metadata.name}`;

function podUsageColumns(u: UsageState): Column[] {
  const get = (o: KubeObject) => u.usage.get(usageKey(o));
  return [
    {
      id: 'cpu', title: 'CPU', width: '96px', align: 'right',
      value: (o) => get(o)?.cpu ?? -1,
      render: (o) => amountCell(get(o)?.cpu, formatCpu, podResources(o, 'limits').cpu, 'limit'),
    },
    {
      id: 'memory', title: 'Memory', width: '104px', align: 'right',
      value: (o) => get(o)?.memory ?? -1,
      render: (o) => amountCell(get(o)?.memory, formatMemory, podResources(o, 'limits').memory, 'limit'),
    },
  ];
}

function nodeUsageColumns(u: UsageState): Column[] {
  const get = (o: KubeObject) => u.usage.get(o.metadata.name);
  return [
    {
      id: 'cpu', title: 'CPU', width: '96px', align: 'right',
      value: (o) => get(o)?.cpu ?? -1,
      render: (o) => amountCell(get(o)?.cpu, formatCpu, nodeAllocatable(o).cpu, 'allocatable'),
    },
    {
      id: 'memory', title: 'Memory', width: '104px', align: 'right',
      value: (o) => get(o)?.memory ?? -1,
      render: (o) => amountCell(get(o)?.memory, formatMemory, nodeAllocatable(o).memory, 'allocatable'),
    },
  ];
}

function allocationColumns(alloc: Map<string, NodeAllocation> | null): Column[] {
  const get = (o: KubeObject) => (alloc ? (alloc.get(o.metadata.name) ?? { requests: { cpu: 0, memory: 0 }, limits: { cpu: 0, memory: 0 }, pods: 0 }) : null);
  return [
    {
      id: 'cpu-requests', title: 'CPU req.', width: '104px', align: 'right', optional: 1,
      value: (o) => get(o)?.requests.cpu ?? -1,
      render: (o) => amountCell(get(o)?.requests.cpu, formatCpu, nodeAllocatable(o).cpu, 'allocatable'),
    },
    {
      id: 'memory-requests', title: 'Mem. req.', width: '112px', align: 'right', optional: 1,
      value: (o) => get(o)?.requests.memory ?? -1,
      render: (o) => amountCell(get(o)?.requests.memory, formatMemory, nodeAllocatable(o).memory, 'allocatable'),
    },
  ];
}

/**
 * Extra columns for a list page (pods, nodes; none for other kinds) and the hint shown when
 * usage is not available. Hooks run for every kind so their order never changes.
 */
export function useUsageColumns(cluster: string, kindId: string, namespace: string | null): { columns: Column[]; hint: string } {
  const resource = kindId === 'pods' || kindId === 'nodes' ? kindId : null;
  const usage = useUsage(cluster, resource, namespace);
  // Node allocation sums the pods holding room on each node: a slow poll of its own.
  const allocations = useAllocations(kindId === 'nodes' ? cluster : null, null);
  const alloc = allocations?.loaded ? allocations.byNode : null;
  // One array per change of the inputs, so the list's column memo holds between clock ticks.
  return useMemo(() => {
    if (!resource) return { columns: [], hint: '' };
    const columns: Column[] = [];
    if (usage?.status === 'ok') columns.push(...(resource === 'pods' ? podUsageColumns(usage) : nodeUsageColumns(usage)));
    if (resource === 'nodes') columns.push(...allocationColumns(alloc));
    const hint = usage && usage.status !== 'ok' && usage.status !== 'loading' ? usage.hint : '';
    return { columns, hint };
  }, [resource, usage, alloc]);
}
