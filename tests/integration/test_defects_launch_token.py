"""Issue 10 defect 2: the launch token is for kubelantern only and never reaches a cluster,
in any position (Authorization, the bearer subprotocol, the retry after a 401)."""

from __future__ import annotations

import base64
from collections.abc import AsyncIterator, Callable
from pathlib import Path

import aiohttp
import pytest

from kubelantern.proxy.subprotocols import encode_bearer
from kubelantern.settings import Settings
from tests.conftest import SimCluster
from tests.harness.proxy import V5, cluster_base, exec_path, exec_session, find_pod
from tests.harness.servers import ServerThread
from tests.harness.stack import KUBE_TOKEN, RANCHER_TOKEN

LAUNCH = "launch-" + "q" * 40


def spellings(secret: str) -> list[str]:
    """The forms a token can take on the wire: as is, and base64 (std/url, padded or not)."""
    raw = secret.encode()
    forms = {secret}
    for enc in (base64.b64encode(raw), base64.urlsafe_b64encode(raw)):
        forms.add(enc.decode())
        forms.add(enc.decode().rstrip("="))
    return sorted(forms)


def leaks(sim: SimCluster, secret: str) -> list[str]:
    """Every recorded request line or header that holds `secret` in any spelling."""
    found = []
    for req in list(sim.state.requests):
        text = [req.path, req.query_string, *(f"{k}: {v}" for k, v in req.headers)]
        for line in text:
            if any(s in line for s in spellings(secret)):
                found.append(line)
    return found


@pytest.fixture
def guarded(lantern_factory: Callable[..., ServerThread], kubeconfig: Path) -> ServerThread:
    return lantern_factory(Settings(kubeconfigs=(kubeconfig,), launch_token=LAUNCH))


@pytest.fixture
async def http() -> AsyncIterator[aiohttp.ClientSession]:
    async with aiohttp.ClientSession() as session:
        yield session


@pytest.mark.parametrize("profile", ["kubernetes", "rancher"])
@pytest.mark.parametrize("auth", ["header", "cookie"])
async def test_launch_token_in_the_subprotocol_never_goes_upstream(
    guarded: ServerThread,
    sims: dict[str, SimCluster],
    http: aiohttp.ClientSession,
    profile: str,
    auth: str,
) -> None:
    """A browser (launch cookie) or client (launch header) that also offers the launch token
    as the bearer subprotocol: the kubeconfig's credential is used, the launch token stays."""
    if auth == "header":
        proof = {"X-Kubelantern-Token": LAUNCH}
    else:  # the cookie a browser gets by opening the printed URL
        async with http.get(f"{guarded.url}/?token={LAUNCH}", allow_redirects=False) as r:
            assert r.status == 302
            proof = {"Cookie": r.headers["Set-Cookie"].split(";", 1)[0]}
    base = cluster_base(guarded, profile)
    ns, pod, container = await find_pod(http, base, headers=proof)
    url = base + exec_path(ns, pod, container, ["echo", "launch-stays-home"])
    before = sims[profile].state.recorded
    got = await exec_session(http, url, protocols=(V5, encode_bearer(LAUNCH)), headers=proof)
    assert got.stdout == b"launch-stays-home\n", got
    assert leaks(sims[profile], LAUNCH) == []
    # What went upstream was the kubeconfig's own credential.
    (upgrade,) = [r for r in sims[profile].state.requests_since(before) if "/exec" in r.path]
    kube = RANCHER_TOKEN if profile == "rancher" else KUBE_TOKEN
    assert upgrade.header("Authorization") == f"Bearer {kube}"


@pytest.mark.parametrize("spelling", ["Bearer {t}", "bearer {t}", "BEARER  {t} "])
async def test_launch_token_as_authorization_never_goes_upstream(
    guarded: ServerThread, sims: dict[str, SimCluster], http: aiohttp.ClientSession, spelling: str
) -> None:
    """HTTP and WebSocket, with the launch token also proved another way (header)."""
    base = cluster_base(guarded, "kubernetes")
    headers = {"X-Kubelantern-Token": LAUNCH, "Authorization": spelling.format(t=LAUNCH)}
    async with http.get(f"{base}/api/v1/namespaces", headers=headers) as r:
        assert r.status == 200, await r.text()
    ns, pod, container = await find_pod(http, base, headers=headers)
    url = base + exec_path(ns, pod, container, ["echo", "ok"])
    got = await exec_session(http, url, protocols=(V5,), headers=headers)
    assert got.stdout == b"ok\n"
    assert leaks(sims["kubernetes"], LAUNCH) == []
