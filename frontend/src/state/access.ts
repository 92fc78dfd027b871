// SelfSubjectAccessReview: which actions the user may take, cached per cluster and attributes.
import { clusterJson } from '../api/client';

const accessCache = new Map<string, Promise<boolean>>();

/** Can the current user do `verb` on the resource? Unknown (review not possible) counts as yes. */
export function canI(
  cluster: string,
  attrs: { verb: string; group: string; resource: string; namespace?: string | null; name?: string; subresource?: string },
): Promise<boolean> {
  const key = `${cluster}|${attrs.verb}|${attrs.group}|${attrs.resource}|${attrs.subresource ?? ''}|${attrs.namespace ?? ''}|${attrs.name ?? ''}`;
  let p = accessCache.get(key);
  if (!p) {
    p = clusterJson<any>(cluster, '/apis/authorization.k8s.io/v1/selfsubjectaccessreviews', {
      method: 'POST',
      headers: { 'Content-Type': 'application/json' },
      body: JSON.stringify({
        apiVersion: 'authorization.k8s.io/v1',
        kind: 'SelfSubjectAccessReview',
        spec: { resourceAttributes: { ...attrs, namespace: attrs.namespace ?? undefined } },
      }),
    })
      .then((r) => r?.status?.allowed !== false)
      .catch(() => true);
    accessCache.set(key, p);
  }
  return p;
}

export function clearAccessCache(): void {
  accessCache.clear();
}
