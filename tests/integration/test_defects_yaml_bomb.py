"""Issue 10 defect 12: a kubeconfig whose YAML aliases expand into billions of nodes is
refused with one error line at once; kubelantern becomes ready and serves the others."""

from __future__ import annotations

import itertools
import logging
import resource
import time
from collections.abc import Callable
from pathlib import Path

import aiohttp
import pytest

from kubelantern.settings import Settings
from tests.harness.servers import ServerThread

LEVELS = "abcdefghi"


def alias_bomb(where: str) -> str:
    """9 levels of 9 aliases each: 9**9 (387 million) strings once expanded."""
    lines = ["apiVersion: v1", "kind: Config", "x-bomb:"]
    lines.append(f"  a: &a [{', '.join(['lol'] * 9)}]")
    for prev, cur in itertools.pairwise(LEVELS):
        lines.append(f"  {cur}: &{cur} [{', '.join([f'*{prev}'] * 9)}]")
    exec_ext = f"extension: *{LEVELS[-1]}"
    cluster = (
        "{server: 'https://127.0.0.1:1', extensions: [{name: client.authentication.k8s.io/exec, "
        + exec_ext
        + "}]}"
    )
    if where == "extension":
        lines.append(f"clusters: [{{name: bomb, cluster: {cluster}}}]")
    else:
        lines.append("clusters: [{name: bomb, cluster: {server: 'https://127.0.0.1:1'}}]")
    user = "{token: x}" if where == "extension" else f"{{token: x, x-extra: *{LEVELS[-1]}}}"
    lines.append(f"users: [{{name: u, user: {user}}}]")
    lines.append("contexts: [{name: bomb, context: {cluster: bomb, user: u}}]")
    return "\n".join(lines) + "\n"


@pytest.mark.parametrize("where", ["extension", "user"])
async def test_alias_bomb_is_refused_and_the_rest_serves(
    lantern_factory: Callable[..., ServerThread],
    kubeconfig: Path,
    tmp_path: Path,
    caplog: pytest.LogCaptureFixture,
    where: str,
) -> None:
    bomb = tmp_path / "bomb.yaml"
    bomb.write_text(alias_bomb(where))
    caplog.set_level(logging.WARNING)
    rss_before = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    started = time.monotonic()
    server = lantern_factory(Settings(kubeconfigs=(bomb, kubeconfig), launch_token=None))
    took = time.monotonic() - started
    grown_mib = (resource.getrusage(resource.RUSAGE_SELF).ru_maxrss - rss_before) / 1024
    lines = [r.getMessage() for r in caplog.records if str(bomb) in r.getMessage()]
    assert any("aliases" in line and "refused" in line for line in lines), lines
    assert grown_mib < 200, f"peak RSS grew {grown_mib:.0f} MiB loading the bomb"
    assert took < 25, took
    async with aiohttp.ClientSession() as http:
        async with http.get(f"{server.url}/clusters/kind-dev/api/v1/namespaces") as r:
            assert r.status == 200
