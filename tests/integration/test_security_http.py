"""DESIGN §5 over real sockets: Host, Origin, launch token, cookies, headers, base URL."""

from __future__ import annotations

import asyncio
import re
import uuid
from collections.abc import AsyncIterator, Callable
from pathlib import Path

import aiohttp
import pytest

from kubelantern.proxy.headers import launch_cookie_name
from kubelantern.settings import Settings
from tests.harness.serveproc import ServeProcess
from tests.harness.servers import ServerThread
from tests.harness.stack import KUBE_TOKEN, SimCluster

TOKEN = "launch-" + "x" * 40


@pytest.fixture
def guarded(lantern_factory: Callable[..., ServerThread], kubeconfig: Path) -> ServerThread:
    return lantern_factory(Settings(kubeconfigs=(kubeconfig,), launch_token=TOKEN))


@pytest.fixture
async def http() -> AsyncIterator[aiohttp.ClientSession]:
    # A cookie jar that accepts cookies for IP hosts, like a browser on 127.0.0.1.
    async with aiohttp.ClientSession(cookie_jar=aiohttp.CookieJar(unsafe=True)) as session:
        yield session


async def test_health_is_open_everything_else_needs_the_token(
    guarded: ServerThread, http: aiohttp.ClientSession
) -> None:
    async with http.get(f"{guarded.url}/healthz") as r:
        assert r.status == 200
    async with http.get(f"{guarded.url}/readyz") as r:
        assert r.status == 200
    for path in ("/api/clusters", "/clusters/kind-dev/api", "/metrics", "/api/config"):
        async with http.get(f"{guarded.url}{path}") as r:
            assert r.status == 401, path
            body = await r.json()
            assert body["kind"] == "Status" and TOKEN not in str(body)
    async with http.get(f"{guarded.url}/", headers={"Accept": "text/html"}) as r:
        assert r.status == 401
        assert r.content_type == "text/html"
        assert "printed in the terminal" in await r.text()


async def test_token_url_sets_a_strict_cookie_and_redirects(
    guarded: ServerThread, http: aiohttp.ClientSession
) -> None:
    async with http.get(f"{guarded.url}/?token={TOKEN}&view=pods", allow_redirects=False) as r:
        assert r.status == 302
        assert r.headers["Location"] == "/?view=pods"
        cookie = r.headers["Set-Cookie"]
    assert cookie.startswith(f"{launch_cookie_name(TOKEN)}=")
    assert TOKEN not in cookie  # the cookie carries an HMAC of it, not the token (defect 3)
    lowered = cookie.lower()
    assert "httponly" in lowered and "samesite=strict" in lowered and "path=/" in lowered
    assert "secure" not in lowered  # plain http on loopback
    async with http.get(f"{guarded.url}/api/clusters") as r:  # the jar now holds the cookie
        assert r.status == 200
    async with http.get(f"{guarded.url}/?token=wrong", allow_redirects=False) as r:
        assert r.status == 401


async def test_header_and_bearer_launch_token(
    guarded: ServerThread, sims: dict[str, SimCluster], http: aiohttp.ClientSession
) -> None:
    async with http.get(f"{guarded.url}/api/config", headers={"X-Kubelantern-Token": TOKEN}) as r:
        assert r.status == 200
        assert (await r.json())["localMode"] is True
    async with http.get(f"{guarded.url}/api/config", headers={"X-Kubelantern-Token": "no"}) as r:
        assert r.status == 401
    # kubectl --token <launch token>: the launch token is ours, the kubeconfig's goes upstream.
    value = uuid.uuid4().hex[:12]
    url = f"{guarded.url}/clusters/kind-dev/api/v1/namespaces?labelSelector=p%3D{value}"
    async with http.get(url, headers={"Authorization": f"Bearer {TOKEN}"}) as r:
        assert r.status == 200
    seen = [q for q in sims["kubernetes"].state.requests if value in q.query_string][-1]
    assert seen.header("Authorization") == f"Bearer {KUBE_TOKEN}"
    assert all(TOKEN not in v for _, v in seen.headers)
    assert TOKEN not in seen.query_string


async def test_foreign_origin_is_refused_for_writes_and_websockets(
    guarded: ServerThread, http: aiohttp.ClientSession
) -> None:
    auth = {"X-Kubelantern-Token": TOKEN}
    url = f"{guarded.url}/clusters/kind-dev/api/v1/namespaces/default/configmaps"
    body = {"apiVersion": "v1", "kind": "ConfigMap", "metadata": {"name": "x"}}
    evil = {**auth, "Origin": "https://evil.example"}
    async with http.post(url, json=body, headers=evil) as r:
        assert r.status == 403
        assert "https://evil.example" in (await r.json())["message"]
    async with http.post(f"{guarded.url}/api/clusters/kind-dev/logout", headers=evil) as r:
        assert r.status == 403
    # Same-origin and Origin-less (kubectl) writes pass the check.
    async with http.post(
        f"{guarded.url}/api/clusters/kind-dev/logout", headers={**auth, "Origin": guarded.url}
    ) as r:
        assert r.status == 200
    async with http.post(f"{guarded.url}/api/clusters/kind-dev/logout", headers=auth) as r:
        assert r.status == 200
    # A cross-site WebSocket (hijacking a shell) is refused before any upstream contact.
    ws_url = f"{guarded.url}/clusters/kind-dev/api/v1/namespaces/default/pods/p/exec?command=sh"
    with pytest.raises(aiohttp.WSServerHandshakeError) as info:
        await http.ws_connect(ws_url, headers=evil, protocols=("v5.channel.k8s.io",))
    assert info.value.status == 403
    # A GET with a foreign Origin is a read: allowed (the cookie is SameSite=Strict anyway).
    async with http.get(f"{guarded.url}/api/config", headers=evil) as r:
        assert r.status == 200


async def test_bad_host_is_refused(guarded: ServerThread, http: aiohttp.ClientSession) -> None:
    headers = {"Host": f"rebind.attacker.example:{guarded.port}", "X-Kubelantern-Token": TOKEN}
    async with http.get(f"{guarded.url}/api/clusters", headers=headers) as r:
        assert r.status == 403
        assert "rebind.attacker.example" in (await r.json())["message"]
    async with http.get(f"{guarded.url}/healthz", headers={"Host": "evil.example"}) as r:
        assert r.status == 403
    async with http.get(
        f"{guarded.url}/healthz", headers={"Host": f"localhost:{guarded.port}"}
    ) as r:
        assert r.status == 200


async def test_security_headers(guarded: ServerThread, http: aiohttp.ClientSession) -> None:
    auth = {"X-Kubelantern-Token": TOKEN}
    async with http.get(f"{guarded.url}/", headers=auth) as r:
        assert r.status == 200
        assert r.content_type == "text/html"
        csp = r.headers["Content-Security-Policy"]
        assert "script-src 'self'" in csp and "frame-ancestors 'none'" in csp
        assert r.headers["X-Frame-Options"] == "DENY"
        assert r.headers["Referrer-Policy"] == "no-referrer"
        assert r.headers["Cache-Control"] == "no-cache"
    async with http.get(f"{guarded.url}/api/clusters?wait=0", headers=auth) as r:
        assert r.headers["X-Content-Type-Options"] == "nosniff"
        assert "Set-Cookie" not in r.headers
    async with http.get(f"{guarded.url}/c/kind-dev/pods/default/web-1.2", headers=auth) as r:
        assert r.status == 200 and r.content_type == "text/html"  # SPA fallback
    async with http.get(f"{guarded.url}/assets/missing-abc.js", headers=auth) as r:
        assert r.status == 404


async def test_base_url_prefix(
    lantern_factory: Callable[..., ServerThread], kubeconfig: Path, http: aiohttp.ClientSession
) -> None:
    server = lantern_factory(
        Settings(kubeconfigs=(kubeconfig,), launch_token=TOKEN, base_url="/kl")
    )
    async with http.get(f"{server.url}/kl/healthz") as r:
        assert r.status == 200
    async with http.get(f"{server.url}/healthz") as r:
        assert r.status == 404
    async with http.get(f"{server.url}/kl/?token={TOKEN}", allow_redirects=False) as r:
        assert r.status == 302 and r.headers["Location"] == "/kl/"
        assert "Path=/kl/" in r.headers["Set-Cookie"]
    auth = {"X-Kubelantern-Token": TOKEN}
    async with http.get(f"{server.url}/kl/clusters/kind-dev/api/v1/namespaces", headers=auth) as r:
        assert r.status == 200
    async with http.get(f"{server.url}/kl/api/config", headers=auth) as r:
        assert (await r.json())["baseUrl"] == "/kl"
    async with http.get(f"{server.url}/kl/c/kind-dev/pods", headers=auth) as r:
        assert r.status == 200 and r.content_type == "text/html"
        html = await r.text()
    assert 'src="/assets/' not in html and 'href="/assets/' not in html  # prefixed when built


async def test_access_log_never_holds_secrets(
    guarded: ServerThread, http: aiohttp.ClientSession, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level("INFO", logger="kubelantern.access")
    async with http.get(f"{guarded.url}/?token={TOKEN}", allow_redirects=False) as r:
        assert r.status == 302
    # A fresh client with no cookie: the launch token arrives as the bearer (kubectl-style).
    async with (
        aiohttp.ClientSession() as fresh,
        fresh.get(
            f"{guarded.url}/clusters/kind-dev/api/v1/namespaces?limit=1",
            headers={"Authorization": f"Bearer {TOKEN}", "X-Extra": "Bearer user-secret"},
        ) as r,
    ):
        assert r.status == 200

    def access_lines() -> list[str]:
        return [r.getMessage() for r in caplog.records if r.name == "kubelantern.access"]

    # The line is written when the handler returns, which may be just after the client
    # has read the whole streamed body: wait for it (bounded).
    async with asyncio.timeout(5):
        while not any("cluster=kind-dev" in line for line in access_lines()):  # noqa: ASYNC110
            await asyncio.sleep(0.02)
    lines = access_lines()
    assert any('path="/?token=REDACTED"' in line and "status=302" in line for line in lines)
    proxied = [line for line in lines if "cluster=kind-dev" in line]
    assert proxied and "status=200" in proxied[-1] and "duration_ms=" in proxied[-1]
    assert all(TOKEN not in line and "user-secret" not in line for line in lines)


async def launch_cookie(server_url: str, http: aiohttp.ClientSession) -> str:
    """The `name=value` of the launch cookie a server sets for `?token=`."""
    async with http.get(f"{server_url}/?token={TOKEN}", allow_redirects=False) as r:
        assert r.status == 302
        return r.headers["Set-Cookie"].split(";", 1)[0]


async def test_a_launch_cookie_is_worthless_elsewhere(
    lantern_factory: Callable[..., ServerThread], kubeconfig: Path
) -> None:
    """Defect 3: every service on 127.0.0.1 receives the launch cookie (cookies ignore ports).
    It must not be the launch token, nor work on another start with the same token."""
    first = lantern_factory(Settings(kubeconfigs=(kubeconfig,), launch_token=TOKEN))
    second = lantern_factory(Settings(kubeconfigs=(kubeconfig,), launch_token=TOKEN))
    async with aiohttp.ClientSession() as http:
        cookie = await launch_cookie(first.url, http)
        assert TOKEN not in cookie
        async with http.get(f"{first.url}/api/clusters", headers={"Cookie": cookie}) as r:
            assert r.status == 200  # good where it was made
        async with http.get(f"{second.url}/api/clusters", headers={"Cookie": cookie}) as r:
            assert r.status == 401  # another start: worthless
        raw = f"{launch_cookie_name(TOKEN)}={TOKEN}"  # what the cookie used to carry
        async with http.get(f"{first.url}/api/clusters", headers={"Cookie": raw}) as r:
            assert r.status == 401


async def test_over_https_the_launch_cookie_is_a_host_cookie() -> None:
    """`__Host-` prefix over https: Secure, Path=/, no Domain (browsers enforce them)."""
    served = ServeProcess(["--demo", "--token", TOKEN, "--tls-port", "0"]).start()
    try:
        async with asyncio.timeout(60):
            while not any("kubectl can use https://" in x for x in served.stdout_lines):  # noqa: ASYNC110
                await asyncio.sleep(0.05)
        line = next(x for x in served.stdout_lines if "kubectl can use https://" in x)
        found = re.search(r"https://[^/\s]+", line)
        assert found, line
        url = found.group(0)
        async with aiohttp.ClientSession() as http:
            async with http.get(f"{url}/?token={TOKEN}", allow_redirects=False, ssl=False) as r:
                assert r.status == 302
                header = r.headers["Set-Cookie"]
            assert header.startswith(f"__Host-{launch_cookie_name(TOKEN)}=")
            assert TOKEN not in header
            attrs = [a.strip().lower() for a in header.split(";")[1:]]
            assert "secure" in attrs and "path=/" in attrs and "httponly" in attrs
            assert not any(a.startswith("domain") for a in attrs)
            cookie = header.split(";", 1)[0]
            async with http.get(f"{url}/api/clusters", headers={"Cookie": cookie}, ssl=False) as r:
                assert r.status == 200
    finally:
        served.stop()
