// Why did a WebSocket fail? A refused upgrade reaches JavaScript as a bare close 1006 with no
// status, so we ask the same URL over plain HTTP (kubelantern returns the upstream's status
// and body) and say what it was, to whom, and what to do.

import { clusterPath, isLanternAnswer, parseErrorBody } from '../api/client';

export interface StreamFailure {
  status: number; // 0: kubelantern itself unreachable
  message: string; // one sentence for the user
  advice: string;
  /** true when retrying cannot help (credentials, RBAC, missing pod). */
  permanent: boolean;
}

/** Pure: the user-facing explanation for an HTTP status and body from the probe. */
export function explainStatus(cluster: string, status: number, body: string, own = false): StreamFailure {
  const msg = parseErrorBody(body).message.slice(0, 300);
  const doctor = `Run \`kubelantern doctor ${cluster}\` to see how kubelantern reaches it.`;
  const said = msg ? `: ${msg}` : '';
  if (status === 0)
    return { status, message: 'kubelantern is not reachable', advice: 'Is `kubelantern serve` still running?', permanent: false };
  if (own && status === 401)
    return { status, message: 'kubelantern needs its launch token', advice: 'Open the URL printed by `kubelantern serve` (…/?token=…).', permanent: true };
  if (own && status === 403)
    return { status, message: `kubelantern refused the connection${said}`, advice: 'Open kubelantern through the address it printed (Host/Origin check).', permanent: true };
  if (status === 401)
    return { status, message: `cluster ${cluster} refused the credentials (401)${said}`, advice: doctor, permanent: true };
  if (status === 403) {
    if (/origin not allowed/i.test(msg))
      return { status, message: `cluster ${cluster} refused the WebSocket: 403 origin not allowed`, advice: doctor, permanent: true };
    return { status, message: `forbidden by cluster ${cluster} (403)${said}`, advice: 'Your account may lack the RBAC permission for this (pods/log, pods/exec or pods/attach). ' + doctor, permanent: true };
  }
  if (status === 404) return { status, message: `not found on cluster ${cluster} (404)${said}`, advice: 'The pod may have been deleted or replaced.', permanent: true };
  if (status === 400 && /upgrade request required/i.test(msg))
    return { status, message: 'the WebSocket upgrade failed although the cluster answers HTTP', advice: 'A proxy between the browser and kubelantern may block WebSocket upgrades.', permanent: false };
  if (status === 400) return { status, message: `cluster ${cluster} said${said || ' 400 Bad Request'}`, advice: '', permanent: true };
  if (status === 502 || status === 503 || status === 504)
    return { status, message: `cluster ${cluster} is unreachable (${status})${said}`, advice: doctor, permanent: false };
  if (status >= 200 && status < 300)
    return { status, message: 'the WebSocket connection failed although the cluster answers HTTP', advice: 'A proxy between the browser and kubelantern may block WebSocket upgrades.', permanent: false };
  return { status, message: `${status} from cluster ${cluster}${said}`, advice: doctor, permanent: status < 500 };
}

/** GETs the stream's URL (made cheap by the caller's query) and explains the answer. */
export async function probe(cluster: string, path: string): Promise<StreamFailure> {
  let res: Response;
  try {
    res = await fetch(clusterPath(cluster, path), { credentials: 'same-origin', headers: { Accept: 'application/json, */*' } });
  } catch {
    return explainStatus(cluster, 0, '');
  }
  if (res.ok) {
    void res.body?.cancel().catch(() => undefined);
    return explainStatus(cluster, res.status, '');
  }
  const body = await res.text().catch(() => '');
  // The same test as for any other request: was it kubelantern (launch token, Host/Origin) or the cluster?
  return explainStatus(cluster, res.status, body, isLanternAnswer(res, parseErrorBody(body).message));
}
