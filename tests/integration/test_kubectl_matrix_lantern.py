"""The kubectl matrix through kubelantern, the way a user runs it: `kubelantern serve
--tls-port` (the launch token stays on) and `kubelantern kubeconfig`, then real kubectl
1.27, 1.29, 1.30, 1.32 and 1.33 against every profile: exec, exit codes, stdin, a tty
with a resize, cp both ways, port-forward with a 1 MiB echo, logs -f and attach.

kubectl 1.27-1.29 speak SPDY/3.1 for exec/attach/cp/port-forward (kubelantern's upgrade
tunnel); 1.30+ execs over WebSocket (the bridge) and falls back to SPDY where the server is
too old (the legacy profile); 1.31+ port-forwards through the WebSocket tunnel where the
server has it. The simulators' request records show the SPDY requests arrived through
kubelantern with the cluster's own credential, never the launch token.
"""

from __future__ import annotations

import re
import subprocess
import time
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import pytest

from tests.conftest import SimCluster
from tests.harness.kubectl_matrix import Target, describe, kubectl_binary, run_cell
from tests.integration.test_serve_tls_kubectl import BIN, TOKEN, _env, _kubeconfig_out, _stop

pytestmark = pytest.mark.kubectl

MINORS = ("1.27", "1.29", "1.30", "1.32", "1.33")
PROFILES = ("kubernetes", "rancher", "openshift", "legacy")


@pytest.fixture(scope="module")
def through_lantern(
    kubeconfig: Path, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[tuple[Path, Path]]:
    """(kubeconfig written by `kubelantern kubeconfig`, the folder it lives in)."""
    folder = tmp_path_factory.mktemp("lantern-matrix")
    flags = ("--kubeconfig", str(kubeconfig))
    log = folder / "serve.log"
    # The log goes to a file: a pipe nobody reads would fill up and stall the server.
    with log.open("w") as out:
        proc = subprocess.Popen(
            [str(BIN), "serve", "--port", "0", "--tls-port", "0", "--token", TOKEN, *flags],
            stdout=out,
            stderr=subprocess.STDOUT,
            text=True,
            env=_env(folder),
        )
    deadline = time.monotonic() + 60
    while not re.search(r"kubectl can use https://", log.read_text()):
        assert proc.poll() is None, log.read_text()[-2000:]
        assert time.monotonic() < deadline, log.read_text()[-2000:]
        time.sleep(0.1)
    try:
        yield _kubeconfig_out(folder), folder
    finally:
        _stop(proc)


def _spdy_requests(sim: SimCluster, since: int) -> list[tuple[str, str | None]]:
    """(path tail, Authorization) of the SPDY upgrades the simulator served since the
    `since`-th request (kubelantern's User-Agent replaces kubectl's, as on the bridge)."""
    return [
        (r.path.rsplit("/", 1)[-1], r.header("Authorization"))
        for r in sim.state.requests_since(since)
        if (r.header("Upgrade") or "").lower() == "spdy/3.1"
    ]


@pytest.mark.parametrize("minor", MINORS)
def test_kubectl_minor_through_kubelantern(
    minor: str,
    sims: dict[str, SimCluster],
    through_lantern: tuple[Path, Path],
    tmp_path: Path,
) -> None:
    kubectl = kubectl_binary(minor)
    config, folder = through_lantern

    def cell(profile: str) -> dict[str, str]:
        home = tmp_path / profile
        home.mkdir()
        env = {**_env(folder), "HOME": str(home), "KUBECONFIG": str(config)}
        target = Target(("--context", sims[profile].context.name), env, home)
        return run_cell(kubectl, target)

    before = {p: sims[p].state.recorded for p in PROFILES}
    # Four cells at once: each is mostly waiting on kubectl processes.
    with ThreadPoolExecutor(len(PROFILES)) as pool:
        results = dict(zip(PROFILES, pool.map(cell, PROFILES), strict=True))
    failed = {p: r for p, r in results.items() if r}
    assert not failed, "\n".join(
        f"kubectl {minor} on {p} through kubelantern:\n{describe(r)}" for p, r in failed.items()
    )

    # SPDY went through the tunnel where kubectl (or the server's age) asks for it, with
    # the cluster's credential from kubelantern's kubeconfig, not the launch token.
    spdy_everywhere = minor < "1.30"
    for profile in PROFILES:
        seen = _spdy_requests(sims[profile], before[profile])
        if spdy_everywhere or profile == "legacy":
            tails = {tail for tail, _ in seen}
            assert {"exec", "attach", "portforward"} <= tails, (profile, tails)
        assert all(TOKEN not in (auth or "") for _, auth in seen)
        assert all(auth for _, auth in seen), "an upgrade reached the cluster without credentials"
