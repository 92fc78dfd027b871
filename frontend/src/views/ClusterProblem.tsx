// Failures explained in the page (issue 11, defect 4): a cluster that cannot be used gets a page
// saying what failed and the action that fixes it, instead of an empty table retrying forever.
import { type ClusterInfo, refreshClusters } from '../state/clusters';
import { ClusterChip } from '../clusterchip';
import { DoctorPanel } from './Doctor';
import { ClusterBadge } from './Home';
import { LoginForm } from './Login';

interface Explained {
  title: string;
  /** What to do, after the error text. */
  action: string;
  /** The button that asks again (re-running an exec plugin for 'exec-plugin'). */
  again: string;
}

/** Pure: the headline and the fix for a failure reason. */
export function explain(c: ClusterInfo): Explained {
  switch (c.reason) {
    case 'rejected':
      return {
        title: `${c.name} rejected its credentials`,
        action: "The kubeconfig's token or certificate was refused (401): it expired or was revoked. Refresh it in the kubeconfig, or paste a token below for this browser session.",
        again: 'Check again',
      };
    case 'exec-plugin':
    case 'credentials':
      return {
        title: `The credential plugin for ${c.name} failed`,
        action: 'Install the plugin or log in with it in a terminal (its message is above), then re-run it. A token pasted below is used instead for this browser session.',
        again: 'Re-run the plugin',
      };
    case 'tls':
      return {
        title: `TLS with ${c.name} failed`,
        action: "The server's certificate does not match what the kubeconfig trusts. Set certificate-authority(-data) to the CA that signed it, or tls-server-name to a name the certificate carries.",
        again: 'Check again',
      };
    case 'config':
      return { title: `The kubeconfig context ${c.name} cannot be used`, action: 'Fix the context in the kubeconfig (kubelantern reloads it when the file changes).', again: 'Check again' };
    case 'timeout':
      return { title: `${c.name} does not answer`, action: 'The server accepted no connection or gave no answer in time: check the address, VPN or proxy-url.', again: 'Check again' };
    default:
      return { title: `${c.name} is unreachable`, action: 'kubelantern could not connect to the API server: check the network, VPN or proxy-url.', again: 'Check again' };
  }
}

export function ClusterProblem({ info }: { info: ClusterInfo }) {
  const e = explain(info);
  const canLogin = ['rejected', 'exec-plugin', 'credentials'].includes(info.reason ?? '');
  return (
    <div class="empty big" data-testid="cluster-problem" data-reason={info.reason ?? info.state}>
      <h2>
        <ClusterChip name={info.name} /> {e.title} <ClusterBadge c={info} />
      </h2>
      {info.error && <p class="error-text" data-testid="cluster-problem-error">{info.error}</p>}
      <p data-testid="cluster-problem-action">{e.action}</p>
      <p>
        Server <code>{info.server}</code>. <b>Run checks</b> below (or <code>kubelantern doctor {info.name}</code> in a terminal) shows which step fails.
      </p>
      <button class="btn" onClick={() => refreshClusters(info.name)}>{e.again}</button>
      {canLogin && <LoginForm cluster={info} intro={`Or use a token of your own for ${info.name}, instead of the kubeconfig's, in this browser session.`} />}
      <div class="problem-doctor"><DoctorPanel cluster={info.name} /></div>
    </div>
  );
}
