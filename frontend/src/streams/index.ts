/**
 * kubelantern streams: the pod log viewer, the exec/attach terminal and the dock holding them.
 *
 * Public API (stable; used by the resource pages):
 *
 *   openLogs({ cluster, namespace, pods, title, pod?, container? }): number
 *     Opens a log pane in the dock and returns its pane id. `pods` is one pod, or every pod of a
 *     workload (the pane then offers "All pods", merged in time order with a colour and a label
 *     per source). Each PodRef lists its containers with their kind ('init' | 'main' |
 *     'ephemeral'); the picker offers them all plus "All containers". `pod`/`container` preselect.
 *
 *   openTerminal({ cluster, namespace, pod, containers, container?, mode }): number
 *     Opens a terminal pane: mode 'exec' starts a shell (bash if present, else sh; a clear
 *     message for images without a shell), 'attach' attaches to the container's process.
 *
 *   <Dock />
 *     Render once in the layout (anywhere; it is position: fixed at the bottom). It sets the CSS
 *     variable --kl-dock-height on <html> (0px when closed) so the layout can pad its bottom.
 *     Keys: Esc in a log pane minimizes the dock (terminals keep Esc), Ctrl+Shift+L toggles it,
 *     Ctrl+F in a log pane focuses its search, Enter / Shift+Enter step through matches.
 *
 *   closePane(id), closeAll()
 *
 * Transport: WebSockets through kubelantern's /clusters/<name>/... proxy (clusterWsUrl); the
 * browser never holds a cluster token. A refused upgrade is explained by an HTTP probe of the
 * same URL (probe.ts).
 */

export { Dock } from './Dock';
export { closeAll, closePane } from './dockstore';
export type { ContainerRef, LogsOptions, PodRef } from './logcontroller';
export type { TerminalOptions } from './terminal';

import { addLogs, addTerminal } from './dockstore';
import type { LogsOptions } from './logcontroller';
import type { TerminalOptions } from './terminal';

export function openLogs(opts: LogsOptions): number {
  return addLogs(opts);
}

export function openTerminal(opts: TerminalOptions): number {
  return addTerminal(opts);
}
