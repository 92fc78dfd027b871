// The poll loop and the shared, reference-counted cache that the usage and allocation columns
// both need: one loop per cluster (and resource/namespace/node) however many views show it.
import { useEffect, useState } from 'preact/hooks';
import type { Value } from '../state/value';

/**
 * Calls `poll` until stopped; the next poll is timed from the end of the last one (`poll`
 * returns the wait in ms), so a slow API (50,000 pods) never has several of our requests in
 * flight.
 */
export class Poller {
  private timer: ReturnType<typeof setTimeout> | null = null;
  private running = false;
  private gen = 0;

  constructor(private readonly poll: () => Promise<number>) {}

  start(): void {
    if (this.running) return;
    this.running = true;
    const gen = ++this.gen; // a stop and start while a poll is in flight: one loop only
    const loop = async () => {
      const wait = await this.poll();
      if (this.running && gen === this.gen) this.timer = setTimeout(() => void loop(), wait);
    };
    void loop();
  }

  /** Also from inside `poll`: the loop then ends after it. */
  stop(): void {
    this.running = false;
    if (this.timer) clearTimeout(this.timer);
    this.timer = null;
  }
}

/** What `usePolled` shares: a state to show and a poller that keeps it fresh. */
export interface Polled<S> {
  readonly state: Value<S>;
  readonly poller: Poller;
  refs: number;
}

/**
 * The state of the cache under `key` (made by `make` the first time), polled while at least
 * one calling view is shown; null while `key` is null.
 */
export function usePolled<S, C extends Polled<S>>(caches: Map<string, C>, key: string | null, make: () => C): S | null {
  const [cache, setCache] = useState<C | null>(null);
  const [, force] = useState(0);
  useEffect(() => {
    if (key === null) {
      setCache(null);
      return;
    }
    let c = caches.get(key);
    if (!c) {
      c = make();
      caches.set(key, c);
    }
    c.refs++;
    c.poller.start();
    setCache(c);
    const unsub = c.state.subscribe(() => force((n) => n + 1));
    const held = c;
    return () => {
      unsub();
      if (--held.refs <= 0) held.poller.stop();
    };
  }, [key]); // `make` only matters for a new key
  return cache?.state.value ?? null;
}
