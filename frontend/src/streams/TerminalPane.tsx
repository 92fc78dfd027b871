import { useEffect, useRef } from 'preact/hooks';
import type { TerminalSlot } from './dockstore';
import { useRerender } from './hooks';
import type { TerminalController, TerminalOptions } from './terminal';
import { clusterColour } from '../clustercolour';

/** The terminal's banner: which cluster, namespace and pod the keystrokes go to. */
function Where({ o }: { o: TerminalOptions }) {
  return (
    <span class="kl-where" title={`cluster ${o.cluster}, namespace ${o.namespace}, pod ${o.pod}`}>
      <span class="kl-chip" data-testid="pane-cluster" style={{ background: clusterColour(o.cluster) }}>{o.cluster}</span>
      <span class="kl-where-pod">{o.namespace}/{o.pod}</span>
    </span>
  );
}

export function TerminalPane({ slot, visible }: { slot: TerminalSlot; visible: boolean }) {
  useRerender(slot);
  if (slot.ctl) return <Terminal ctl={slot.ctl} visible={visible} />;
  return (
    <div class="kl-termpane" data-testid="terminal-pane">
      <div class="kl-toolbar" role="toolbar" aria-label="Terminal controls">
        <Where o={slot.opts} />
        <span class={`kl-phase kl-phase-${slot.error ? 'error' : 'connecting'}`} data-testid="terminal-status">
          {slot.error || 'loading the terminal…'}
        </span>
      </div>
      <div class="kl-term" />
    </div>
  );
}

function Terminal({ ctl, visible }: { ctl: TerminalController; visible: boolean }) {
  useRerender(ctl);
  const ref = useRef<HTMLDivElement>(null);
  useEffect(() => {
    if (visible && ref.current) ctl.mount(ref.current);
  }, [visible, ctl]);

  const { containers } = ctl.opts;
  const st = ctl.state;
  return (
    <div class="kl-termpane" data-testid="terminal-pane">
      <div class="kl-toolbar" role="toolbar" aria-label="Terminal controls">
        <Where o={ctl.opts} />
        {containers.length > 1 && (
          <select aria-label="Container" value={ctl.container} onChange={(e) => ctl.restart((e.target as HTMLSelectElement).value, ctl.mode)}>
            {containers.map((c) => (
              <option value={c}>{c}</option>
            ))}
          </select>
        )}
        <select aria-label="Mode" value={ctl.mode} onChange={(e) => ctl.restart(ctl.container, (e.target as HTMLSelectElement).value as 'exec' | 'attach')}>
          <option value="exec">shell (exec)</option>
          <option value="attach">attach</option>
        </select>
        <button type="button" onClick={() => ctl.reconnect()}>
          Reconnect
        </button>
        <span class={`kl-phase kl-phase-${st.phase}`} data-testid="terminal-status">
          {st.message}
          {st.advice && st.phase !== 'connected' ? ` — ${st.advice}` : ''}
        </span>
      </div>
      <div ref={ref} class="kl-term" onClick={() => ctl.focus()} />
    </div>
  );
}
