// Small building blocks of detail pages: breadcrumb, card sections, label chips, object links.
import type { ComponentChildren } from 'preact';
import type { KindDef } from '../../kinds';
import { detailUrl, listUrl } from '../../state/router';

export function Breadcrumb({ cluster, kind, namespace, name }: { cluster: string; kind: KindDef; namespace: string | null; name: string }) {
  return (
    <div class="breadcrumb">
      <a href={listUrl(cluster, kind.id)}>{kind.label}</a>
      {namespace && <><span class="sep">/</span><span class="muted">{namespace}</span></>}
      <span class="sep">/</span>
      <span>{name}</span>
    </div>
  );
}

export function Section({ title, children, right }: { title: string; children: ComponentChildren; right?: ComponentChildren }) {
  return (
    <section class="card">
      <div class="card-head"><h3>{title}</h3><span class="spacer" />{right}</div>
      <div class="card-body">{children}</div>
    </section>
  );
}

export function Chips({ map }: { map: Record<string, string> | undefined }) {
  const e = Object.entries(map ?? {});
  if (!e.length) return <span class="muted">none</span>;
  return <div class="chips">{e.map(([k, v]) => <span class="chip" title={`${k}=${v}`}><span class="chip-k">{k}</span>{v !== '' && <span class="chip-v">{v.length > 80 ? `${v.slice(0, 80)}…` : v}</span>}</span>)}</div>;
}

export function ObjLink({ cluster, kindId, ns, name }: { cluster: string; kindId: string; ns?: string | null; name: string }) {
  return <a href={detailUrl(cluster, kindId, ns ?? null, name)}>{name}</a>;
}
