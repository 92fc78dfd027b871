// The node page's "Capacity and allocation": capacity, allocatable, what the pods on the node
// request and limit (as `kubectl describe node` sums them), and live usage where
// metrics.k8s.io is served.
import type { KubeObject } from '../api/client';
import { Section } from '../views/detail/parts';
import { useAllocations } from './allocation';
import { nodeAllocatable } from './columns';
import { useUsage } from './metrics';
import { cpuMilli, formatCpu, formatMemory, parseQuantity, percent } from './quantity';

function Amount({ v, of, fmt }: { v: number | null | undefined; of: number | null; fmt: (n: number) => string }) {
  if (v === null || v === undefined) return <span class="muted">—</span>;
  const pct = percent(v, of);
  return <>{fmt(v)}{pct !== null && ' '}{pct !== null && <span class="usage-pct muted">{pct}%</span>}</>;
}

export function NodeUsage({ cluster, node }: { cluster: string; node: KubeObject }) {
  const name = node.metadata.name;
  const usage = useUsage(cluster, 'nodes', null);
  // This node's pods alone (a field selector), not every pod of the cluster.
  const pods = useAllocations(cluster, name);
  const alloc = pods?.byNode.get(name);
  const cap = node.status?.capacity ?? {};
  const allocatable = nodeAllocatable(node);
  const used = usage?.status === 'ok' ? usage.usage.get(name) : undefined;
  const zero = { cpu: 0, memory: 0 };
  const req = pods?.loaded ? (alloc?.requests ?? zero) : undefined;
  const lim = pods?.loaded ? (alloc?.limits ?? zero) : undefined;
  const rows: [string, (n: number) => string, 'cpu' | 'memory'][] = [
    ['CPU', formatCpu, 'cpu'],
    ['Memory', formatMemory, 'memory'],
  ];
  return (
    <Section title="Capacity and allocation" right={usage && usage.status !== 'ok' && usage.status !== 'loading' ? <span class="muted small" data-testid="usage-hint">{usage.hint}</span> : undefined}>
      <table class="table compact" data-testid="node-allocation">
        <thead>
          <tr>
            <th>Resource</th><th class="right">Capacity</th><th class="right">Allocatable</th>
            <th class="right">Requests</th><th class="right">Limits</th>
            {usage?.status === 'ok' && <th class="right">Usage</th>}
          </tr>
        </thead>
        <tbody>
          {rows.map(([title, fmt, key]) => (
            <tr data-resource={key}>
              <td>{title}</td>
              <td class="right">{key === 'cpu' ? <Amount v={cpuMilli(cap.cpu)} of={null} fmt={fmt} /> : <Amount v={parseQuantity(cap.memory)} of={null} fmt={fmt} />}</td>
              <td class="right"><Amount v={allocatable[key]} of={null} fmt={fmt} /></td>
              <td class="right" data-testid={`requests-${key}`}><Amount v={req?.[key]} of={allocatable[key]} fmt={fmt} /></td>
              <td class="right"><Amount v={lim?.[key]} of={allocatable[key]} fmt={fmt} /></td>
              {usage?.status === 'ok' && <td class="right" data-testid={`usage-${key}`}><Amount v={used?.[key]} of={allocatable[key]} fmt={fmt} /></td>}
            </tr>
          ))}
          <tr data-resource="pods">
            <td>Pods</td>
            <td class="right">{cap.pods ?? '—'}</td>
            <td class="right">{node.status?.allocatable?.pods ?? '—'}</td>
            <td class="right" data-testid="pods-on-node">{pods?.loaded ? (alloc?.pods ?? 0) : '…'}</td>
            <td />
            {usage?.status === 'ok' && <td />}
          </tr>
        </tbody>
      </table>
    </Section>
  );
}
