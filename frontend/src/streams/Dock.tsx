import { useEffect, useReducer } from 'preact/hooks';
import {
  activate,
  closeAll,
  closePane,
  dockState,
  setHeight,
  setMaximized,
  setMinimized,
  subscribeDock,
  type Pane,
} from './dockstore';
import { LogPane } from './LogPane';
import { TerminalPane } from './TerminalPane';
import './streams.css';
import { clusterColour } from '../clustercolour';

/** Which cluster a pane talks to. */
export function paneCluster(p: Pane): string {
  return p.ctl.opts.cluster;
}

/** Every cluster a pane shows: one for most, several for a cross-cluster log pane. */
export function paneClusters(p: Pane): string[] {
  return (p.kind === 'logs' && p.ctl.opts.clusters?.length ? p.ctl.opts.clusters : null) ?? [paneCluster(p)];
}

const BAR = 34; // tab bar height in px

function startResize(ev: PointerEvent): void {
  ev.preventDefault();
  const handle = ev.currentTarget as HTMLElement;
  handle.setPointerCapture(ev.pointerId);
  const move = (e: PointerEvent) => {
    const h = Math.max(120, Math.min(window.innerHeight - 60, window.innerHeight - e.clientY));
    setHeight(h);
  };
  const up = () => {
    handle.removeEventListener('pointermove', move);
    handle.removeEventListener('pointerup', up);
  };
  handle.addEventListener('pointermove', move);
  handle.addEventListener('pointerup', up);
}

/** The bottom dock: tabs of log panes and terminals. Render once in the layout. */
export function Dock() {
  const [, bump] = useReducer((n: number, _: void) => n + 1, 0);
  const force = () => bump(undefined);
  useEffect(() => subscribeDock(force), []);
  const st = dockState();
  const open = st.panes.length > 0;
  const height = !open ? 0 : st.minimized ? BAR : st.maximized ? window.innerHeight - 48 : st.height;

  // The layout can pad its bottom by this much so the dock never hides content.
  useEffect(() => {
    document.documentElement.style.setProperty('--kl-dock-height', `${height}px`);
  }, [height]);

  // A maximized dock follows the window height.
  useEffect(() => {
    const onResize = () => dockState().maximized && force();
    window.addEventListener('resize', onResize);
    return () => window.removeEventListener('resize', onResize);
  }, []);

  // Ctrl+Shift+L shows/hides the dock (Esc is the app's: see closeTopPane in index.ts).
  useEffect(() => {
    const onKey = (ev: KeyboardEvent) => {
      const s = dockState();
      if (s.panes.length && ev.ctrlKey && ev.shiftKey && ev.key.toLowerCase() === 'l') {
        ev.preventDefault();
        setMinimized(!s.minimized);
      }
    };
    window.addEventListener('keydown', onKey);
    return () => window.removeEventListener('keydown', onKey);
  }, []);

  if (!open) return null;
  const tab = (p: Pane) => (
    <div
      role="tab"
      aria-selected={p.id === st.active}
      class={`kl-tab ${p.id === st.active ? 'kl-tab-active' : ''}`}
      onClick={() => activate(p.id)}
      onAuxClick={(e) => e.button === 1 && closePane(p.id)}
      title={`${paneClusters(p).join(', ')} · ${p.title}`}
    >
      <span class="kl-tab-kind">{p.kind === 'logs' ? '≡' : '>_'}</span>
      {/* One chip per cluster: a merged pane over two clusters must not look like one. */}
      {paneClusters(p).map((c) => (
        <span class="kl-chip" data-testid="tab-cluster" style={{ background: clusterColour(c) }}>{c}</span>
      ))}
      <span class="kl-tab-title">{p.title}</span>
      <button
        type="button"
        class="kl-tab-close"
        aria-label={`Close ${p.title}`}
        onClick={(e) => {
          e.stopPropagation();
          closePane(p.id);
        }}
      >
        ×
      </button>
    </div>
  );
  return (
    <section class={`kl-dock ${st.minimized ? 'kl-dock-min' : ''}`} style={{ height: `${height}px` }} aria-label="Logs and terminals" data-testid="dock">
      {!st.minimized && !st.maximized && <div class="kl-dock-resize" onPointerDown={startResize} title="Drag to resize" />}
      <div class="kl-dock-bar">
        <div class="kl-tabs" role="tablist">
          {st.panes.map(tab)}
        </div>
        <div class="kl-dock-actions">
          <button type="button" aria-label={st.minimized ? 'Restore dock' : 'Minimize dock'} title="Ctrl+Shift+L" onClick={() => setMinimized(!st.minimized)}>
            {st.minimized ? '▴' : '▾'}
          </button>
          <button type="button" aria-label={st.maximized ? 'Restore size' : 'Maximize dock'} onClick={() => setMaximized(!st.maximized)}>
            {st.maximized ? '❐' : '□'}
          </button>
          <button type="button" aria-label="Close all panes" onClick={() => closeAll()}>
            ×
          </button>
        </div>
      </div>
      <div class="kl-dock-body">
        {st.panes.map((p) => {
          const visible = p.id === st.active && !st.minimized;
          return (
            <div key={p.id} class="kl-pane" hidden={!visible} role="tabpanel">
              {p.kind === 'logs' ? <LogPane ctl={p.ctl} visible={visible} /> : <TerminalPane slot={p.ctl} visible={visible} />}
            </div>
          );
        })}
      </div>
    </section>
  );
}
