// Session recordings (serve --record-sessions): filter by cluster, pod, user and day (newest
// first, as the server lists them), play one back in asciinema-player. The filters and the
// recording played live in the URL (?rec_cluster=&rec_pod=&rec_user=&rec_day=&play=), so a
// link shares them.
import { useEffect, useState } from 'preact/hooks';
import { lazyComponent } from '../lazy';
import { FILTER_KEYS, fetchCast, listRecordings, recordingStatus, type RecordingFilters, type RecordingItem } from '../state/recordings';
import { useValue } from '../state/value';
import { errorText } from '../api/client';
import { Icon } from '../icons';

const CastPlayer = lazyComponent('recording player', () => import('./CastPlayer').then((m) => m.CastPlayer));

// The page's own query keys, apart from the dock's (cluster, pod, ... of open panes), which
// stay as they are: a terminal open beside the recordings keeps its deep link.
const URL_KEYS: Record<keyof RecordingFilters, string> = { cluster: 'rec_cluster', pod: 'rec_pod', user: 'rec_user', day: 'rec_day' };
const PLAY_KEY = 'play';

function fromUrl(): RecordingFilters & { play: string } {
  const q = new URLSearchParams(location.search);
  const f = { play: q.get(PLAY_KEY) ?? '' } as RecordingFilters & { play: string };
  for (const k of FILTER_KEYS) f[k] = q.get(URL_KEYS[k]) ?? '';
  return f;
}

function toUrl(f: RecordingFilters, play: string): void {
  const q = new URLSearchParams(location.search);
  for (const k of FILTER_KEYS) {
    if (f[k]) q.set(URL_KEYS[k], f[k]);
    else q.delete(URL_KEYS[k]);
  }
  if (play) q.set(PLAY_KEY, play);
  else q.delete(PLAY_KEY);
  history.replaceState(history.state, '', `${location.pathname}${q.size ? `?${q}` : ''}${location.hash}`);
}

function when(item: RecordingItem): string {
  if (!item.timestamp) return item.day;
  return new Date(item.timestamp * 1000).toISOString().replace('T', ' ').slice(0, 19) + ' UTC';
}

function sizeText(n: number): string {
  return n < 1024 ? `${n} B` : n < 1 << 20 ? `${(n / 1024).toFixed(1)} KiB` : `${(n / (1 << 20)).toFixed(1)} MiB`;
}

export function Recordings() {
  const start = fromUrl();
  const [filters, setFilters] = useState<RecordingFilters>(start);
  const [items, setItems] = useState<RecordingItem[] | null>(null);
  const [clustersSeen, setClustersSeen] = useState<string[]>([]);
  const [error, setError] = useState('');
  const [play, setPlay] = useState(start.play);
  const [cast, setCast] = useState<{ path: string; text: string } | null>(null);
  const [castError, setCastError] = useState('');
  const status = useValue(recordingStatus);

  useEffect(() => {
    let live = true;
    toUrl(filters, play);
    listRecordings(filters).then((r) => {
      if (!live) return;
      if (typeof r === 'string') {
        setError(r);
        return;
      }
      setError('');
      setItems(r.items);
      setClustersSeen((seen) => [...new Set([...seen, ...r.items.map((i) => i.cluster)])].sort());
    });
    return () => {
      live = false;
    };
  }, [filters.cluster, filters.pod, filters.user, filters.day]);

  useEffect(() => {
    toUrl(filters, play);
    setCastError('');
    if (!play) {
      setCast(null);
      return;
    }
    let live = true;
    fetchCast(play).then(
      (text) => live && setCast({ path: play, text }),
      (e: unknown) => live && setCastError(errorText(e)),
    );
    return () => {
      live = false;
    };
  }, [play]);

  const set = (k: keyof RecordingFilters, v: string) => setFilters((f) => ({ ...f, [k]: v }));
  const playing = items?.find((i) => i.path === play);

  return (
    <div class="page recordings">
      <div class="page-head">
        <h1>Session recordings</h1>
      </div>
      {status && !status.enabled && (
        <div class="alert warn">Session recording is off. Start kubelantern with <code>serve --record-sessions DIR</code> to record every exec and attach.</div>
      )}
      {status && status.enabled && (
        <p class="muted small">
          Every exec and attach session is recorded (browser and kubectl). Typed input is {status.recordInput ? 'recorded too (--record-input)' : 'not recorded (people type passwords; --record-input records it)'}.
        </p>
      )}
      {status && status.failures > 0 && (
        <div class="alert bad" role="alert" data-testid="recording-failures">
          Recording failed {status.failures} time{status.failures === 1 ? '' : 's'}; the sessions went on unrecorded. Last: {status.lastError}
        </div>
      )}
      <form class="rec-filters" onSubmit={(e) => e.preventDefault()}>
        <label>
          Cluster
          <select name="cluster" value={filters.cluster} onChange={(e) => set('cluster', (e.target as HTMLSelectElement).value)}>
            <option value="">all</option>
            {[...new Set([...clustersSeen, ...(filters.cluster ? [filters.cluster] : [])])].map((c) => (
              <option value={c}>{c}</option>
            ))}
          </select>
        </label>
        <label>
          Pod
          <input name="pod" type="search" placeholder="name contains" value={filters.pod} onChange={(e) => set('pod', (e.target as HTMLInputElement).value.trim())} />
        </label>
        <label>
          User
          <input name="user" type="search" placeholder="exact" value={filters.user} onChange={(e) => set('user', (e.target as HTMLInputElement).value.trim())} />
        </label>
        <label>
          Day (UTC)
          <input name="day" type="date" value={filters.day} onChange={(e) => set('day', (e.target as HTMLInputElement).value)} />
        </label>
        <button type="button" class="btn" onClick={() => setFilters({ cluster: '', pod: '', user: '', day: '' })}>Clear</button>
      </form>
      {error && <div class="alert bad" role="alert">{error}</div>}
      {play && (
        <section class="rec-play" aria-label="Playback">
          <div class="rec-play-head">
            <strong>{playing ? `${playing.cluster} · ${playing.namespace}/${playing.pod}` : play}</strong>
            {playing && <span class="muted small"> {when(playing)} · {playing.user} · {(playing.command ?? []).join(' ') || playing.kind}</span>}
            <span class="spacer" />
            <button class="btn tiny" onClick={() => setPlay('')}>Close</button>
          </div>
          {castError && <div class="alert bad" role="alert">{castError}</div>}
          {cast && cast.path === play && <CastPlayer cast={cast.text} />}
        </section>
      )}
      {items === null && !error && <div class="empty">Loading recordings…</div>}
      {items && items.length === 0 && <div class="empty">No recordings{FILTER_KEYS.some((k) => filters[k]) ? ' match these filters' : ' yet'}.</div>}
      {items && items.length > 0 && (
        <table class="table rec-table">
          <thead>
            <tr><th>Started</th><th>Cluster</th><th>Pod</th><th>Container</th><th>Command</th><th>User</th><th>Client</th><th>Exit</th><th>Size</th><th /></tr>
          </thead>
          <tbody>
            {items.map((i) => (
              <tr class={i.path === play ? 'selected' : ''} data-path={i.path}>
                <td class="mono small">{when(i)}</td>
                <td>{i.cluster}</td>
                <td>{i.namespace}/{i.pod}</td>
                <td>{i.container || '—'}</td>
                <td class="mono small">{i.kind === 'attach' ? 'attach' : (i.command ?? []).join(' ')}</td>
                <td>{i.user}</td>
                <td class="mono small">{i.client}</td>
                <td>{i.exit ?? '—'}</td>
                <td class="small">{sizeText(i.size)}</td>
                <td>
                  <button class="btn tiny" onClick={() => setPlay(i.path)} title="Play this recording">
                    <Icon name="play" size={12} /> Play
                  </button>
                </td>
              </tr>
            ))}
          </tbody>
        </table>
      )}
    </div>
  );
}
