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
 *   closePane(id), closeAll(), closeTopPane() (Esc: minimizes the dock when a log pane has focus)
 *
 * Also accepted (the app's streams-bridge shape): openLogs with `pod` only, `pods` as names or
 * a label `selector` (containers are looked up), `previous`; openTerminal without
 * `containers` (looked up) or `mode` (exec).
 *
 * Transport: WebSockets through kubelantern's /clusters/<name>/... proxy (clusterWsUrl); the
 * browser never holds a cluster token. A refused upgrade is explained by an HTTP probe of the
 * same URL (probe.ts).
 */

export { Dock } from './Dock';
export { closeAll, closePane } from './dockstore';
export type { ContainerRef, PodRef } from './logcontroller';
export type { TerminalOptions } from './terminal';
export { podRefOf, shellContainers } from './podrefs';

import { addLogs, addTerminal, dockState, setMinimized } from './dockstore';
import type { PodRef } from './logcontroller';
import { needsLookup, resolvePods } from './podrefs';
import { followPods } from './podfollow';
import type { TerminalOptions } from './terminal';
import { errorText } from '../api/client';

/** What openLogs accepts: PodRefs, or pod names / one pod / a label selector to look up. */
export interface OpenLogsOptions {
  cluster: string;
  namespace: string;
  pods?: (PodRef | string)[];
  pod?: string;
  container?: string;
  selector?: string;
  title?: string;
  previous?: boolean;
  /** With `selector`: keep following it (pods that appear join, pods that go away end). */
  follow?: boolean;
}

export function openLogs(o: OpenLogsOptions): number {
  const title = o.title ?? o.pod ?? o.selector ?? 'logs';
  const follow = o.follow && o.selector ? o.selector : undefined;
  // Following: the selector's watch says which pods have logs (not a list taken earlier).
  const known = follow || needsLookup(o.pods) ? [] : (o.pods as PodRef[]);
  const { id, ctl } = addLogs({ cluster: o.cluster, namespace: o.namespace, pods: known, title, pod: o.pod, container: o.container, selector: follow }, { previous: !!o.previous });
  if (follow) {
    ctl.setResolveError(`waiting for pods of ${follow} to start…`);
    ctl.onDispose = followPods(o.cluster, o.namespace, follow, (pods) => ctl.updatePods(pods));
  } else if (!known.length) {
    ctl.setResolveError('looking up pods…');
    resolvePods(o.cluster, o.namespace, o).then(
      (pods) => ctl.setPods(pods),
      (e) => ctl.setResolveError(`cannot list the pods: ${errorText(e)}`),
    );
  }
  return id;
}

/** What openTerminal accepts: `containers` and `mode` may be left out (looked up / 'exec'). */
export interface OpenTerminalOptions extends Omit<TerminalOptions, 'containers' | 'mode'> {
  containers?: string[];
  mode?: 'exec' | 'attach';
}

export function openTerminal(o: OpenTerminalOptions): number {
  return addTerminal({ ...o, containers: o.containers ?? [], mode: o.mode ?? 'exec' });
}

/**
 * For the app's Esc handling: when the focus is in a log pane, minimize the dock and return
 * true. A terminal keeps its Esc (vi, less…), and focus elsewhere leaves Esc to the page.
 */
export function closeTopPane(): boolean {
  const s = dockState();
  if (!s.panes.length || s.minimized) return false;
  const el = document.activeElement as HTMLElement | null;
  if (!el?.closest('.kl-dock') || el.closest('.xterm, .kl-term')) return false;
  setMinimized(true);
  return true;
}
