"""A Cluster from a kubeconfig talking to real HTTPS servers on 127.0.0.1.

Covers what the proxy relies on: path prefix kept, credentials injected, 401 -> refresh ->
retry with an exec plugin, a plugin-issued client certificate, tls-server-name, proxy-url,
no cookie jar, no decompression, and WebSocket connects with the same kwargs.
"""

from __future__ import annotations

import asyncio
import contextlib
import gzip
from collections.abc import AsyncIterator, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pytest
from aiohttp import WSMsgType, web

from kubelantern.clusters.kubeconfig import load_kubeconfigs
from kubelantern.clusters.registry import Cluster, Registry
from kubelantern.settings import Settings
from tests.harness.kubeconfig import Context, fake_plugin_exec, write_kubeconfig
from tests.harness.pki import Pki
from tests.harness.servers import ServerThread

PREFIX = "/k8s/clusters/c-m-abc12"


@dataclass
class Seen:
    requests: list[dict[str, Any]] = field(default_factory=list)
    accept: set[str] = field(default_factory=lambda: {"Bearer good-token"})


def upstream_app(seen: Seen) -> web.Application:
    """A tiny API server: records each request, wants an accepted token or a client cert."""

    async def any_path(request: web.Request) -> web.StreamResponse:
        assert request.transport is not None
        peer = request.transport.get_extra_info("peercert")
        cn = dict(x[0] for x in peer["subject"])["commonName"] if peer else None
        seen.requests.append(
            {
                "path": request.raw_path,
                "auth": request.headers.get("Authorization"),
                "cookie": request.headers.get("Cookie"),
                "user_agent": request.headers.get("User-Agent"),
                "impersonate_groups": request.headers.getall("Impersonate-Group", []),
                "cn": cn,
            }
        )
        if request.headers.get("Authorization") not in seen.accept and cn is None:
            return web.json_response({"kind": "Status", "code": 401}, status=401)
        if request.path.endswith("/ws"):
            ws = web.WebSocketResponse(protocols=("v5.channel.k8s.io",))
            await ws.prepare(request)
            await ws.send_str(f"hello {cn or 'token'}")
            await ws.close()
            return ws
        body = gzip.compress(b'{"kind":"PodList"}')
        resp = web.Response(body=body, headers={"Content-Encoding": "gzip"})
        resp.set_cookie("session", "upstream-cookie")
        return resp

    app = web.Application()
    app.router.add_route("*", "/{tail:.*}", any_path)
    return app


@pytest.fixture(scope="module")
def upstream(pki: Pki) -> Iterator[tuple[ServerThread, Seen]]:
    seen = Seen()
    ctx = pki.server_context(require_client_cert=True)
    with ServerThread(lambda: upstream_app(seen), ssl_context=ctx) as server:
        yield server, seen


def one_cluster(tmp_path: Path, context: Context) -> Cluster:
    path = write_kubeconfig(tmp_path / "config", [context])
    result = load_kubeconfigs([path], home=tmp_path)
    assert result.errors == []
    registry = Registry.from_specs(result.specs, result.errors, Settings())
    cluster = registry.clusters[context.name]
    assert cluster.ok, cluster.load_error
    return cluster


async def get(cluster: Cluster, api_path: str, query: str = "") -> tuple[int, bytes]:
    session = await cluster.session()
    headers = await cluster.auth_headers()
    url = cluster.upstream_url(api_path, query)
    async with session.get(url, headers=headers, **cluster.request_kwargs()) as resp:
        return resp.status, await resp.read()


@contextlib.asynccontextmanager
async def closing(cluster: Cluster) -> AsyncIterator[Cluster]:
    try:
        yield cluster
    finally:
        await cluster.close()


async def test_token_prefix_no_cookies_no_decompression(
    upstream: tuple[ServerThread, Seen], pki: Pki, tmp_path: Path
) -> None:
    server, seen = upstream
    ctx = Context(
        "rancher/down:c-m-abc12",
        server.url + PREFIX,
        ca_pem=pki.ca_pem,
        token="good-token",
        user={"as-groups": ["dev", "ops"]},
    )
    async with closing(one_cluster(tmp_path, ctx)) as cluster:
        seen.requests.clear()
        status, body = await get(cluster, "/api/v1/namespaces/a%20b/pods", "limit=1")
        assert status == 200
        assert gzip.decompress(body) == b'{"kind":"PodList"}'  # bytes passed through as sent
        status, _ = await get(cluster, "/api/v1/pods")
        assert status == 200
        first, second = seen.requests
        assert first["path"] == PREFIX + "/api/v1/namespaces/a%20b/pods?limit=1"
        assert first["auth"] == "Bearer good-token"
        assert first["impersonate_groups"] == ["dev", "ops"]
        assert first["user_agent"].startswith("kubelantern/")
        assert second["cookie"] is None  # the upstream's cookie was not kept


async def test_exec_plugin_401_refresh_and_retry(
    upstream: tuple[ServerThread, Seen], pki: Pki, tmp_path: Path
) -> None:
    server, seen = upstream
    count = tmp_path / "runs"
    exec_cfg = fake_plugin_exec(
        {"FAKE_PLUGIN_COUNT_FILE": str(count), "FAKE_PLUGIN_TOKEN": "rotating"},
        interactiveMode="Never",
    )
    seen.accept = {"Bearer good-token", "Bearer rotating-2"}  # the first token is "revoked"
    ctx = Context("eks", server.url, ca_pem=pki.ca_pem, user={"exec": exec_cfg})
    async with closing(one_cluster(tmp_path, ctx)) as cluster:
        status, _ = await get(cluster, "/api/v1/pods")
        assert status == 401
        stale = await cluster.credentials.token()
        assert stale == "rotating-1"
        # What the proxy does on a 401: refresh once, retry if the credential changed.
        results = await asyncio.gather(*(cluster.credentials.refresh(stale) for _ in range(5)))
        assert all(results)
        status, _ = await get(cluster, "/api/v1/pods")
        assert status == 200
        assert len(count.read_text().splitlines()) == 2  # five 401s, one plugin run
        assert seen.requests[-1]["auth"] == "Bearer rotating-2"


async def test_exec_plugin_client_certificate_rebuilds_tls(
    upstream: tuple[ServerThread, Seen], pki: Pki, tmp_path: Path
) -> None:
    server, seen = upstream
    (tmp_path / "c.pem").write_bytes(pki.client_cert_pem)
    (tmp_path / "k.pem").write_bytes(pki.client_key_pem)
    exec_cfg = fake_plugin_exec(
        {
            "FAKE_PLUGIN_MODE": "cert",
            "FAKE_PLUGIN_CERT_FILE": str(tmp_path / "c.pem"),
            "FAKE_PLUGIN_KEY_FILE": str(tmp_path / "k.pem"),
        },
        api_version="v1beta1",
    )
    ctx = Context("cert-plugin", server.url, ca_pem=pki.ca_pem, user={"exec": exec_cfg})
    async with closing(one_cluster(tmp_path, ctx)) as cluster:
        await cluster.ensure_tls()  # the kubeconfig's TLS, built at the first use
        before = cluster.tls.ssl
        status, _ = await get(cluster, "/api/v1/pods")
        assert status == 200
        assert cluster.tls.ssl is not before  # rebuilt with the plugin's certificate
        assert seen.requests[-1]["cn"] == "test-user"
        assert seen.requests[-1]["auth"] is None


async def test_kubeconfig_client_cert_and_tls_server_name(
    upstream: tuple[ServerThread, Seen], pki: Pki, tmp_path: Path
) -> None:
    server, seen = upstream
    import base64

    user = {
        "client-certificate-data": base64.b64encode(pki.client_cert_pem).decode(),
        "client-key-data": base64.b64encode(pki.client_key_pem).decode(),
    }
    ctx = Context(
        "mtls",
        server.url,
        ca_pem=pki.ca_pem,
        user=user,
        cluster={"tls-server-name": "kubernetes.test"},
    )
    async with closing(one_cluster(tmp_path, ctx)) as cluster:
        await cluster.ensure_tls()
        assert cluster.request_kwargs()["server_hostname"] == "kubernetes.test"
        status, _ = await get(cluster, "/version")
        assert status == 200
        assert seen.requests[-1]["cn"] == "test-user"
        assert cluster.credentials.describe() == "client certificate"


async def test_websocket_connect_uses_the_same_kwargs(
    upstream: tuple[ServerThread, Seen], pki: Pki, tmp_path: Path
) -> None:
    server, _ = upstream
    ctx = Context("ws", server.url + PREFIX, ca_pem=pki.ca_pem, token="good-token")
    async with closing(one_cluster(tmp_path, ctx)) as cluster:
        session = await cluster.session()
        headers = await cluster.auth_headers()
        async with session.ws_connect(
            cluster.upstream_url("/api/v1/namespaces/default/pods/web/exec/ws", "stdin=true"),
            headers=headers,
            protocols=("v5.channel.k8s.io",),
            **cluster.request_kwargs(),
        ) as ws:
            assert ws.protocol == "v5.channel.k8s.io"
            msg = await asyncio.wait_for(ws.receive(), 10)
            assert (msg.type, msg.data) == (WSMsgType.TEXT, "hello token")


# -- proxy-url: a minimal CONNECT proxy on loopback ---------------------------------------


@dataclass
class ProxyLog:
    connects: list[str] = field(default_factory=list)
    auth: list[str | None] = field(default_factory=list)


async def _pipe(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
    try:
        while data := await reader.read(65536):
            writer.write(data)
            await writer.drain()
    except (ConnectionError, asyncio.CancelledError):
        pass
    finally:
        writer.close()


@contextlib.asynccontextmanager
async def connect_proxy() -> AsyncIterator[tuple[int, ProxyLog]]:
    log = ProxyLog()
    tasks: set[asyncio.Task[None]] = set()

    async def handle(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        head = await asyncio.wait_for(reader.readuntil(b"\r\n\r\n"), 10)
        lines = head.decode().split("\r\n")
        method, target, _ = lines[0].split(" ", 2)
        headers = dict(line.split(": ", 1) for line in lines[1:] if ": " in line)
        log.connects.append(f"{method} {target}")
        log.auth.append(headers.get("Proxy-Authorization"))
        host, port = target.rsplit(":", 1)
        up_reader, up_writer = await asyncio.open_connection(host, int(port))
        writer.write(b"HTTP/1.1 200 Connection established\r\n\r\n")
        await writer.drain()
        for t in (_pipe(reader, up_writer), _pipe(up_reader, writer)):
            task = asyncio.ensure_future(t)
            tasks.add(task)

    server = await asyncio.start_server(handle, "127.0.0.1", 0)
    port = server.sockets[0].getsockname()[1]
    try:
        yield port, log
    finally:
        server.close()
        for t in tasks:
            t.cancel()
        await asyncio.gather(*tasks, return_exceptions=True)


async def test_proxy_url_tunnels_through_connect(
    upstream: tuple[ServerThread, Seen], pki: Pki, tmp_path: Path
) -> None:
    server, seen = upstream
    async with connect_proxy() as (port, log):
        ctx = Context(
            "via-proxy",
            server.url,
            ca_pem=pki.ca_pem,
            token="good-token",
            cluster={"proxy-url": f"http://alice:pw@127.0.0.1:{port}"},
        )
        async with closing(one_cluster(tmp_path, ctx)) as cluster:
            status, _ = await get(cluster, "/api")
            assert status == 200
            assert log.connects == [f"CONNECT 127.0.0.1:{server.port}"]
            assert log.auth == ["Basic YWxpY2U6cHc="]  # alice:pw, to the proxy only
            assert seen.requests[-1]["auth"] == "Bearer good-token"
