// Tiny observable values (the app's only state primitive) and the ticking clock ages read.
import { useEffect, useState } from 'preact/hooks';

export class Value<T> {
  private subs = new Set<(v: T) => void>();
  constructor(private v: T) {}
  get value(): T {
    return this.v;
  }
  set(v: T): void {
    if (Object.is(v, this.v)) return;
    this.v = v;
    this.subs.forEach((f) => f(v));
  }
  subscribe(f: (v: T) => void): () => void {
    this.subs.add(f);
    return () => this.subs.delete(f);
  }
}

export function useValue<T>(v: Value<T>): T {
  const [, force] = useState(0);
  useEffect(() => v.subscribe(() => force((n) => n + 1)), [v]);
  return v.value;
}


export const now = new Value<number>(Date.now());
setInterval(() => now.set(Date.now()), 1000);
