// Pure pieces of the exec/attach WebSocket protocol (channel.k8s.io v4/v5): URL, frames,
// and what the final Status on channel 3 means. See the wire facts, sections 1.4-1.8.

import { podPath } from '../api/client';

export const EXEC_PROTOCOLS = ['v5.channel.k8s.io', 'v4.channel.k8s.io'];
export const STDIN = 0;
export const STDOUT = 1;
export const STDERR = 2;
export const ERROR = 3;
export const RESIZE = 4;

/**
 * Shell detection, Headlamp-style: bash, then sh, each tried only when the previous one is
 * reported as "executable file not found" (InternalError on channel 3). One round trip for
 * images with bash, two for sh-only images (alpine, busybox), and a clear message for images
 * with neither (distroless). A single `sh -c 'command -v bash && exec bash || exec sh'` would
 * save the second trip on sh-only images but relies on `exec` inside the container's shell
 * (the simulator's shell has none), and costs a trip for bash-without-sh images.
 */
export const SHELL_CANDIDATES: string[][] = [['bash'], ['sh']];

export function streamPath(
  mode: 'exec' | 'attach',
  namespace: string,
  pod: string,
  container: string,
  command: string[],
): string {
  const q = new URLSearchParams({ container, stdin: 'true', stdout: 'true', stderr: 'true', tty: 'true' });
  if (mode === 'exec') for (const c of command) q.append('command', c);
  return podPath(namespace, pod, mode, q);
}

const enc = new TextEncoder();

export function frame(channel: number, payload: string | Uint8Array): Uint8Array<ArrayBuffer> {
  const body = typeof payload === 'string' ? enc.encode(payload) : payload;
  const out = new Uint8Array(body.length + 1);
  out[0] = channel;
  out.set(body, 1);
  return out;
}

/** Resize message: client-go's TerminalSize JSON (no json tags: capitalised keys). */
export function resizeFrame(cols: number, rows: number): Uint8Array<ArrayBuffer> {
  return frame(RESIZE, `${JSON.stringify({ Width: cols, Height: rows })}\n`);
}

/** v5 only: half-close stdin. */
export const CLOSE_STDIN = new Uint8Array([255, STDIN]);

export type Outcome =
  | { kind: 'exit'; code: number }
  | { kind: 'not-found'; message: string }
  | { kind: 'failure'; message: string }
  | { kind: 'closed'; message: string };

const NOT_FOUND_RE = /executable file not found|no such file or directory|not found in \$PATH|exec format error/i;

/** What the session's end means, from the channel-3 text (may be empty) and the close code. */
export function outcome(statusText: string, closeCode: number, closeReason: string): Outcome {
  const text = statusText.trim();
  if (text) {
    let st: {
      status?: string;
      message?: string;
      reason?: string;
      details?: { causes?: { reason?: string; message?: string }[] };
    } | null = null;
    try {
      st = JSON.parse(text);
    } catch {
      // v1 channel.k8s.io sends plain error text.
      return NOT_FOUND_RE.test(text) ? { kind: 'not-found', message: text } : { kind: 'failure', message: text };
    }
    if (st?.status === 'Success') return { kind: 'exit', code: 0 };
    if (st?.reason === 'NonZeroExitCode') {
      const cause = st.details?.causes?.find((c) => c.reason === 'ExitCode');
      const code = Number(cause?.message);
      if (Number.isInteger(code)) return { kind: 'exit', code };
    }
    const message = st?.message ?? text;
    if (NOT_FOUND_RE.test(message)) return { kind: 'not-found', message };
    return { kind: 'failure', message };
  }
  if (closeCode === 1000) return { kind: 'closed', message: 'the session ended' };
  return { kind: 'closed', message: `connection lost (code ${closeCode}${closeReason ? `: ${closeReason}` : ''})` };
}
