"""Byte-exact passthrough details a simulator does not exercise: encodings, cookies, HEAD."""

from __future__ import annotations

import gzip
from collections.abc import AsyncIterator, Callable, Iterator
from pathlib import Path

import aiohttp
import pytest
from aiohttp import web

from kubelantern.settings import Settings
from tests.harness.certs import cert_upstream, cert_user
from tests.harness.kubeconfig import Context, write_kubeconfig
from tests.harness.pki import Pki
from tests.harness.servers import ServerThread

BODY = b'{"kind":"PodList","items":[]}' * 100


def upstream_app(seen: list[dict[str, str]]) -> web.Application:
    async def handler(request: web.Request) -> web.StreamResponse:
        seen.append({**request.headers, ":path": request.path})
        if request.path.endswith("/gz"):
            data = gzip.compress(BODY, mtime=0)
            return web.Response(
                body=data,
                headers={
                    "Content-Type": "application/json",
                    "Content-Encoding": "gzip",
                    "Set-Cookie": "R_SESS=token-secret; Path=/",
                    "Strict-Transport-Security": "max-age=1",
                    "Audit-Id": "abc-123",
                },
            )
        if request.path.endswith("/cut"):  # promises 5000 bytes, sends 100, hangs up
            cut = web.StreamResponse(headers={"Content-Type": "application/json"})
            cut.content_length = 5000
            await cut.prepare(request)
            await cut.write(b"x" * 100)
            assert request.transport is not None
            request.transport.close()
            return cut
        if request.path.endswith("/echo"):
            return web.Response(body=await request.read(), content_type="application/json")
        return web.Response(body=BODY, content_type="application/json")

    app = web.Application()
    app.router.add_route("*", "/{tail:.*}", handler)
    return app


@pytest.fixture
def upstream(pki: Pki) -> Iterator[tuple[ServerThread, list[dict[str, str]]]]:
    seen: list[dict[str, str]] = []
    server = ServerThread(lambda: upstream_app(seen), ssl_context=pki.server_context()).start()
    yield server, seen
    server.stop()


@pytest.fixture
def proxied(
    upstream: tuple[ServerThread, list[dict[str, str]]],
    pki: Pki,
    tmp_path: Path,
    lantern_factory: Callable[..., ServerThread],
) -> ServerThread:
    server, _ = upstream
    kc = write_kubeconfig(
        tmp_path / "config",
        [Context(name="up", server=f"{server.url}/prefix", ca_pem=pki.ca_pem, token="tok")],
    )
    return lantern_factory(Settings(kubeconfigs=(kc,), launch_token=None))


@pytest.fixture
async def http() -> AsyncIterator[aiohttp.ClientSession]:
    async with aiohttp.ClientSession(auto_decompress=False) as session:
        yield session


async def test_gzip_bytes_pass_unchanged_and_upstream_cookies_stay_out(
    proxied: ServerThread,
    upstream: tuple[ServerThread, list[dict[str, str]]],
    http: aiohttp.ClientSession,
) -> None:
    headers = {"Accept-Encoding": "gzip"}
    async with http.get(f"{proxied.url}/clusters/up/api/gz", headers=headers) as r:
        assert r.status == 200
        raw = await r.read()
        assert r.headers["Content-Encoding"] == "gzip"
        assert r.headers["Audit-Id"] == "abc-123"
        assert "Set-Cookie" not in r.headers
        assert "Strict-Transport-Security" not in r.headers
        assert int(r.headers["Content-Length"]) == len(raw)
    assert raw == gzip.compress(BODY, mtime=0)  # not decoded, not re-encoded
    _, seen = upstream
    mine = [h for h in seen if h[":path"].endswith("/gz")]  # not the startup probe's
    assert mine[-1]["Accept-Encoding"] == "gzip"  # the client's, not aiohttp's default


async def test_head_and_small_post_body(
    proxied: ServerThread,
    upstream: tuple[ServerThread, list[dict[str, str]]],
    http: aiohttp.ClientSession,
) -> None:
    async with http.head(f"{proxied.url}/clusters/up/api/plain") as r:
        assert r.status == 200
        assert int(r.headers["Content-Length"]) == len(BODY)
        assert await r.read() == b""
    async with http.post(
        f"{proxied.url}/clusters/up/api/echo",
        data=b'{"a":1}',
        headers={"Content-Type": "application/json"},
    ) as r:
        assert await r.read() == b'{"a":1}'
    _, seen = upstream
    echo = [h for h in seen if h[":path"].endswith("/echo")][-1]
    assert echo["Content-Length"] == "7"
    assert echo["Authorization"] == "Bearer tok"
    assert echo["Content-Type"] == "application/json"


async def test_no_accept_encoding_added_when_the_client_sent_none(
    proxied: ServerThread,
    upstream: tuple[ServerThread, list[dict[str, str]]],
) -> None:
    async with aiohttp.ClientSession(auto_decompress=False) as session:
        async with session.get(
            f"{proxied.url}/clusters/up/api/plain", skip_auto_headers=("Accept-Encoding",)
        ) as r:
            assert await r.read() == BODY
    _, seen = upstream
    plain = [h for h in seen if h[":path"].endswith("/plain")][-1]
    assert "Accept-Encoding" not in plain


async def test_user_token_is_not_shadowed_by_a_kubeconfig_client_cert(
    pki: Pki,
    tmp_path: Path,
    lantern_factory: Callable[..., ServerThread],
    http: aiohttp.ClientSession,
) -> None:
    seen: list[dict[str, str | None]] = []
    upstream = cert_upstream(pki, seen)
    try:
        kc = write_kubeconfig(
            tmp_path / "config",
            [Context(name="certs", server=upstream.url, ca_pem=pki.ca_pem, user=cert_user(pki))],
        )
        lantern = lantern_factory(Settings(kubeconfigs=(kc,), launch_token=None))
        async with http.get(f"{lantern.url}/clusters/certs/api?who=kubeconfig") as r:
            assert r.status == 200
        assert seen[-1]["cn"] is not None and seen[-1]["auth"] is None
        # The user's own token: the connection must not present the kubeconfig's cert,
        # or kube-apiserver would authenticate the certificate instead (x509 goes first).
        headers = {"Authorization": "Bearer users-own"}
        async with http.get(f"{lantern.url}/clusters/certs/api?who=user", headers=headers) as r:
            assert r.status == 200
        assert seen[-1] == {"cn": None, "auth": "Bearer users-own"}
    finally:
        upstream.stop()


async def test_short_answer_cut_by_the_cluster_is_a_502_naming_it(
    proxied: ServerThread, http: aiohttp.ClientSession
) -> None:
    async with http.get(f"{proxied.url}/clusters/up/api/cut") as r:
        assert r.status == 502
        body = await r.json()
    assert body["kind"] == "Status"
    assert "'up'" in body["message"] and "broke off" in body["message"]


async def test_answer_with_a_length_over_the_short_bound_streams_exactly(
    proxied: ServerThread, http: aiohttp.ClientSession, monkeypatch: pytest.MonkeyPatch
) -> None:
    import kubelantern.proxy.http as proxy_http

    monkeypatch.setattr(proxy_http, "SHORT_BODY", len(BODY) - 1)  # BODY takes the stream path
    async with http.get(f"{proxied.url}/clusters/up/api/plain") as r:
        assert r.status == 200
        assert int(r.headers["Content-Length"]) == len(BODY)
        assert "Transfer-Encoding" not in r.headers
        assert await r.read() == BODY
    async with http.get(f"{proxied.url}/clusters/up/api/cut") as r:
        assert r.status == 200  # headers went before the cut: the body must not look whole
        with pytest.raises(aiohttp.ClientPayloadError):
            await r.read()
