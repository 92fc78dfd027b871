"""Typed keys for what the app holds; other modules read these from `request.app`.

settings = request.app[keys.SETTINGS]
registry = request.app[keys.REGISTRY]      # filled in at startup (STATE.ready)
request.app[keys.METRICS].render()
request.app[keys.PROXY]                    # the same collaborators, handed to the proxy
"""

from __future__ import annotations

from dataclasses import dataclass

from aiohttp import web

from kubelantern.clusters.probe import Prober
from kubelantern.clusters.registry import Registry
from kubelantern.identity.sessions import Sealer
from kubelantern.observe.metrics import Metrics
from kubelantern.observe.streams import ActiveStreams
from kubelantern.proxy.deps import ProxyDeps
from kubelantern.settings import Settings

SETTINGS = web.AppKey("settings", Settings)
METRICS = web.AppKey("metrics", Metrics)
STREAMS = web.AppKey("streams", ActiveStreams)
REGISTRY = web.AppKey("registry", Registry)
PROBER = web.AppKey("prober", Prober)
PROXY = web.AppKey("proxy", ProxyDeps)  # what the proxy is handed (the same objects as above)


@dataclass
class ServerState:
    """What startup learned; mutable because the app is frozen once it starts."""

    ready: bool = False  # the registry is loaded (/readyz)
    demo: bool = False  # the built-in demo clusters are served (no kubeconfig, or --demo)


STATE = web.AppKey("state", ServerState)
# Seals cookies: per-cluster logins, and in team mode the session (from --session-secret;
# without one, a random key per process: logins then end with the process).
SEALER = web.AppKey("sealer", Sealer)
