// Pure pieces of terminals that survive a dropped connection (issue 10 §1): the client half of
// kubelantern's `kubelantern.session.<id>` contract (proxy/ws/sessions.py).
//
// - every new terminal session offers a fresh random entry beside the Kubernetes protocols;
// - a close without a close frame (1006) or with 1001 leaves the session on the server for
//   its grace period: the terminal dials the same URL with the same entry again, with backoff;
// - what comes first on the new connection tells what happened while it was away.

import { ERROR, STDERR, STDOUT } from './execproto';

export const SESSION_PREFIX = 'kubelantern.session.';
/** When /api/config does not say (`--session-grace` default). */
export const DEFAULT_GRACE_S = 60;
/**
 * How much longer than the grace period the terminal keeps trying: kubelantern's clock starts
 * when *it* notices the drop, which can be later than the browser (a silent connection is
 * noticed by a missed ping). Trying a little longer costs nothing: a session that is gone
 * is answered with a new one, and the terminal says so.
 */
const SLACK_MS = 5_000;
const FIRST_DELAY_MS = 500;
const MAX_DELAY_MS = 8_000;

/** 32 characters of [A-Za-z0-9_-] (192 random bits): the server takes 16–64. */
export function newSessionId(): string {
  const bytes = new Uint8Array(24);
  crypto.getRandomValues(bytes);
  let bin = '';
  for (const b of bytes) bin += String.fromCharCode(b);
  return btoa(bin).replace(/\+/g, '-').replace(/\//g, '_').replace(/=+$/, '');
}

export function sessionProtocols(kube: string[], id: string): string[] {
  return [...kube, SESSION_PREFIX + id];
}

/** A close that leaves the session on the server: the connection was lost, not ended. */
export function isDrop(code: number): boolean {
  return code === 1006 || code === 1001;
}

/** The wait before reattach attempt `attempt` (0-based): 0.5 s, 1, 2, 4, then 8 s each. */
export function reattachDelay(attempt: number): number {
  return Math.min(MAX_DELAY_MS, FIRST_DELAY_MS * 2 ** Math.max(0, attempt));
}

/** When to stop reattaching (epoch ms) after a drop at `since`, for a grace of `graceS`. */
export function rejoinDeadline(since: number, graceS: number | null): number {
  return since + (graceS ?? DEFAULT_GRACE_S) * 1000 + SLACK_MS;
}

const LOST_RE = /^\r\n\[kubelantern: (\d+) bytes of output were lost while disconnected\]\r\n$/;

export type Rejoined =
  | { kind: 'new-session' } // the old one was gone (grace over, or kubelantern restarted)
  | { kind: 'lost'; bytes: number } // the same session; this much output went meanwhile
  | { kind: 'resumed' }; // the same session, its output in full

/**
 * What the first message after a reattach says. A new upstream exec/attach always starts with
 * one empty message on the lowest writable channel (the "connected" signal, wire facts §1.5);
 * kubelantern's replay of a kept session never does, since that message went to the first
 * connection. A kept session that lost output starts with kubelantern's notice on stdout
 * (`execsession.LOST_NOTICE`: keep the two in step). (A connection dropped before that first
 * message reached it would be taken for a new session on its return: a wrong notice, never a
 * wrong screen.)
 */
export function rejoined(first: Uint8Array): Rejoined {
  const ch = first[0];
  if (first.length === 1 && (ch === STDOUT || ch === STDERR || ch === ERROR)) return { kind: 'new-session' };
  if (ch === STDOUT && first.length < 200) {
    const m = LOST_RE.exec(new TextDecoder().decode(first.subarray(1)));
    if (m) return { kind: 'lost', bytes: Number(m[1]) };
  }
  return { kind: 'resumed' };
}
