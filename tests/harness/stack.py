"""The test stack's constants and start helpers: simulator clusters over HTTPS on loopback,
kubelantern in front of them. `tests/conftest.py` turns these into fixtures; scripts
(`tests/e2e/devserver.py`, `bench/`) and tests that need a stack of their own call them
directly.

Contracts used here (see ARCHITECTURE.md):
- `kubesim.SimConfig` / `kubesim.make_app(config)` build a simulator app;
  `kubesim.state_of(app)` gives its state (`.requests` records what reached it).
- `kubelantern.web.app.make_app(settings)` builds kubelantern itself from `Settings`.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from kubelantern.settings import Settings
from tests.harness.kubeconfig import Context
from tests.harness.pki import Pki
from tests.harness.servers import ServerThread

# Credentials the simulator accepts by default (kubesim.SimConfig defaults agree).
KUBE_TOKEN = "sim-admin-token"
RANCHER_TOKEN = "token-x7k2p:l0ngsecretvalue0123456789"
RANCHER_CLUSTER_ID = "c-m-abc12"

# Context names chosen to exercise `/ : @` in cluster names.
CONTEXT_NAMES = {
    "kubernetes": "kind-dev",
    "rancher": "rancher/down:c-m-abc12",
    "legacy": "legacy@old",
    "openshift": "ocp",
}


@dataclass
class SimCluster:
    profile: str
    server: ServerThread
    context: Context

    @property
    def state(self) -> Any:
        from kubesim import state_of

        assert self.server.app is not None
        return state_of(self.server.app)

    @property
    def base_url(self) -> str:
        return self.context.server


def start_sim(pki: Pki, profile: str, **config: Any) -> SimCluster:
    from kubesim import SimConfig, make_app

    cfg = SimConfig(profile=profile, **config)
    server = ServerThread(lambda: make_app(cfg), ssl_context=pki.server_context()).start()
    prefix = f"/k8s/clusters/{cfg.cluster_id}" if profile == "rancher" else ""
    token = RANCHER_TOKEN if profile == "rancher" else KUBE_TOKEN
    ctx = Context(
        name=CONTEXT_NAMES.get(profile, profile),
        server=f"{server.url}{prefix}",
        ca_pem=pki.ca_pem,
        token=token,
    )
    return SimCluster(profile, server, ctx)


def start_kubelantern(settings: Settings) -> ServerThread:
    from kubelantern.web.app import make_app

    return ServerThread(lambda: make_app(settings)).start()
