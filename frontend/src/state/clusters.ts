// The clusters kubelantern serves (/api/clusters) and the per-cluster namespace filter.
import { apiJson, errorText } from '../api/client';
import { setClusterColours } from '../clustercolour';
import { Value } from './value';

export interface ClusterInfo {
  name: string;
  server: string;
  namespace?: string | null;
  profile: string;
  profileSource?: string;
  strategy?: string;
  strategySource?: string;
  state: 'ok' | 'unreachable' | 'unauthorized' | 'error' | 'unknown';
  error?: string | null;
  version?: string | null;
  auth?: 'kubeconfig' | 'login' | 'none' | 'user';
  loggedIn?: boolean;
  /** Why it is not ok: rejected, exec-plugin, credentials, tls, timeout, unreachable, protocol, config, error. */
  reason?: string | null;
  /** From the kubeconfig's `kubelantern` extension: the fleet table's group, the chip's colour. */
  group?: string | null;
  color?: string | null;
  /** Where it comes from: the kubeconfig, the in-cluster service account, or --demo's simulators. */
  source?: 'kubeconfig' | 'in-cluster' | 'demo';
}

/** "2 from kubeconfig · 4 demo": where the listed clusters come from, in words. */
export function sourcesText(list: ClusterInfo[]): string {
  const words: Record<string, string> = { kubeconfig: 'from kubeconfig', 'in-cluster': 'in-cluster', demo: 'demo (built-in simulators)' };
  const counts = new Map<string, number>();
  for (const c of list) counts.set(c.source ?? 'kubeconfig', (counts.get(c.source ?? 'kubeconfig') ?? 0) + 1);
  return [...counts].map(([s, n]) => `${n} ${words[s] ?? s}`).join(' · ');
}

export const clusters = new Value<ClusterInfo[] | null>(null);
export const clustersError = new Value<string>('');

/** `recheck`: probe that cluster afresh (kubelantern keeps hopeless failures until asked). */
export async function refreshClusters(recheck?: string): Promise<void> {
  try {
    const list = await apiJson<ClusterInfo[]>(recheck ? `/api/clusters?recheck=${encodeURIComponent(recheck)}` : '/api/clusters');
    // Colours first: the chips rendered by the list's subscribers read them.
    setClusterColours(list.map((c) => [c.name, c.color]));
    clusters.set(list);
    clustersError.set('');
  } catch (e) {
    clustersError.set(errorText(e));
  }
}

export function needsLogin(c: ClusterInfo | undefined): boolean {
  return !!c && (c.auth === 'none' || c.auth === 'login') && !c.loggedIn;
}

/**
 * A cluster the pages must not ask: unreachable, or failing in a way asking again will not fix
 * (a rejected credential, a missing or failing exec plugin, a TLS problem, a broken context).
 * The page explains it instead of an empty table retrying forever.
 */
export function blocked(c: ClusterInfo): boolean {
  if (c.state === 'unreachable') return true;
  if (c.state === 'ok' || c.state === 'unknown') return false;
  return ['rejected', 'exec-plugin', 'credentials', 'tls', 'config'].includes(c.reason ?? '');
}

/** The one label for a cluster's state: the home card and the cluster picker both show it. */
export function stateLabel(c: ClusterInfo): string {
  return needsLogin(c) ? 'login needed' : c.state;
}


const NS_KEY = 'kubelantern.namespace.';
export const namespaceFilter = new Value<{ cluster: string; ns: string | null }>({ cluster: '', ns: null });

export function namespaceFor(cluster: string): string | null {
  if (namespaceFilter.value.cluster === cluster) return namespaceFilter.value.ns;
  const saved = localStorage.getItem(NS_KEY + cluster);
  return saved ? saved : null;
}

export function setNamespace(cluster: string, ns: string | null): void {
  if (ns) localStorage.setItem(NS_KEY + cluster, ns);
  else localStorage.removeItem(NS_KEY + cluster);
  namespaceFilter.set({ cluster, ns });
}
