import { useEffect, useRef } from 'preact/hooks';
import { ALL, type LogController } from './logcontroller';
import { setMinimized } from './dockstore';
import { useRerender } from './hooks';
import type { LogStream } from './logstream';
import { clusterColour } from '../clustercolour';

const TAILS: [string, number | null][] = [
  ['last 100 lines', 100],
  ['last 1,000 lines', 1000],
  ['last 10,000 lines', 10000],
  ['all lines', null],
];
const SINCE: [string, number | null][] = [
  ['any time', null],
  ['last 5 minutes', 300],
  ['last 15 minutes', 900],
  ['last hour', 3600],
  ['last 6 hours', 21600],
  ['last 24 hours', 86400],
];
const CAPS = [10_000, 50_000, 100_000, 200_000];

function sourceStatus(s: LogStream, label: string, multi: boolean): string {
  const who = multi ? `${label}: ` : '';
  let text = `${who}${s.state.message}`;
  if (s.state.phase === 'reconnecting' && s.state.retryAt) {
    const secs = Math.max(0, Math.round((s.state.retryAt - Date.now()) / 1000));
    text += ` in ${secs}s`;
  }
  return text;
}

export function LogPane({ ctl, visible }: { ctl: LogController; visible: boolean }) {
  useRerender(ctl);
  const scrollRef = useRef<HTMLDivElement>(null);
  const searchRef = useRef<HTMLInputElement>(null);

  useEffect(() => {
    if (!scrollRef.current) return;
    ctl.attach(scrollRef.current);
    return () => ctl.detach();
  }, [ctl]);
  useEffect(() => {
    if (visible) ctl.shown();
  }, [visible, ctl]);

  const pods = ctl.opts.pods;
  const containers = ctl.containerChoices();
  const b = ctl.buffer;
  const matches = ctl.matches;
  // An init container's stream ends because the container finished: that is no alarm.
  const initDone = (s: LogStream) => s.state.phase === 'ended' && !ctl.query.previous && pods.some((p) => p.name === s.pod && p.containers.some((c) => c.name === s.container && c.kind === 'init'));
  const problems = ctl.streams.filter((s) => s.state.phase !== 'streaming' && !initDone(s));
  // "Following" is lit only while a stream brings lines: not after all ended, nor while every
  // live one is reconnecting after a drop.
  const live = ctl.streams.some((s) => s.state.phase !== 'ended' && s.state.phase !== 'error');
  const anyFollowing = ctl.streams.some((s) => s.state.phase === 'streaming');
  const canReconnect = ctl.streams.some((s) => (s.state.phase === 'ended' && !initDone(s)) || s.state.phase === 'error');

  const onSearchKey = (ev: KeyboardEvent) => {
    if (ev.key === 'Enter') {
      ev.preventDefault();
      ctl.step(ev.shiftKey ? -1 : 1);
    } else if (ev.key === 'Escape' && ctl.search) {
      ev.preventDefault();
      ev.stopPropagation();
      ctl.setSearch({ search: '' });
    }
  };
  const onPaneKey = (ev: KeyboardEvent) => {
    // Esc in a log pane minimizes the dock; handled here, before the page's own Esc handlers
    // (which may navigate), so it means the same thing everywhere.
    if (ev.key === 'Escape' && !ev.defaultPrevented) {
      ev.preventDefault();
      ev.stopPropagation();
      setMinimized(true);
      return;
    }
    if ((ev.ctrlKey || ev.metaKey) && ev.key.toLowerCase() === 'f') {
      ev.preventDefault();
      searchRef.current?.focus();
      searchRef.current?.select();
    }
  };

  return (
    <div class="kl-logpane" onKeyDown={onPaneKey} data-testid="log-pane">
      <div class="kl-toolbar" role="toolbar" aria-label="Log controls">
        {pods.length > 1 && (
          <select aria-label="Pod" value={ctl.pod} onChange={(e) => ctl.select((e.target as HTMLSelectElement).value, ctl.container)}>
            <option value={ALL}>All pods ({pods.length})</option>
            {pods.map((p) => (
              <option value={p.name}>{p.name}</option>
            ))}
          </select>
        )}
        <select aria-label="Container" value={ctl.container} onChange={(e) => ctl.select(ctl.pod, (e.target as HTMLSelectElement).value)}>
          {containers.length > 1 && <option value={ALL}>All containers</option>}
          {containers.map((c) => (
            <option value={c.name}>
              {c.name}
              {c.kind !== 'main' ? ` (${c.kind})` : ''}
            </option>
          ))}
        </select>
        <select
          aria-label="Tail lines"
          value={String(ctl.query.tailLines)}
          onChange={(e) => {
            const v = (e.target as HTMLSelectElement).value;
            ctl.setQuery({ tailLines: v === 'null' ? null : Number(v) });
          }}
        >
          {TAILS.map(([label, v]) => (
            <option value={String(v)}>{label}</option>
          ))}
        </select>
        <select
          aria-label="Since"
          value={String(ctl.query.sinceSeconds)}
          onChange={(e) => {
            const v = (e.target as HTMLSelectElement).value;
            ctl.setQuery({ sinceSeconds: v === 'null' ? null : Number(v) });
          }}
        >
          {SINCE.map(([label, v]) => (
            <option value={String(v)}>{label}</option>
          ))}
        </select>
        <label title="Logs of the container's previous (crashed or restarted) instance">
          <input type="checkbox" checked={ctl.query.previous} onChange={(e) => ctl.setQuery({ previous: (e.target as HTMLInputElement).checked })} />
          Previous
        </label>
        <label>
          <input type="checkbox" checked={ctl.timestamps} onChange={(e) => ctl.setDisplay({ timestamps: (e.target as HTMLInputElement).checked })} />
          Timestamps
        </label>
        <label>
          <input type="checkbox" checked={ctl.wrap} onChange={(e) => ctl.setDisplay({ wrap: (e.target as HTMLInputElement).checked })} />
          Wrap
        </label>
        <button
          type="button"
          aria-pressed={ctl.following && anyFollowing}
          title={!live ? 'Every stream has ended: no new lines will come' : !anyFollowing ? 'The connection dropped: no lines come until it is back (it reconnects by itself)' : 'Keep the newest line in view'}
          onClick={() => (ctl.following ? ctl.pause() : ctl.jumpToLatest())}
        >
          {!live ? 'Follow (ended)' : !anyFollowing ? 'Follow (reconnecting…)' : ctl.following ? 'Following' : 'Follow'}
        </button>
        <span class="kl-search">
          <input
            ref={searchRef}
            type="search"
            aria-label="Search logs"
            placeholder="Search (Enter / Shift+Enter)"
            value={ctl.search}
            class={ctl.searchError ? 'kl-invalid' : ''}
            title={ctl.searchError || 'Enter: next match, Shift+Enter: previous, Esc: clear'}
            onInput={(e) => ctl.setSearch({ search: (e.target as HTMLInputElement).value })}
            onKeyDown={onSearchKey}
          />
          <label title="Regular expression">
            <input type="checkbox" checked={ctl.regex} onChange={(e) => ctl.setSearch({ regex: (e.target as HTMLInputElement).checked })} />
            .*
          </label>
          <label title="Show only matching lines">
            <input type="checkbox" checked={ctl.filter} onChange={(e) => ctl.setSearch({ filter: (e.target as HTMLInputElement).checked })} />
            Filter
          </label>
          {/* The count's room is kept while there is no search, so its arrival does not wrap the toolbar. */}
          {matches ? (
            <span class="kl-count" data-testid="match-count">
              {matches.length ? `${ctl.currentIndex() || '–'}/${matches.length}` : 'no match'}
            </span>
          ) : (
            <span class="kl-count" aria-hidden="true" />
          )}
          <button type="button" aria-label="Previous match" disabled={!matches?.length} onClick={() => ctl.step(-1)}>
            ↑
          </button>
          <button type="button" aria-label="Next match" disabled={!matches?.length} onClick={() => ctl.step(1)}>
            ↓
          </button>
        </span>
        <button type="button" onClick={() => ctl.download()} title="Save the lines held here as a .log file">
          Download
        </button>
        <select aria-label="Keep at most" title="Memory cap: older lines are dropped" value={String(b.cap)} onChange={(e) => ctl.setCap(Number((e.target as HTMLSelectElement).value))}>
          {CAPS.map((c) => (
            <option value={String(c)}>keep {c.toLocaleString('en-US')} lines</option>
          ))}
        </select>
      </div>
      <div class="kl-logbody">
        <div ref={scrollRef} class="kl-log-scroll" tabIndex={0} aria-label="Log lines" data-testid="log-lines" />
        {!ctl.following && (
          <button type="button" class="kl-jump" onClick={() => ctl.jumpToLatest()}>
            Jump to latest ↓
          </button>
        )}
      </div>
      <div class="kl-status" data-testid="log-status">
        {ctl.resolving && <span class="kl-warn">{ctl.resolving}</span>}
        <span>{b.length.toLocaleString('en-US')} lines</span>
        {b.dropped > 0 && <span class="kl-dropped">{b.dropped.toLocaleString('en-US')} older lines dropped</span>}
        {ctl.skippedSources > 0 && <span class="kl-warn">{ctl.skippedSources} more sources not shown (limit {ctl.sources.length})</span>}
        {problems.length === 0 && anyFollowing && <span>{ctl.query.previous ? 'previous instance' : 'following'}</span>}
        {problems.slice(0, 3).map((s) => (
          <span class={`kl-phase kl-phase-${s.state.phase}`} title={s.state.advice ?? ''}>
            {sourceStatus(s, ctl.labelOf(s.src), ctl.multiSource)}
            {s.state.advice && s.state.phase === 'error' ? ` — ${s.state.advice}` : ''}
          </span>
        ))}
        {problems.length > 3 && <span>and {problems.length - 3} more</span>}
        {canReconnect && (
          <button type="button" onClick={() => ctl.reconnect()}>
            Reconnect
          </button>
        )}
        {(ctl.opts.clusters ?? [ctl.opts.cluster]).map((c, i) => (
          <span class={`kl-chip ${i === 0 ? 'kl-chip-end' : ''}`} data-testid="pane-cluster" style={{ background: clusterColour(c) }} title={`cluster ${c}, namespace ${ctl.opts.namespace}`}>{c}</span>
        ))}
      </div>
    </div>
  );
}
