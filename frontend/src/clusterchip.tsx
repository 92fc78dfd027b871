// The cluster chip: its name on its colour (kubeconfig extension, else a hash of the name), so
// the same cluster looks the same on every page title, tab, banner and row.
import { clusterColour } from './clustercolour';

export function ClusterChip({ name, small }: { name: string; small?: boolean }) {
  return (
    <span class={`kl-chip cluster-chip${small ? ' small' : ''}`} data-testid="cluster-chip" data-cluster={name} style={{ background: clusterColour(name) }} title={`cluster ${name}`}>
      {name}
    </span>
  );
}

/** Just the colour, for dense rows. */
export function ClusterDot({ name }: { name: string }) {
  return <span class="cluster-dot" data-testid="cluster-dot" style={{ background: clusterColour(name) }} aria-hidden="true" />;
}
