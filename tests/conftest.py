"""Shared fixtures: simulator clusters over HTTPS on loopback, kubelantern in front of them.

Contracts used here (see ARCHITECTURE.md):
- `kubesim.SimConfig` / `kubesim.make_app(config)` build a simulator app;
  `kubesim.state_of(app)` gives its state (`.requests` records what reached it).
- `kubelantern.web.app.make_app(settings)` builds kubelantern itself from `Settings`.
"""

from __future__ import annotations

import os
import shutil
from collections.abc import Callable, Iterator
from dataclasses import dataclass, replace
from pathlib import Path
from typing import Any

import pytest

from kubelantern.settings import Settings
from tests.harness.kubeconfig import Context, write_kubeconfig
from tests.harness.pki import Pki, make_pki
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


@pytest.fixture(scope="session")
def pki(tmp_path_factory: pytest.TempPathFactory) -> Pki:
    return make_pki(tmp_path_factory.mktemp("pki"))


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


@pytest.fixture(scope="session")
def sims(pki: Pki) -> Iterator[dict[str, SimCluster]]:
    """One simulator per profile for the whole session. Tests create their own objects."""
    started = {p: start_sim(pki, p) for p in ("kubernetes", "rancher", "legacy", "openshift")}
    yield started
    for s in started.values():
        s.server.stop()


@pytest.fixture
def sim_factory(pki: Pki) -> Iterator[Callable[..., SimCluster]]:
    """Fresh simulators for tests that change or break them."""
    made: list[SimCluster] = []

    def factory(profile: str = "kubernetes", **config: Any) -> SimCluster:
        s = start_sim(pki, profile, **config)
        made.append(s)
        return s

    yield factory
    for s in made:
        s.server.stop()


@pytest.fixture(scope="session")
def kubeconfig(sims: dict[str, SimCluster], tmp_path_factory: pytest.TempPathFactory) -> Path:
    path = tmp_path_factory.mktemp("kube") / "config"
    return write_kubeconfig(path, [s.context for s in sims.values()])


def start_kubelantern(settings: Settings) -> ServerThread:
    from kubelantern.web.app import make_app

    return ServerThread(lambda: make_app(settings)).start()


@pytest.fixture(scope="session")
def lantern(kubeconfig: Path) -> Iterator[ServerThread]:
    """kubelantern over all session simulators, launch token off (kubectl cannot send it)."""
    server = start_kubelantern(Settings(kubeconfigs=(kubeconfig,), launch_token=None))
    yield server
    server.stop()


@pytest.fixture
def lantern_factory() -> Iterator[Callable[..., ServerThread]]:
    made: list[ServerThread] = []

    def factory(settings: Settings | None = None, **changes: Any) -> ServerThread:
        server = start_kubelantern(replace(settings or Settings(), **changes))
        made.append(server)
        return server

    yield factory
    for s in made:
        s.stop()


@pytest.fixture(scope="session")
def kubectl() -> str:
    """Path of the real kubectl; a clear failure when it is missing."""
    path = os.environ.get("KUBECTL") or shutil.which("kubectl")
    if not path:
        pytest.fail(
            "kubectl is not installed (looked on PATH and $KUBECTL): the kubectl tests need the "
            "real binary; install kubectl or point KUBECTL at it",
            pytrace=False,
        )
    return path
