"""An exec/attach over SPDY on the record: the splice's tap (`splice.Tap`) that hands
both directions' bytes to the pure observer (`spdywatch.py`) and writes what it reports
into the session's recording (`observe/recordings.py`).

Only made with `--record-sessions` on and for a pod's exec/attach (not port-forward):
otherwise the tunnel is the plain splice. An observer that loses the thread (bytes that
are not SPDY/3) stops the recording with a marker and a counted failure; the tunnel's
bytes are never changed, held or delayed by it.
"""

from __future__ import annotations

from kubelantern.observe.recordings import Recording
from kubelantern.proxy.upgrade.spdywatch import Event, Exit, Input, Output, Resize, SpdyWatch


class RecordingTap:
    def __init__(self, recording: Recording) -> None:
        self.recording = recording
        self.watch = SpdyWatch()
        self._stopped = False

    def from_client(self, data: bytes) -> None:
        if not self._stopped:
            self._apply(self.watch.from_client(data))

    def from_upstream(self, data: bytes) -> None:
        if not self._stopped:
            self._apply(self.watch.from_upstream(data))

    def _apply(self, events: list[Event]) -> None:
        rec = self.recording
        for event in events:
            match event:
                case Output(data):
                    rec.output(data)
                case Input(data):
                    rec.input(data)
                case Resize(width, height):
                    rec.resize(width, height)
                case Exit(code):
                    rec.exit(code)
        if self.watch.broken is not None and not self._stopped:
            self._stopped = True
            rec.note(f"recording stopped: {self.watch.broken}")
            rec.recorder.failed(rec.meta.cluster, "read of the SPDY stream", self.watch.broken)

    def close(self) -> None:
        """The tunnel is over: an exit status still pending, then the file closed."""
        if not self._stopped:
            self._apply(self.watch.finish())
        self.recording.close()
