// Looks up pods and their containers when the caller gave only names or a label selector.

import { clusterJson, podPath, type KubeList, type KubeObject } from '../api/client';
import type { ContainerRef, PodRef } from './logcontroller';

export function podRefOf(pod: KubeObject): PodRef {
  const spec = (pod.spec ?? {}) as Record<string, { name: string }[] | undefined>;
  const containers: ContainerRef[] = [
    ...(spec.initContainers ?? []).map((c) => ({ name: c.name, kind: 'init' as const })),
    ...(spec.containers ?? []).map((c) => ({ name: c.name, kind: 'main' as const })),
    ...(spec.ephemeralContainers ?? []).map((c) => ({ name: c.name, kind: 'ephemeral' as const })),
  ];
  return { name: pod.metadata.name, containers };
}

/** The containers a shell can run in: main and ephemeral ones (init containers have ended). */
export function shellContainers(ref: PodRef): string[] {
  return ref.containers.filter((c) => c.kind !== 'init').map((c) => c.name);
}

export async function resolvePods(
  cluster: string,
  namespace: string,
  want: { pods?: (PodRef | string)[]; pod?: string; selector?: string },
): Promise<PodRef[]> {
  const getPod = async (name: string) => podRefOf(await clusterJson<KubeObject>(cluster, podPath(namespace, name)));
  if (want.pods?.length) return Promise.all(want.pods.map((p) => (typeof p === 'string' ? getPod(p) : Promise.resolve(p))));
  if (want.selector) {
    const list = await clusterJson<KubeList>(cluster, podPath(namespace, undefined, '', { labelSelector: want.selector }));
    const refs = list.items.map(podRefOf).sort((a, b) => a.name.localeCompare(b.name));
    if (!refs.length) throw new Error(`no pods match ${want.selector}`);
    return refs;
  }
  if (want.pod) return [await getPod(want.pod)];
  throw new Error('openLogs needs pods, pod or selector');
}

export function needsLookup(pods: (PodRef | string)[] | undefined): boolean {
  return !pods || !pods.length || pods.some((p) => typeof p === 'string');
}
