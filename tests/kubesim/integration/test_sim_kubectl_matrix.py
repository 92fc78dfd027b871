"""Every kubectl minor 1.27-1.33, straight at the simulator over HTTPS: the simulator's
SPDY/3.1 (exec/attach/cp and port-forward, plain and tunnelled) and WebSocket paths, each
the way a real server of that profile's version offers them.

- legacy (1.27): no v5, no tunnel: kubectl 1.27-1.29 speak SPDY; 1.30+ try the WebSocket,
  get the refusal old servers give (403 / 400) and fall back to SPDY;
- kubernetes (1.32): v5 exec and the port-forward tunnel for the kubectl versions that use
  them, SPDY for the older ones;
- openshift (1.30: v5, no tunnel) and rancher (1.32, path prefix) for two minors each.
"""

from __future__ import annotations

import os
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import pytest

from tests.harness.kubeconfig import write_kubeconfig
from tests.harness.kubectl_matrix import Target, describe, kubectl_binary, run_cell
from tests.harness.pki import Pki
from tests.harness.stack import SimCluster, start_sim

pytestmark = pytest.mark.kubectl

MINORS = ("1.27", "1.28", "1.29", "1.30", "1.31", "1.32", "1.33")
PROFILES_PER_MINOR = {
    minor: ("legacy", "kubernetes")
    + (("openshift", "rancher") if minor in ("1.29", "1.33") else ())
    for minor in MINORS
}


@pytest.fixture(scope="module")
def matrix_sims(pki: Pki) -> Iterator[dict[str, SimCluster]]:
    """Own simulators: their request records show which transport each kubectl took."""
    started = {p: start_sim(pki, p) for p in ("legacy", "kubernetes", "openshift", "rancher")}
    yield started
    for sim in started.values():
        sim.server.stop()


@pytest.fixture(scope="module")
def matrix_kubeconfig(
    matrix_sims: dict[str, SimCluster], tmp_path_factory: pytest.TempPathFactory
) -> Path:
    path = tmp_path_factory.mktemp("matrix") / "config"
    return write_kubeconfig(path, [s.context for s in matrix_sims.values()])


def _requests(sim: SimCluster, minor: str, sub: str) -> list[tuple[str, int, str]]:
    """(method, websocket?, protocol offer) of this kubectl's `sub` upgrade requests."""
    agent = f"kubectl.{minor}/"
    out = []
    for r in list(sim.state.requests):
        if r.path.endswith(f"/{sub}") and (r.header("User-Agent") or "").startswith(agent):
            ws = (r.header("Upgrade") or "").lower() == "websocket"
            offer = (
                r.header("Sec-WebSocket-Protocol")
                if ws
                else ",".join(r.header_values("X-Stream-Protocol-Version"))
            )
            out.append((r.method, int(ws), offer or ""))
    return out


@pytest.mark.parametrize("minor", MINORS)
def test_kubectl_minor_against_the_simulator(
    minor: str,
    matrix_sims: dict[str, SimCluster],
    matrix_kubeconfig: Path,
    tmp_path: Path,
) -> None:
    kubectl = kubectl_binary(minor)
    profiles = PROFILES_PER_MINOR[minor]

    def cell(profile: str) -> dict[str, str]:
        folder = tmp_path / profile
        folder.mkdir()
        sim = matrix_sims[profile]
        target = Target(
            ("--kubeconfig", str(matrix_kubeconfig), "--context", sim.context.name),
            {**os.environ, "HOME": str(folder), "KUBECONFIG": str(matrix_kubeconfig)},
            folder,
        )
        return run_cell(kubectl, target)

    with ThreadPoolExecutor(len(profiles)) as pool:
        results = dict(zip(profiles, pool.map(cell, profiles), strict=True))
    failed = {p: r for p, r in results.items() if r}
    assert not failed, "\n".join(
        f"kubectl {minor} on {p}:\n{describe(r)}" for p, r in failed.items()
    )

    # The transports taken are the ones a real server of each version leaves kubectl.
    ws_exec = minor >= "1.30"  # KUBECTL_REMOTE_COMMAND_WEBSOCKETS on by default
    ws_forward = minor >= "1.31"  # KUBECTL_PORT_FORWARD_WEBSOCKETS on by default
    legacy_exec = _requests(matrix_sims["legacy"], minor, "exec")
    assert legacy_exec and all(m == "POST" and not ws for m, ws, _ in legacy_exec[-1:])
    assert (
        ("GET", 1, "v5.channel.k8s.io") in legacy_exec
        if ws_exec
        else all(m == "POST" for m, _, _ in legacy_exec)
    )
    assert "v4.channel.k8s.io" in legacy_exec[-1][2]
    kube_exec = _requests(matrix_sims["kubernetes"], minor, "exec")
    assert all(ws for _, ws, _ in kube_exec) if ws_exec else all(not ws for _, ws, _ in kube_exec)
    kube_forward = _requests(matrix_sims["kubernetes"], minor, "portforward")
    assert (
        kube_forward == [("GET", 1, "SPDY/3.1+portforward.k8s.io")]
        if ws_forward
        else (kube_forward == [("POST", 0, "portforward.k8s.io")])
    )
    legacy_forward = _requests(matrix_sims["legacy"], minor, "portforward")
    assert legacy_forward[-1] == ("POST", 0, "portforward.k8s.io")
    if ws_forward:
        assert legacy_forward[0] == ("GET", 1, "SPDY/3.1+portforward.k8s.io")
