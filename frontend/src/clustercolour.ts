// A stable colour per cluster, so the same cluster looks the same on every tab, banner and
// page (and two clusters with a pod of the same name do not). A colour set for a cluster in
// its kubeconfig extension (served by /api/clusters) wins over the one derived from the name.

const chosen = new Map<string, string>();

/** Colours the server knows for clusters (from kubeconfig extensions). */
export function setClusterColours(entries: [string, string | null | undefined][]): void {
  chosen.clear();
  for (const [name, colour] of entries) if (colour) chosen.set(name, colour);
}

/** The cluster's colour: its configured one, else a hue from a hash of its name. */
export function clusterColour(name: string): string {
  const set = chosen.get(name);
  if (set) return set;
  // FNV-1a: small, fast, and spreads similar names apart.
  let h = 0x811c9dc5;
  for (let i = 0; i < name.length; i++) {
    h ^= name.charCodeAt(i);
    h = Math.imul(h, 0x01000193);
  }
  const hue = (h >>> 0) % 360;
  return `hsl(${hue} 55% 42%)`;
}
