import { useEffect, useReducer } from 'preact/hooks';

/** Anything the dock's components watch: controllers, terminal slots, the dock store. */
export interface Observable {
  subscribe(fn: () => void): () => void;
}

/** Re-renders the component whenever `source` says it changed. */
export function useRerender(source: Observable): void {
  const [, bump] = useReducer((n: number, _: void) => n + 1, 0);
  useEffect(() => source.subscribe(() => bump(undefined)), [source]);
}
