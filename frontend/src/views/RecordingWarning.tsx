// The shell's warning while session recording fails (any page but the recordings page, which
// says it itself); small and in the first chunk, unlike the recordings page.
import { useState } from 'preact/hooks';
import { recordingStatus } from '../state/recordings';
import { useValue } from '../state/value';

/** Sessions go on unrecorded meanwhile; a newer failure shows it again after a dismiss. */
export function RecordingWarning({ href }: { href: string }) {
  const status = useValue(recordingStatus);
  const [dismissed, setDismissed] = useState(0);
  if (!status || !status.enabled || status.failures === 0 || (status.lastFailureAt ?? 0) <= dismissed) return null;
  return (
    <div class="alert bad rec-warning" role="alert" data-testid="recording-warning">
      Session recording is failing: {status.lastError}. Sessions go on unrecorded. <a href={href}>Recordings</a>
      <button class="btn tiny" onClick={() => setDismissed(status.lastFailureAt ?? Date.now() / 1000)}>Dismiss</button>
    </div>
  );
}
