// YAML view and edit: read-only CodeMirror, then edit → server-side dry run → diff (merge view)
// → apply. A 409 says the object changed since it was opened and offers reload or overwrite.
import { useEffect, useRef, useState } from 'preact/hooks';
import { basicSetup, EditorView } from 'codemirror';
import { EditorSelection, EditorState, Prec } from '@codemirror/state';
import { keymap } from '@codemirror/view';
import { yaml as yamlLang } from '@codemirror/lang-yaml';
import { HighlightStyle, syntaxHighlighting } from '@codemirror/language';
import { tags as t } from '@lezer/highlight';
import { MergeView } from '@codemirror/merge';
import YAML from 'yaml';
import { ApiError, clusterJson, errorText, type KubeObject } from '../api/client';
import { apiVersionOf, objectPath, type KindDef } from '../kinds';
import { guardLeaving } from '../state/router';
import { toast } from '../state/toasts';

const cmTheme = EditorView.theme({
  '&': { backgroundColor: 'var(--bg-code)', color: 'var(--fg)', fontSize: '12.5px' },
  '.cm-content': { fontFamily: 'var(--mono)', caretColor: 'var(--fg)' },
  '.cm-gutters': { backgroundColor: 'var(--bg-code)', color: 'var(--fg-muted)', border: 'none', borderRight: '1px solid var(--border)' },
  '.cm-activeLine': { backgroundColor: 'var(--bg-hover)' },
  '.cm-activeLineGutter': { backgroundColor: 'var(--bg-hover)' },
  '&.cm-focused': { outline: 'none' },
  '.cm-selectionBackground, &.cm-focused .cm-selectionBackground, ::selection': { backgroundColor: 'var(--selection) !important' },
  '.cm-cursor': { borderLeftColor: 'var(--fg)' },
});

/** Syntax colours from CSS variables, so both themes stay readable. */
const yamlColors = syntaxHighlighting(
  HighlightStyle.define([
    { tag: [t.definition(t.propertyName), t.propertyName], color: 'var(--syn-key)' },
    { tag: [t.string, t.special(t.string)], color: 'var(--syn-str)' },
    { tag: [t.content], color: 'var(--fg)' },
    { tag: [t.number, t.bool, t.null, t.atom], color: 'var(--syn-num)' },
    { tag: [t.lineComment, t.comment], color: 'var(--fg-muted)', fontStyle: 'italic' },
    { tag: [t.meta, t.keyword, t.typeName, t.labelName], color: 'var(--syn-meta)' },
    { tag: [t.separator, t.punctuation, t.squareBracket, t.brace], color: 'var(--fg-muted)' },
  ]),
);

/**
 * The object as YAML for people: managedFields out (noise, and kept by the server on update).
 * List items carry no apiVersion/kind; put them back (first, as kubectl prints them).
 */
function toYaml(o: KubeObject, kind?: KindDef): string {
  const { apiVersion, kind: k, metadata, spec, ...rest } = structuredClone(o);
  const meta = { ...metadata } as Record<string, unknown>;
  delete meta.managedFields;
  const doc: Record<string, unknown> = {
    apiVersion: apiVersion ?? (kind ? apiVersionOf(kind) : undefined),
    kind: k ?? kind?.kind,
    metadata: meta,
    ...(spec !== undefined ? { spec } : {}),
    ...rest,
  };
  if (doc.apiVersion === undefined) delete doc.apiVersion;
  if (doc.kind === undefined) delete doc.kind;
  return YAML.stringify(doc, { lineWidth: 0, aliasDuplicateObjects: false });
}

function maskSecret(o: KubeObject): KubeObject {
  const masked: Record<string, string> = {};
  for (const [k, v] of Object.entries((o.data ?? {}) as Record<string, string>)) masked[k] = `<hidden: ${Math.floor((v.length * 3) / 4) - (v.endsWith('==') ? 2 : v.endsWith('=') ? 1 : 0)} bytes>`;
  const copy: KubeObject = { ...o, data: masked };
  if (o.stringData) copy.stringData = Object.fromEntries(Object.keys(o.stringData).map((k) => [k, '<hidden>']));
  const ann = o.metadata.annotations?.['kubectl.kubernetes.io/last-applied-configuration'];
  if (ann) copy.metadata = { ...o.metadata, annotations: { ...o.metadata.annotations, 'kubectl.kubernetes.io/last-applied-configuration': '<hidden>' } };
  return copy;
}

/**
 * Enter in YAML: the new line keeps the current line's indentation, one level more after a
 * line that opens a block (`key:`, `- key:`, `key: |`), and after `- item` it keeps the list's
 * item indentation. (CodeMirror's YAML indentation needs a complete tree, so a fresh `key:`
 * got no indent.)
 */
export function yamlNewline(line: string): string {
  const indent = /^\s*/.exec(line)![0];
  const code = line.replace(/\s+#.*$/, '').trimEnd();
  if (/:$/.test(code) || /:\s*[|>][-+]?\d*$/.test(code)) return indent + (/^\s*- /.test(code) ? '    ' : '  ');
  if (/^\s*- \S[^:]*:\s*\S/.test(code)) return `${indent}  `; // `- name: x`: the next key of that item
  return indent;
}

const yamlEnter = Prec.high(
  keymap.of([
    {
      key: 'Enter',
      run: (view) => {
        if (view.state.readOnly) return false;
        view.dispatch(
          view.state.changeByRange((range) => {
            const line = view.state.doc.lineAt(range.from);
            const insert = `\n${yamlNewline(line.text.slice(0, range.from - line.from))}`;
            return { changes: { from: range.from, to: range.to, insert }, range: EditorSelection.cursor(range.from + insert.length) };
          }),
          { scrollIntoView: true, userEvent: 'input' },
        );
        return true;
      },
    },
  ]),
);

function Editor({ doc, editable, onChange }: { doc: string; editable: boolean; onChange?: (s: string) => void }) {
  const host = useRef<HTMLDivElement>(null);
  const view = useRef<EditorView | null>(null);
  useEffect(() => {
    view.current = new EditorView({
      parent: host.current!,
      state: EditorState.create({
        doc,
        extensions: [
          basicSetup,
          yamlEnter,
          yamlLang(),
          yamlColors,
          cmTheme,
          EditorState.readOnly.of(!editable),
          EditorView.editable.of(editable),
          EditorView.updateListener.of((u) => {
            if (u.docChanged) onChange?.(u.state.doc.toString());
          }),
        ],
      }),
    });
    return () => view.current?.destroy();
  }, [editable]);
  // Live updates of the object refresh the read-only view without losing the scroll position.
  useEffect(() => {
    const v = view.current;
    if (!v || editable) return;
    const cur = v.state.doc.toString();
    if (cur !== doc) v.dispatch({ changes: { from: 0, to: cur.length, insert: doc } });
  }, [doc]);
  return <div class="editor" ref={host} data-testid={editable ? 'yaml-editor' : 'yaml-view'} />;
}

function Diff({ a, b }: { a: string; b: string }) {
  const host = useRef<HTMLDivElement>(null);
  useEffect(() => {
    const ro = [basicSetup, yamlLang(), yamlColors, cmTheme, EditorState.readOnly.of(true), EditorView.editable.of(false)];
    const mv = new MergeView({ a: { doc: a, extensions: ro }, b: { doc: b, extensions: ro }, parent: host.current!, collapseUnchanged: { margin: 3, minSize: 6 } });
    return () => mv.destroy();
  }, [a, b]);
  return <div class="editor diff" ref={host} data-testid="yaml-diff" />;
}

type Phase =
  | { step: 'view' }
  | { step: 'edit' }
  | { step: 'review'; result: KubeObject; sent: KubeObject }
  | { step: 'conflict'; sent: KubeObject; message: string };

export function YamlPanel({ cluster, kind, obj, canEdit, startEditing = false }: { cluster: string; kind: KindDef; obj: KubeObject; canEdit: boolean; startEditing?: boolean }) {
  const [phase, setPhase] = useState<Phase>({ step: startEditing && canEdit ? 'edit' : 'view' });
  const [base, setBase] = useState(() => toYaml(obj, kind));
  const [text, setText] = useState(base);
  const [err, setErr] = useState('');
  const [busy, setBusy] = useState(false);
  const isSecret = kind.id === 'secrets';
  const [reveal, setReveal] = useState(false);
  const current = toYaml(obj, kind);
  // Secret values stay hidden in the YAML view too, until asked for (editing shows them).
  const shown = isSecret && !reveal ? toYaml(maskSecret(obj), kind) : current;
  const path = objectPath(kind, obj.metadata.namespace, obj.metadata.name);
  // Unsaved edits: leaving the page (a link, back, reload, closing the tab) asks first.
  const dirty = useRef(false);
  dirty.current = phase.step !== 'view' && text !== base;
  useEffect(() => guardLeaving(() => (dirty.current ? `Drop your unsaved changes to ${kind.kind} ${obj.metadata.name}?` : null)), []);

  const put = (body: KubeObject, dry: boolean) =>
    clusterJson<KubeObject>(cluster, dry ? `${path}?dryRun=All` : path, {
      method: 'PUT',
      headers: { 'Content-Type': 'application/json' },
      body: JSON.stringify(body),
    });

  const parse = (): KubeObject | null => {
    try {
      const o = YAML.parse(text) as KubeObject;
      if (!o || typeof o !== 'object' || !o.metadata) throw new Error('the document must be one Kubernetes object with metadata');
      if (o.metadata.name !== obj.metadata.name) throw new Error(`metadata.name must stay “${obj.metadata.name}” (renaming creates a new object)`);
      return o;
    } catch (e) {
      setErr(`YAML error: ${e instanceof Error ? e.message : String(e)}`);
      return null;
    }
  };

  const review = async () => {
    setErr('');
    const o = parse();
    if (!o) return;
    setBusy(true);
    try {
      const result = await put(o, true);
      setPhase({ step: 'review', result, sent: o });
    } catch (e) {
      if (e instanceof ApiError && e.status === 409) setPhase({ step: 'conflict', sent: o, message: e.message });
      else setErr(`Dry run refused: ${errorText(e)}`);
    } finally {
      setBusy(false);
    }
  };

  const apply = async (o: KubeObject) => {
    setBusy(true);
    setErr('');
    try {
      await put(o, false);
      toast(`${kind.kind} ${obj.metadata.name} updated`, 'ok');
      setPhase({ step: 'view' });
    } catch (e) {
      if (e instanceof ApiError && e.status === 409) setPhase({ step: 'conflict', sent: o, message: e.message });
      else setErr(`Apply failed: ${errorText(e)}`);
    } finally {
      setBusy(false);
    }
  };

  if (phase.step === 'view') {
    return (
      <div class="yaml-panel">
        <div class="toolbar">
          <span class="muted small">Live — updates as the object changes.</span>
          <span class="spacer" />
          {isSecret && (
            <button class="btn small" data-testid="yaml-reveal" onClick={() => setReveal(!reveal)}>
              {reveal ? 'Hide values' : 'Show values'}
            </button>
          )}
          <button class="btn small" onClick={() => navigator.clipboard?.writeText(shown).then(() => toast('YAML copied', 'ok'))}>Copy</button>
          {canEdit && (
            <button class="btn small primary" data-testid="yaml-edit" onClick={() => { setBase(current); setText(current); setErr(''); setPhase({ step: 'edit' }); }}>
              Edit
            </button>
          )}
        </div>
        <Editor doc={shown} editable={false} />
      </div>
    );
  }
  if (phase.step === 'edit') {
    const changedUnderneath = current !== base;
    return (
      <div class="yaml-panel">
        <div class="toolbar">
          <span class="muted small">Editing. Review runs a server-side dry run first; nothing changes until you apply.</span>
          <span class="spacer" />
          <button class="btn small" onClick={() => setPhase({ step: 'view' })}>Cancel</button>
          <button class="btn small primary" data-testid="yaml-review" disabled={busy || text === base} onClick={review}>{busy ? 'Dry run…' : 'Review changes'}</button>
        </div>
        {changedUnderneath && <div class="alert warn">The object changed on the server since you started editing; applying will report a conflict.</div>}
        {err && <pre class="alert bad yaml-error" role="alert">{err}</pre>}
        <Editor doc={base} editable={true} onChange={setText} />
      </div>
    );
  }
  if (phase.step === 'review') {
    const after = toYaml(phase.result, kind);
    return (
      <div class="yaml-panel">
        <div class="toolbar">
          <span class="small">Dry run accepted. Left: now on the server; right: after apply (as the server computed it).</span>
          <span class="spacer" />
          <button class="btn small" onClick={() => setPhase({ step: 'edit' })}>Back to edit</button>
          <button class="btn small primary" data-testid="yaml-apply" disabled={busy} onClick={() => apply(phase.sent)}>{busy ? 'Applying…' : 'Apply'}</button>
        </div>
        {err && <pre class="alert bad yaml-error" role="alert">{err}</pre>}
        {after === base && (
          <div class="alert warn" data-testid="yaml-no-change">
            The server computed no change: comments, key order and formatting are not stored, only the object.
          </div>
        )}
        <Diff a={base} b={after} />
      </div>
    );
  }
  return (
    <div class="yaml-panel">
      <div class="alert bad" role="alert">
        <b>The object changed since you opened it.</b> The server refused the update (409 Conflict): {phase.message}
      </div>
      <div class="toolbar">
        <button class="btn small" onClick={() => { setBase(current); setText(current); setPhase({ step: 'edit' }); }}>Reload (drop my edits)</button>
        <button
          class="btn small danger"
          onClick={() => {
            const o = { ...phase.sent, metadata: { ...phase.sent.metadata, resourceVersion: obj.metadata.resourceVersion } };
            apply(o);
          }}
        >
          Overwrite with my version
        </button>
        <button class="btn small" onClick={() => setPhase({ step: 'edit' })}>Keep editing</button>
        <span class="spacer" />
        <span class="muted small">Left: on the server now · Right: your version</span>
      </div>
      <Diff a={current} b={text} />
    </div>
  );
}
