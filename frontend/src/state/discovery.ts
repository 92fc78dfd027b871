// Which kinds a cluster has: the built-in ones plus its CRDs.
import { clusterJson, type KubeList } from '../api/client';
import { BUILTIN_KINDS, crdKind, type KindDef } from '../kinds';
import { Value } from './value';

export const crdKinds = new Value<{ cluster: string; kinds: KindDef[]; loaded: boolean }>({ cluster: '', kinds: [], loaded: false });

export async function loadCrds(cluster: string): Promise<void> {
  if (crdKinds.value.cluster === cluster) return;
  crdKinds.set({ cluster, kinds: [], loaded: false });
  try {
    const list = await clusterJson<KubeList>(cluster, '/apis/apiextensions.k8s.io/v1/customresourcedefinitions');
    const kinds = list.items.map(crdKind).filter((k): k is KindDef => !!k);
    kinds.sort((a, b) => a.label.localeCompare(b.label));
    if (crdKinds.value.cluster === cluster) crdKinds.set({ cluster, kinds, loaded: true });
  } catch {
    // No permission to list CRDs (or no such API): the sidebar shows the built-in kinds only.
    if (crdKinds.value.cluster === cluster) crdKinds.set({ cluster, kinds: [], loaded: true });
  }
}

export function kindById(cluster: string, id: string): KindDef | undefined {
  return BUILTIN_KINDS.find((k) => k.id === id) ?? (crdKinds.value.cluster === cluster ? crdKinds.value.kinds.find((k) => k.id === id) : undefined);
}

/** True once the kind is known or discovery finished without it. */
export function kindSettled(cluster: string, id: string): boolean {
  return !!kindById(cluster, id) || (crdKinds.value.cluster === cluster && crdKinds.value.loaded);
}
