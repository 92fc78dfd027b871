// "Run checks": `kubelantern doctor` for one cluster from the cluster page or its failure page
// (POST /api/clusters/<name>/doctor answers the JSON of `kubelantern doctor NAME --json`):
// reachability and auth, version, profile, then exec and logs with each WebSocket strategy.
import { useState } from 'preact/hooks';
import { apiJson, config, errorText } from '../api/client';
import { refreshClusters } from '../state/clusters';

interface StrategyResult {
  strategy: string;
  exec_ok: boolean | null;
  logs_ok: boolean | null;
  exec_status: number | null;
  logs_status: number | null;
  latency_ms: number | null;
  detail: string;
  in_profile: boolean;
}

export interface DoctorReport {
  cluster: string;
  server: string;
  reachable: boolean;
  error: string | null;
  auth_status: number | null;
  auth_latency_ms: number | null;
  credentials: string;
  version: string | null;
  profile: string;
  profile_reason: string;
  pod: string | null;
  pod_note: string | null;
  strategies: StrategyResult[];
  ok: boolean;
  verdict: string;
  advice: string[];
}

const mark = (v: boolean | null) => (v === null ? '—' : v ? 'ok' : 'FAIL');

export function DoctorPanel({ cluster }: { cluster: string }) {
  const [busy, setBusy] = useState(false);
  const [report, setReport] = useState<DoctorReport | null>(null);
  const [error, setError] = useState('');
  if (!config.localMode) return null; // the checks use kubelantern's own credentials
  const run = async () => {
    setBusy(true);
    setError('');
    try {
      const out = await apiJson<{ ok: boolean; clusters: DoctorReport[] }>(`/api/clusters/${encodeURIComponent(cluster)}/doctor`, { method: 'POST' });
      setReport(out.clusters[0] ?? null);
      refreshClusters(); // the checks probed afresh: the state shown follows
    } catch (e) {
      setError(errorText(e));
    } finally {
      setBusy(false);
    }
  };
  return (
    <section class="card doctor" data-testid="doctor">
      <div class="card-head">
        <h3>Checks</h3>
        <span class="spacer" />
        <button class="btn" data-testid="run-checks" disabled={busy} onClick={run}>{busy ? 'Running checks…' : report ? 'Run checks again' : 'Run checks'}</button>
      </div>
      <div class="card-body">
        {!report && !error && <span class="muted small">What <code>kubelantern doctor {cluster}</code> checks: reachability and credentials, version, profile, then exec and logs with each WebSocket strategy.</span>}
        {error && <div class="alert bad" role="alert">{error}</div>}
        {report && <DoctorResult r={report} />}
      </div>
    </section>
  );
}

function DoctorResult({ r }: { r: DoctorReport }) {
  return (
    <div data-testid="doctor-result" data-ok={String(r.ok)}>
      <p class={r.ok ? 'tone-ok' : 'tone-bad'} data-testid="doctor-verdict"><b>{r.ok ? 'OK' : 'FAIL'}</b> {r.verdict.replace(/^ok: /, '')}</p>
      <dl class="kv">
        <dt>Reachable</dt><dd>{r.reachable ? `yes (HTTP ${r.auth_status ?? '?'}${r.auth_latency_ms !== null ? ` in ${Math.round(r.auth_latency_ms)} ms` : ''})` : `no: ${r.error ?? 'no answer'}`}</dd>
        {r.credentials && <><dt>Credentials</dt><dd>{r.credentials}</dd></>}
        {r.version && <><dt>Version</dt><dd>{r.version}</dd></>}
        <dt>Profile</dt><dd>{r.profile} <span class="muted">({r.profile_reason})</span></dd>
        <dt>Test pod</dt><dd>{r.pod ?? <span class="muted">none: {r.pod_note ?? 'no running pod'}</span>}</dd>
      </dl>
      {r.strategies.length > 0 && (
        <table class="table compact" data-testid="doctor-strategies">
          <thead><tr><th>Strategy</th><th>exec</th><th>logs</th><th>status exec/logs</th><th>latency</th><th /></tr></thead>
          <tbody>
            {r.strategies.map((s) => (
              <tr data-strategy={s.strategy}>
                <td>{s.strategy}{s.in_profile ? '' : <span class="muted" title="not in this profile's order; tested for information">*</span>}</td>
                <td class={s.exec_ok ? 'tone-ok' : s.exec_ok === false ? 'tone-bad' : ''}>{mark(s.exec_ok)}</td>
                <td class={s.logs_ok ? 'tone-ok' : s.logs_ok === false ? 'tone-bad' : ''}>{mark(s.logs_ok)}</td>
                <td>{s.exec_status ?? '—'}/{s.logs_status ?? '—'}</td>
                <td>{s.latency_ms !== null ? `${Math.round(s.latency_ms)} ms` : '—'}</td>
                <td class="small wrap">{s.detail}</td>
              </tr>
            ))}
          </tbody>
        </table>
      )}
      {r.advice.length > 0 && <ul class="doctor-advice">{r.advice.map((a) => <li>{a}</li>)}</ul>}
    </div>
  );
}
