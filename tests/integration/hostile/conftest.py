"""One real `kubelantern serve` process for the hostile-input suite, in front of the
session's simulators (four clusters, one per profile), guarded by a launch token.

Every barrage ends with `assert_every_cluster_serves`: whatever a test threw at one
cluster or at the edge, the process still answers a list on every cluster.

Here, one file per surface: test_parser_errors (malformed HTTP, smuggling shapes, huge
headers; no echo of request bytes), test_edge (Host, Origin, launch token), test_paths
(cluster-name and API-path tricks, static traversal), test_websocket_frames (bad frames
from either side, tunnel and relay), test_subprotocol_fuzz, test_kubeconfigs (malformed
files, hostile exec plugins), test_secrets_sweep. Hostile cases that belong to one
defect or feature stay beside it: test_defects_* (launch token upstream, log redaction,
port-forward names, token redirect, YAML alias bomb, ambiguous names, upstream cuts),
test_credentials_plugin_hostile (orphaned/flooding plugins), test_websocket_relay
(1009 both ways), test_session_recordings (recordings API traversal), and the property
tests in tests/unit (test_hostile_properties, test_cluster_paths_rule,
test_kubeconfig_properties)."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from urllib.parse import quote

import aiohttp
import pytest

from tests.harness.serveproc import ServeProcess
from tests.harness.stack import CONTEXT_NAMES, SimCluster

LAUNCH = "launchHOSTILE-" + "q" * 32
AUTH = {"X-Kubelantern-Token": LAUNCH}


@pytest.fixture(scope="module")
def served(kubeconfig: Path, sims: dict[str, SimCluster]) -> Iterator[ServeProcess]:
    proc = ServeProcess(["--kubeconfig", str(kubeconfig), "--token", LAUNCH]).start()
    yield proc
    proc.stop()


def cluster_url(served: ServeProcess, profile: str) -> str:
    return f"{served.url}/clusters/{quote(CONTEXT_NAMES[profile], safe='')}"


async def assert_every_cluster_serves(served: ServeProcess) -> None:
    """The process is alive and lists namespaces on every cluster."""
    assert served.proc is not None and served.proc.poll() is None, "kubelantern exited"
    timeout = aiohttp.ClientTimeout(total=60)
    async with aiohttp.ClientSession(timeout=timeout) as http:
        for profile in CONTEXT_NAMES:
            url = f"{cluster_url(served, profile)}/api/v1/namespaces"
            async with http.get(url, headers=AUTH) as r:
                body = await r.json()
                assert r.status == 200, (profile, r.status, body)
                assert body["kind"] == "NamespaceList", (profile, body)
