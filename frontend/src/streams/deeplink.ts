// Deep links for the dock (issue 11, defect 10): the open log and terminal panes live in the
// page URL's query, so a reload, a bookmark or a link sent to a colleague opens them again.
//
//   ?view=logs&cluster=C&namespace=N&pod=P[&container=X][&previous=1]
//   ?view=logs&cluster=C&namespace=N&selector=app%3Dweb&title=deployment%2Fweb   (workload)
//   ?view=exec&cluster=C&namespace=N&pod=P[&container=X]                        (or attach)
//   ?view=logs&cluster=C&also=C2&namespace=N&workload=Deployment+/apis/apps/v1+deployments+web
//                                                         (one workload across clusters)
//
// Several panes repeat the group in tab order: each `view` starts a new pane. The pure half
// (encode/decode) is apart from the IO half (reading and writing location) for the unit tests.

export interface PaneLink {
  view: 'logs' | 'exec' | 'attach';
  cluster: string;
  namespace: string;
  pod?: string;
  container?: string;
  selector?: string;
  title?: string;
  previous?: boolean;
  /** Cross-cluster panes: the other clusters, and the workload (streams/multicluster.ts). */
  also?: string[];
  workload?: string;
}

const KEYS = ['cluster', 'namespace', 'pod', 'container', 'selector', 'title', 'previous', 'also', 'workload'] as const;
const DOCK_KEYS = new Set<string>(['view', ...KEYS]);

/** The query string for these panes, keeping the query's other (non-dock) parameters. */
export function encodePanes(links: PaneLink[], search: string): string {
  const q = new URLSearchParams();
  for (const [k, v] of new URLSearchParams(search)) if (!DOCK_KEYS.has(k)) q.append(k, v);
  for (const l of links) {
    q.append('view', l.view);
    q.append('cluster', l.cluster);
    q.append('namespace', l.namespace);
    if (l.pod) q.append('pod', l.pod);
    if (l.container) q.append('container', l.container);
    if (l.selector) q.append('selector', l.selector);
    if (l.title) q.append('title', l.title);
    if (l.previous) q.append('previous', '1');
    for (const c of l.also ?? []) q.append('also', c);
    if (l.workload) q.append('workload', l.workload);
  }
  const s = q.toString();
  return s ? `?${s}` : '';
}

/** The panes a query names; groups that cannot be opened (no cluster, no pod) are skipped. */
export function decodePanes(search: string): PaneLink[] {
  const out: Partial<PaneLink>[] = [];
  for (const [k, v] of new URLSearchParams(search)) {
    if (k === 'view') {
      if (v === 'logs' || v === 'exec' || v === 'attach') out.push({ view: v });
      else out.push({}); // an unknown view swallows its parameters
      continue;
    }
    const cur = out[out.length - 1];
    if (!cur || !DOCK_KEYS.has(k)) continue;
    if (k === 'previous') cur.previous = v === '1' || v === 'true';
    else if (k === 'also') cur.also = [...(cur.also ?? []), v];
    else (cur as Record<string, string>)[k] = v;
  }
  return out.filter(
    (l): l is PaneLink =>
      !!l.view && !!l.cluster && l.namespace !== undefined && (!!l.pod || (l.view === 'logs' && (!!l.selector || (!!l.workload && !!l.also?.length)))),
  );
}
