// Heavy editors (CodeMirror for YAML, xterm.js for terminals) are separate chunks fetched on
// first use, so the first screen loads without them. Chunk URLs are relative to the importing
// script (see vite.config.ts), which keeps them right under --base-url and `script-src 'self'`.
import type { ComponentType } from 'preact';
import { useEffect, useState } from 'preact/hooks';

/** A loader that runs once; a failure is not cached, so the next use tries again. */
export function once<T>(load: () => Promise<T>): () => Promise<T> {
  let pending: Promise<T> | null = null;
  return () =>
    (pending ??= load().catch((e: unknown) => {
      pending = null;
      throw e;
    }));
}

/** Why a chunk did not load, in words (a server updated under an open tab is the usual cause). */
export function chunkErrorText(what: string, e: unknown): string {
  return `Could not load the ${what} (${e instanceof Error ? e.message : String(e)}). Reload the page; if kubelantern was upgraded meanwhile, the old files are gone.`;
}

/** A component from a chunk loaded when it first renders; a line of text meanwhile. */
export function lazyComponent<P extends object>(what: string, load: () => Promise<ComponentType<P>>): ComponentType<P> {
  const get = once(load);
  let loaded: ComponentType<P> | null = null;
  return function Lazy(props: P) {
    const [C, setC] = useState<ComponentType<P> | null>(() => loaded);
    const [err, setErr] = useState('');
    useEffect(() => {
      if (C) return;
      let live = true;
      get().then(
        (c) => {
          loaded = c;
          if (live) setC(() => c);
        },
        (e: unknown) => live && setErr(chunkErrorText(what, e)),
      );
      return () => {
        live = false;
      };
    }, []);
    if (C) return <C {...props} />;
    if (err)
      return (
        <div class="alert bad" role="alert">
          {err}
        </div>
      );
    return <div class="muted small lazy-loading">Loading the {what}…</div>;
  };
}
