// Global search over the lists loaded in this cluster (names; prefix matches first).
import { useEffect, useMemo, useRef, useState } from 'preact/hooks';
import { onEscape } from '../keys';
import { BUILTIN_KINDS } from '../kinds';
import { namespaceFilter, namespaceFor } from '../state/clusters';
import { loadedCaches, warmSearch } from '../state/lists';
import { detailUrl, navigate, route } from '../state/router';
import { useValue } from '../state/value';
import { Icon } from '../icons';

export function Search({ cluster, inputRef }: { cluster: string; inputRef: { current: HTMLInputElement | null } }) {
  const [q, setQ] = useState('');
  const [open, setOpen] = useState(false);
  const [sel, setSel] = useState(0);
  useValue(namespaceFilter);
  const [warm, setWarm] = useState(0);
  const blurTimer = useRef<ReturnType<typeof setTimeout> | null>(null);
  useEffect(() => {
    if (!open) return;
    const t = setInterval(() => setWarm((n) => n + 1), 500);
    return () => clearInterval(t);
  }, [open]);
  const results = useMemo(() => {
    const needle = q.trim().toLowerCase();
    if (!needle) return [];
    const out: { kind: string; label: string; ns?: string; name: string }[] = [];
    const seen = new Set<string>();
    for (const c of loadedCaches(cluster)) {
      for (const o of c.state.value.items) {
        if (!o.metadata.name.toLowerCase().includes(needle)) continue;
        const key = `${c.kind.id}/${o.metadata.namespace ?? ''}/${o.metadata.name}`;
        if (seen.has(key) || c.kind.id === 'events') continue;
        seen.add(key);
        out.push({ kind: c.kind.id, label: c.kind.kind, ns: o.metadata.namespace, name: o.metadata.name });
      }
    }
    // Prefix matches first, then the kind on screen, then workloads before the rest.
    const here = route.value.page === 'list' || route.value.page === 'detail' ? route.value.kind : '';
    const order = BUILTIN_KINDS.map((k) => k.id);
    const rank = (kind: string) => (kind === here ? -1 : order.indexOf(kind) < 0 ? 99 : order.indexOf(kind));
    out.sort((a, b) => {
      const ax = a.name.toLowerCase().startsWith(needle) ? 0 : 1;
      const bx = b.name.toLowerCase().startsWith(needle) ? 0 : 1;
      return ax - bx || rank(a.kind) - rank(b.kind) || a.name.localeCompare(b.name);
    });
    return out.slice(0, 30);
  }, [q, cluster, open, warm]);

  useEffect(() => onEscape(() => {
    if (!open) return false;
    setOpen(false);
    inputRef.current?.blur();
    return true;
  }), [open]);

  const go = (i: number) => {
    const r = results[i];
    if (!r) return;
    setOpen(false);
    setQ('');
    inputRef.current?.blur();
    navigate(detailUrl(cluster, r.kind, r.ns ?? null, r.name));
  };

  return (
    <div class="search">
      <Icon name="search" />
      <input
        ref={inputRef}
        id="global-search"
        type="search"
        placeholder="Search names…  /"
        value={q}
        autocomplete="off"
        spellcheck={false}
        onInput={(e) => {
          setQ((e.target as HTMLInputElement).value);
          setSel(0);
          setOpen(true);
        }}
        onFocus={() => {
          if (blurTimer.current) clearTimeout(blurTimer.current);
          setOpen(true);
          warmSearch(cluster, namespaceFor(cluster));
        }}
        onBlur={() => {
          // Late enough for a click on a result to land; cancelled by a quick re-focus.
          blurTimer.current = setTimeout(() => setOpen(false), 150);
        }}
        onKeyDown={(e) => {
          if (e.key === 'ArrowDown') { setSel((s) => Math.min(s + 1, results.length - 1)); e.preventDefault(); }
          else if (e.key === 'ArrowUp') { setSel((s) => Math.max(s - 1, 0)); e.preventDefault(); }
          else if (e.key === 'Enter') go(sel);
        }}
      />
      {open && q.trim() && (
        <div class="search-results" role="listbox">
          {results.length === 0 && <div class="muted pad">No loaded object matches “{q}”. Search covers the lists opened in this cluster.</div>}
          {results.map((r, i) => (
            <div class={`search-hit ${i === sel ? 'sel' : ''}`} role="option" onMouseDown={(e) => { e.preventDefault(); go(i); }}>
              <span class="kind-tag">{r.label}</span>
              <span class="cell-name">{r.name}</span>
              {r.ns && <span class="muted small">{r.ns}</span>}
            </div>
          ))}
        </div>
      )}
    </div>
  );
}
