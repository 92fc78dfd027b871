"""What the proxy is handed by the application: its collaborators, as one plain struct.

`web/app.py` builds one `ProxyDeps` per application; the proxy never reads application keys.
"""

from __future__ import annotations

from dataclasses import dataclass

from kubelantern.clusters.registry import Registry
from kubelantern.observe.metrics import Metrics
from kubelantern.observe.streams import ActiveStreams
from kubelantern.settings import Settings


@dataclass(frozen=True)
class ProxyDeps:
    settings: Settings
    registry: Registry  # filled in at startup
    metrics: Metrics
    streams: ActiveStreams
