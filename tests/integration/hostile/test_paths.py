"""Path tricks in cluster names and API paths (`..%2F`, double encoding, `//`, NUL,
backslashes, CR/LF, long paths) and static-file traversal, sent byte for byte. Each gets a
clear 4xx (or an upstream answer for a harmless path), and no upstream ever receives a
path that climbs out of its cluster's prefix."""

from __future__ import annotations

from urllib.parse import unquote

import pytest

from tests.harness.rawhttp import RawAnswer, raw_request
from tests.harness.serveproc import ServeProcess
from tests.harness.stack import RANCHER_CLUSTER_ID, SimCluster
from tests.integration.hostile.conftest import LAUNCH, assert_every_cluster_serves

RANCHER = "rancher%2Fdown%3Ac-m-abc12"
NS = "api/v1/namespaces"

# tail after /clusters/ → the statuses it may get (never a 5xx, never another cluster).
TRICKS: dict[str, set[int]] = {
    f"kind-dev/{NS}/..%2F..%2Fx": {400},
    f"kind-dev/{NS}/%2e%2e/%2e%2e/x": {400},
    f"kind-dev/{NS}/%2E%2E": {400},
    f"kind-dev/{NS}/.%2E/x": {400},
    f"kind-dev/{NS}/x%2F..%2F..%2F..%2Fv3": {400},
    f"kind-dev/{NS}/%252e%252e/%252e%252e/x": {400, 404},  # one decoding: a strange name
    f"kind-dev/{NS}/%25252e%25252e": {400, 404},
    f"kind-dev/{NS}/a%5C..%5Cb": {400},
    f"kind-dev/{NS}/a\\..\\b": {400},
    f"kind-dev/{NS}%00": {400},
    f"kind-dev/{NS}/%00x": {400},
    f"kind-dev/{NS}/%0D%0ASet-Cookie:%20x=y": {400},
    f"kind-dev/{NS}/%0a": {400},
    f"kind-dev/{NS}/%7f": {400},
    f"kind-dev//{NS}": {200, 400, 404},
    f"kind-dev/{NS}//default": {200, 400, 404},
    f"kind-dev/{NS}/{'a' * 7000}": {400, 404, 414},
    f"kind-dev/{NS}/{'%2F' * 2000}": {200, 400, 404},  # the simulator collapses slashes
    f"kind-dev/api/v1/{'x/' * 2000}": {400, 404},
    f"..%2Fkind-dev/{NS}": {404},
    f"%2e%2e/{NS}": {404},
    f"kind-dev%2F..%2F..%2F{NS}": {404},
    f"kind-dev%2f{NS}": {404},
    f"KIND-DEV/{NS}": {404},
    f"kind%0D%0Adev/{NS}": {404},
    f"kind-dev%0D%0AX-Injected:%201/{NS}": {404},
    f"kind-dev%00/{NS}": {404},
    f"kind-dev%20/{NS}": {404},
    f"%6bind-dev/{NS}": {200},  # the same name, percent-encoded letter: the same cluster
    f"{RANCHER}/api/..%2F..%2F..%2Fv3%2Fusers": {400},
    f"{RANCHER}/%2e%2e/%2e%2e/v3/users": {400},
    f"{RANCHER}/{NS}/x%2F..%2F..%2F..%2F..%2Fv3": {400},
    f"{RANCHER}/..%2f..%2fv3": {400},
    "rancher/down:c-m-abc12/..%2F..%2Fv3/users": {400, 404},
    f"{RANCHER}%2F..%2F..%2F/{NS}": {404},
    "": {404},
    "/": {404},
    "//kind-dev/api": {404},
    "%": {400, 404},
    "%zz/api": {400, 404},
    "kind-dev/%": {400, 404},
    "kind-dev/api/%zz": {400, 404},
    "\u00e9/api".encode().decode("latin-1"): {400, 404},  # raw UTF-8 bytes in the target
}


async def get(served: ServeProcess, target: str) -> RawAnswer:
    data = (
        f"GET {target} HTTP/1.1\r\nHost: 127.0.0.1\r\nX-Kubelantern-Token: {LAUNCH}\r\n"
        "Connection: close\r\n\r\n"
    )
    return await raw_request("127.0.0.1", served.port, data.encode("latin-1"))


def climbs_out(path: str, prefix: str) -> bool:
    """Whether an upstream request path leaves `prefix` or holds a `.`/`..` segment, read
    the way a server would (decoded once)."""
    decoded = unquote(path)
    segments = decoded.split("/")
    return not decoded.startswith(prefix) or ".." in segments or "." in segments or "\\" in decoded


@pytest.mark.parametrize("tail", list(TRICKS), ids=lambda t: repr(t[:60]))
async def test_path_tricks_get_a_clear_answer(served: ServeProcess, tail: str) -> None:
    answer = await get(served, f"/clusters/{tail}")
    assert answer.status in TRICKS[tail], (tail[:100], answer.status, answer.body[:300])
    assert answer.header("X-Injected") is None and answer.header("Set-Cookie") is None
    if answer.body.startswith(b"400 Bad Request"):
        return  # the HTTP parser refused the target (raw bytes no URL may hold)
    if answer.status in (400, 404, 409):  # ours or the API server's: a metav1.Status
        assert b'"Status"' in answer.body, (tail[:100], answer.body[:300])


async def test_no_upstream_saw_a_path_outside_its_cluster(
    served: ServeProcess, sims: dict[str, SimCluster]
) -> None:
    for tail in TRICKS:
        await get(served, f"/clusters/{tail}")
    await assert_every_cluster_serves(served)
    prefixes = {"rancher": f"/k8s/clusters/{RANCHER_CLUSTER_ID}/"}
    for profile, sim in sims.items():
        seen = list(sim.state.requests)
        assert seen, f"{profile}: no upstream request at all (the check would be empty)"
        for request in seen:
            assert not climbs_out(request.path, prefixes.get(profile, "/")), (profile, request.path)


@pytest.mark.parametrize(
    "target",
    [
        "/api/clusters/nope%0Ax/login", "/api/clusters/%2e%2e/login", "/api/%0d%0a",
        "/api/clusters/kind-dev%0A/logout", "/api/../api/config%00",
    ],
)  # fmt: skip
async def test_api_path_tricks_get_a_json_status(served: ServeProcess, target: str) -> None:
    for method in ("GET", "POST"):
        data = (
            f"{method} {target} HTTP/1.1\r\nHost: 127.0.0.1\r\nX-Kubelantern-Token: {LAUNCH}\r\n"
            "Content-Length: 0\r\nConnection: close\r\n\r\n"
        )
        answer = await raw_request("127.0.0.1", served.port, data.encode("latin-1"))
        assert answer.status in (400, 404), (method, target, answer.status, answer.body[:200])
        assert b'"Status"' in answer.body, (method, target, answer.body[:200])


# -- static files ----------------------------------------------------------------------

STATIC_TRICKS = [
    "/../pyproject.toml", "/../../../../../../etc/passwd", "/%2e%2e/%2e%2e/%2e%2e/pyproject.toml",
    "/assets/..%2F..%2Fapp.py", "/assets/%2e%2e%2f%2e%2e%2fapp.py", "/assets/..%5C..%5Capp.py",
    "/assets/..\\..\\app.py", "/..%2F..%2F..%2F..%2F..%2F..%2Fetc%2Fpasswd", "//etc/passwd",
    "/assets//etc/passwd", "/%252e%252e/%252e%252e/app.py", "/assets/%00", "/assets/x%00.js",
    "/favicon.svg/..%2F..%2Fapp.py", "/static/../app.py", "/assets/" + "..%2F" * 40 + "etc/passwd",
    "/%2F%2Fevil.example/", "/%5C%5Cevil.example/", "/./././app.py", "/assets/.%2e/.%2e/app.py",
    "/index.html/..%2f..%2fapp.py", "/.well-known/../../app.py",
]  # fmt: skip


@pytest.mark.parametrize("target", STATIC_TRICKS)
async def test_static_traversal_never_serves_a_file_outside_the_build(
    served: ServeProcess, target: str
) -> None:
    answer = await get(served, target)
    assert 200 <= answer.status < 500, (target, answer.status, answer.body[:300])
    body = answer.body
    for secret_file in (b"def make_app", b"[project]", b"root:x:0:0", b"from __future__"):
        assert secret_file not in body, (target, body[:200])
    if answer.status == 200:  # the SPA's index (history routing) or a real asset
        assert body.lstrip().startswith(b"<!doctype html>") or target.startswith("/assets/")
    location = answer.header("Location")
    assert location is None or (location.startswith("/") and not location.startswith("//"))


async def test_after_the_path_barrage_every_cluster_serves(served: ServeProcess) -> None:
    await assert_every_cluster_serves(served)
