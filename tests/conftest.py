"""Shared fixtures: simulator clusters over HTTPS on loopback, kubelantern in front of them.
Fixtures only: the constants and start helpers they use are in `tests/harness/stack.py`."""

from __future__ import annotations

import os
import shutil
from collections.abc import Callable, Iterator
from dataclasses import replace
from pathlib import Path
from typing import Any

import pytest
from hypothesis import HealthCheck, settings

from kubelantern.settings import Settings
from tests.harness.kubeconfig import write_kubeconfig
from tests.harness.pki import Pki, make_pki
from tests.harness.servers import ServerThread
from tests.harness.stack import SimCluster, start_kubelantern, start_sim

# Property tests measure the code, not the box. Hypothesis's defaults are wall-clock limits
# (a 200 ms deadline per example, a "too slow" health check on generation); on a loaded
# 2-core CI box, or when a session server thread holds the GIL in one long C call (a big
# json.dumps), a sub-millisecond example of test_logfilter's spellings test took >200 ms and
# failed as FlakyFailure / FailedHealthCheck. Time stays bounded by max_examples (100 unless a
# test says otherwise). Loaded here, before test modules, so their @settings inherit it.
settings.register_profile(
    "kubelantern", deadline=None, suppress_health_check=[HealthCheck.too_slow], print_blob=True
)
settings.load_profile("kubelantern")


@pytest.fixture(scope="session")
def pki(tmp_path_factory: pytest.TempPathFactory) -> Pki:
    return make_pki(tmp_path_factory.mktemp("pki"))


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
