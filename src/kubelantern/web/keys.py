"""Typed keys for what the app holds; other modules read these from `request.app`.

settings = request.app[keys.SETTINGS]
registry = request.app[keys.REGISTRY]      # filled in at startup (STATE.ready)
request.app[keys.METRICS].upstream_error(cluster.name, "handshake")
async with request.app[keys.STREAMS].track(cluster.name, "websocket", close): ...
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING

from aiohttp import web

from kubelantern.identity.sessions import Sealer
from kubelantern.settings import Settings
from kubelantern.web.metrics import Metrics
from kubelantern.web.streams import ActiveStreams

if TYPE_CHECKING:
    from kubelantern.clusters.probe import Prober
    from kubelantern.clusters.registry import Registry

SETTINGS = web.AppKey("settings", Settings)
METRICS = web.AppKey("metrics", Metrics)
STREAMS = web.AppKey("streams", ActiveStreams)
REGISTRY: web.AppKey[Registry] = web.AppKey("registry")
PROBER: web.AppKey[Prober] = web.AppKey("prober")


@dataclass
class ServerState:
    """What startup learned; mutable because the app is frozen once it starts."""

    ready: bool = False  # the registry is loaded (/readyz)
    demo: bool = False  # the built-in demo clusters are served (no kubeconfig, or --demo)


STATE = web.AppKey("state", ServerState)
# Seals cookies: per-cluster logins, and in team mode the session (from --session-secret;
# without one, a random key per process: logins then end with the process).
SEALER = web.AppKey("sealer", Sealer)
