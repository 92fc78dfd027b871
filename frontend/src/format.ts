// Pure formatting helpers: ages, pod status the way kubectl prints it, status colours.
import type { KubeObject } from './api/client';

/** kubectl-style short age: 45s, 12m, 3h4m, 5d, 2y. */
export function age(ts: string | undefined, now: number = Date.now()): string {
  if (!ts) return '';
  const t = Date.parse(ts);
  if (Number.isNaN(t)) return '';
  const s = Math.max(0, Math.floor((now - t) / 1000));
  if (s < 120) return `${s}s`;
  const m = Math.floor(s / 60);
  if (m < 10) return `${m}m${s % 60 ? `${s % 60}s` : ''}`;
  if (m < 180) return `${m}m`;
  const h = Math.floor(m / 60);
  if (h < 8) return `${h}h${m % 60 ? `${m % 60}m` : ''}`;
  if (h < 48) return `${h}h`;
  const d = Math.floor(h / 24);
  if (d < 365 * 2) return `${d}d`;
  return `${Math.floor(d / 365)}y`;
}

export type Tone = 'ok' | 'warn' | 'bad' | 'info' | 'muted';

/** The STATUS column of `kubectl get pods`. */
export function podStatus(pod: KubeObject): string {
  const st = pod.status ?? {};
  if (pod.metadata.deletionTimestamp) return 'Terminating';
  let reason: string = st.reason || st.phase || 'Unknown';
  const inits: any[] = st.initContainerStatuses ?? [];
  for (let i = 0; i < inits.length; i++) {
    const c = inits[i];
    if (c.state?.terminated?.exitCode === 0) continue;
    if (c.state?.terminated) {
      return c.state.terminated.reason ? `Init:${c.state.terminated.reason}` : `Init:ExitCode:${c.state.terminated.exitCode}`;
    }
    if (c.state?.waiting?.reason && c.state.waiting.reason !== 'PodInitializing') return `Init:${c.state.waiting.reason}`;
    return `Init:${i}/${(pod.spec?.initContainers ?? []).length}`;
  }
  for (const c of (st.containerStatuses ?? []) as any[]) {
    if (c.state?.waiting?.reason) reason = c.state.waiting.reason;
    else if (c.state?.terminated?.reason) reason = c.state.terminated.reason;
    else if (c.state?.terminated) reason = `ExitCode:${c.state.terminated.exitCode}`;
  }
  if (reason === 'Running' && (st.conditions ?? []).some((c: any) => c.type === 'Ready' && c.status !== 'True') && st.phase === 'Running') {
    // kubectl prints Running here too; keep it, readiness shows in READY.
  }
  return reason;
}

export function statusTone(status: string): Tone {
  const s = status.toLowerCase();
  if (/^(running|active|bound|ready|true|complete|completed|succeeded|available|normal|ok)$/.test(s)) return 'ok';
  if (/crash|error|fail|backoff|oomkilled|notready|unknown|lost|evicted|invalid|false|unreachable|unauthorized|unavailable/.test(s)) return 'bad';
  if (/pending|creating|init|terminating|waiting|progress|warning|suspend|unschedulable|login/.test(s)) return 'warn';
  return 'muted';
}

export function podReady(pod: KubeObject): [number, number] {
  const cs: any[] = pod.status?.containerStatuses ?? [];
  const total = (pod.spec?.containers ?? []).length || cs.length;
  return [cs.filter((c) => c.ready).length, total];
}

export function podRestarts(pod: KubeObject): number {
  return ((pod.status?.containerStatuses ?? []) as any[]).reduce((n, c) => n + (c.restartCount ?? 0), 0);
}

export function nodeReady(node: KubeObject): string {
  const c = ((node.status?.conditions ?? []) as any[]).find((x) => x.type === 'Ready');
  let s = c?.status === 'True' ? 'Ready' : 'NotReady';
  if (node.spec?.unschedulable) s += ',SchedulingDisabled';
  return s;
}

export function nodeRoles(node: KubeObject): string {
  const roles = Object.keys(node.metadata.labels ?? {})
    .filter((k) => k.startsWith('node-role.kubernetes.io/'))
    .map((k) => k.slice('node-role.kubernetes.io/'.length));
  return roles.join(',') || '<none>';
}

export function shortImage(image: string): string {
  const at = image.indexOf('@');
  const i = at >= 0 ? image.slice(0, at) : image;
  return i.replace(/^docker\.io\/(library\/)?/, '');
}

export function selectorText(sel: Record<string, string> | undefined): string {
  return Object.entries(sel ?? {})
    .map(([k, v]) => `${k}=${v}`)
    .join(',');
}

export function labelsMatch(selector: Record<string, string> | undefined, labels: Record<string, string> | undefined): boolean {
  const entries = Object.entries(selector ?? {});
  if (!entries.length) return false;
  return entries.every(([k, v]) => labels?.[k] === v);
}
