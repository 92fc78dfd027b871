// Which kinds a cluster has: everything its discovery advertises as listable. Built-in kinds
// keep their hand-made columns, OpenShift's and Rancher's well-known kinds get theirs
// (vendorkinds.tsx), CRDs their printer columns, and every other kind a generic page whose
// columns come from the server's Table output.
import { clusterJson, type KubeList } from '../api/client';
import { BUILTIN_KINDS, crdKind, type KindDef } from '../kinds';
import { VENDOR_KINDS } from '../vendorkinds';
import { Value } from './value';

/** One listable resource as discovery describes it (aggregated or per group-version). */
export interface Discovered {
  group: string;
  version: string;
  resource: string;
  kind: string;
  namespaced: boolean;
  singular: string;
  shortNames: string[];
  verbs: string[];
}

export interface ClusterKinds {
  cluster: string;
  /** Kinds beyond the built-in ones (vendor, CRD and generic), in discovery order. */
  kinds: KindDef[];
  /** URL segment → kind id: plural, singular, short names, `plural.group`. */
  aliases: Record<string, string>;
  loaded: boolean;
  /** Why discovery failed, if it did (the sidebar then shows the built-in kinds only). */
  error: string;
}

/** Named for its first use (CRDs); holds every discovered kind of the current cluster. */
export const crdKinds = new Value<ClusterKinds>({ cluster: '', kinds: [], aliases: {}, loaded: false, error: '' });

const AGGREGATED = 'application/json;g=apidiscovery.k8s.io;v=v2;as=APIGroupDiscoveryList,application/json;g=apidiscovery.k8s.io;v=v2beta1;as=APIGroupDiscoveryList,application/json';

function fromAggregated(list: any, core: boolean): Discovered[] {
  const out: Discovered[] = [];
  for (const g of list.items ?? []) {
    const group = core ? '' : g.metadata?.name ?? '';
    const v = (g.versions ?? [])[0]; // the first version is the preferred one
    for (const r of v?.resources ?? []) {
      out.push({
        group, version: v.version, resource: r.resource, kind: r.responseKind?.kind ?? '', namespaced: r.scope !== 'Cluster',
        singular: r.singularResource ?? '', shortNames: r.shortNames ?? [], verbs: r.verbs ?? [],
      });
    }
  }
  return out;
}

function fromResourceList(group: string, version: string, list: any): Discovered[] {
  return ((list.resources ?? []) as any[])
    .filter((r) => !String(r.name).includes('/'))
    .map((r) => ({
      group, version, resource: r.name, kind: r.kind ?? '', namespaced: !!r.namespaced,
      singular: r.singularName ?? '', shortNames: r.shortNames ?? [], verbs: r.verbs ?? [],
    }));
}

/** Discovery as kubectl reads it: aggregated when served (1.30+), else one request a group. */
export async function discover(cluster: string): Promise<Discovered[]> {
  const headers = { Accept: AGGREGATED };
  const [core, groups] = await Promise.all([clusterJson<any>(cluster, '/api', { headers }), clusterJson<any>(cluster, '/apis', { headers })]);
  if (core.kind === 'APIGroupDiscoveryList' && groups.kind === 'APIGroupDiscoveryList') return [...fromAggregated(core, true), ...fromAggregated(groups, false)];
  const gvs: [string, string][] = ((core.versions ?? ['v1']) as string[]).slice(0, 1).map((v) => ['', v]);
  for (const g of groups.groups ?? []) {
    const pv = g.preferredVersion?.version ?? g.versions?.[0]?.version;
    if (pv) gvs.push([g.name, pv]);
  }
  // A group whose server is down (a broken aggregated API) must not hide the others.
  const lists = await Promise.all(
    gvs.map(([g, v]) => clusterJson<any>(cluster, g ? `/apis/${g}/${v}` : `/api/${v}`).then((l) => fromResourceList(g, v, l), () => [])),
  );
  return lists.flat();
}

/** Generic kind: columns come from the server's Table output (TableList). */
function genericKind(d: Discovered): KindDef {
  return {
    id: d.group ? `${d.resource}.${d.group}` : d.resource,
    label: d.kind || d.resource,
    kind: d.kind,
    group: d.group,
    version: d.version,
    resource: d.resource,
    namespaced: d.namespaced,
    section: 'API groups',
    columns: [],
    table: true,
  };
}

/** Every listable discovered resource as a kind, the best view first, plus its URL names. */
export function kindsFrom(found: Discovered[], crds: KindDef[]): { kinds: KindDef[]; aliases: Record<string, string> } {
  const kinds: KindDef[] = [];
  const aliases: Record<string, string> = {};
  const seen = new Set<string>();
  for (const d of found) {
    if (!d.verbs.includes('list') || !d.kind) continue;
    const same = (k: KindDef) => k.group === d.group && k.resource === d.resource;
    let k: KindDef | undefined = BUILTIN_KINDS.find(same);
    if (!k) {
      const vendor = VENDOR_KINDS.find(same);
      const crd = crds.find(same);
      k = vendor ? { ...vendor, version: d.version } : crd ?? genericKind(d);
      if (seen.has(k.id)) continue;
      seen.add(k.id);
      kinds.push(k);
    }
    // kubectl's order: the first group that has a name wins it (core and built-in groups come first).
    for (const name of [d.resource, d.singular, ...d.shortNames, d.kind.toLowerCase(), `${d.resource}.${d.group}`]) {
      if (name && !(name in aliases)) aliases[name] = k.id;
    }
  }
  return { kinds, aliases };
}

export async function loadCrds(cluster: string): Promise<void> {
  if (crdKinds.value.cluster === cluster) return;
  crdKinds.set({ cluster, kinds: [], aliases: {}, loaded: false, error: '' });
  const crdList = clusterJson<KubeList>(cluster, '/apis/apiextensions.k8s.io/v1/customresourcedefinitions').then(
    (l) => l.items.map(crdKind).filter((k): k is KindDef => !!k),
    // No permission to list CRDs: their kinds get generic Table pages instead.
    () => [] as KindDef[],
  );
  let next: ClusterKinds;
  try {
    const [found, crds] = await Promise.all([discover(cluster), crdList]);
    next = { cluster, ...kindsFrom(found, crds), loaded: true, error: '' };
  } catch (e) {
    next = { cluster, kinds: [], aliases: {}, loaded: true, error: e instanceof Error ? e.message : String(e) };
  }
  if (crdKinds.value.cluster === cluster) crdKinds.set(next);
}

/** The kind a URL segment names: an id, or a plural/singular/short name discovery gave. */
export function kindById(cluster: string, id: string): KindDef | undefined {
  const builtin = BUILTIN_KINDS.find((k) => k.id === id);
  if (builtin) return builtin;
  const known = crdKinds.value.cluster === cluster ? crdKinds.value : null;
  if (!known) return undefined;
  const canonical = known.aliases[id] ?? known.aliases[id.toLowerCase()] ?? id;
  return BUILTIN_KINDS.find((k) => k.id === canonical) ?? known.kinds.find((k) => k.id === canonical);
}

/** True once the kind is known or discovery finished without it. */
export function kindSettled(cluster: string, id: string): boolean {
  return !!kindById(cluster, id) || (crdKinds.value.cluster === cluster && crdKinds.value.loaded);
}
