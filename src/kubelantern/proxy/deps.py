"""What the proxy is handed by the application: its collaborators, as one plain struct.

`web/app.py` builds one `ProxyDeps` per application; the proxy never reads application keys.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from kubelantern.clusters.registry import Registry
from kubelantern.observe.metrics import Metrics
from kubelantern.observe.recordings import Recorder
from kubelantern.observe.streams import ActiveStreams
from kubelantern.proxy.deadline import CoarseDeadlines
from kubelantern.proxy.ws.sessions import SessionRegistry
from kubelantern.settings import Settings


@dataclass(frozen=True)
class ProxyDeps:
    settings: Settings
    registry: Registry  # filled in at startup
    metrics: Metrics
    streams: ActiveStreams
    sessions: SessionRegistry  # exec/attach sessions kept for a reattach
    recorder: Recorder  # --record-sessions (off: `recorder.enabled` is False)
    # The answer deadline of plain HTTP requests (no timer armed per request).
    deadlines: CoarseDeadlines = field(default_factory=CoarseDeadlines)
