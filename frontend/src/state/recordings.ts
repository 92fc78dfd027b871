// Session recordings (serve --record-sessions): whether recording is on and failing
// (/api/recordings/status, polled by the shell's warning), and the list with its filters.
import { apiFetch, apiJson, config, errorText, lanternPath } from '../api/client';
import { Value } from './value';

export interface RecordingStatus {
  enabled: boolean;
  recordInput: boolean;
  failures: number;
  lastError: string | null;
  /** Seconds since the epoch (server clock). */
  lastFailureAt: number | null;
}

/** One recording as /api/recordings lists it (observe/castindex.py). */
export interface RecordingItem {
  path: string;
  day: string;
  timestamp: number | null;
  width: number | null;
  height: number | null;
  size: number;
  exit: number | null;
  cluster: string;
  namespace: string;
  pod: string;
  container: string;
  command: string[] | null;
  user: string;
  client: string;
  kind: string;
}

export interface RecordingFilters {
  cluster: string;
  pod: string;
  user: string;
  day: string;
}

export const FILTER_KEYS: (keyof RecordingFilters)[] = ['cluster', 'pod', 'user', 'day'];

export function recordingsAdvertised(): boolean {
  return (config.features as Record<string, unknown>).recordings === true;
}

export const recordingStatus = new Value<RecordingStatus | null>(null);

export async function refreshRecordingStatus(): Promise<void> {
  if (!recordingsAdvertised()) return;
  try {
    recordingStatus.set(await apiJson<RecordingStatus>('/api/recordings/status'));
  } catch {
    // The warning is about recording, not about reaching the server: other views say that.
  }
}

export async function listRecordings(f: RecordingFilters): Promise<{ status: RecordingStatus; items: RecordingItem[] } | string> {
  const q = new URLSearchParams();
  for (const k of FILTER_KEYS) if (f[k]) q.set(k, f[k]);
  try {
    const body = await apiJson<RecordingStatus & { items: RecordingItem[] }>(`/api/recordings${q.size ? `?${q}` : ''}`);
    recordingStatus.set({ enabled: body.enabled, recordInput: body.recordInput, failures: body.failures, lastError: body.lastError, lastFailureAt: body.lastFailureAt });
    return { status: body, items: body.items };
  } catch (e) {
    return errorText(e);
  }
}

/** The asciicast file's text (same auth as every /api call). */
export async function fetchCast(path: string): Promise<string> {
  const res = await apiFetch(lanternPath(`/api/recordings/file?path=${encodeURIComponent(path)}`), { headers: { Accept: 'application/x-asciicast' } });
  return res.text();
}
