"""TLS contexts from kubeconfig material, checked with real handshakes on 127.0.0.1."""

from __future__ import annotations

import ssl
import tempfile
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import aiohttp
import pytest
from aiohttp import web

from kubelantern.clusters.spec import ClusterSpec, TLSSpec
from kubelantern.clusters.tls import TLSConfigError, TLSInfo, build_ssl_context, tls_info
from tests.harness.pki import Pki, make_pki
from tests.harness.servers import ServerThread


def whoami_app() -> web.Application:
    async def handler(request: web.Request) -> web.Response:
        assert request.transport is not None
        peer = request.transport.get_extra_info("peercert")
        cn = "anonymous"
        if peer:
            cn = dict(x[0] for x in peer["subject"])["commonName"]
        return web.Response(text=cn)

    app = web.Application()
    app.router.add_get("/whoami", handler)
    return app


@pytest.fixture(scope="module")
def mtls_server(pki: Pki) -> Iterator[ServerThread]:
    with ServerThread(whoami_app, ssl_context=pki.server_context(require_client_cert=True)) as s:
        yield s


@pytest.fixture
def private_tmp(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """Temp files made while building contexts land here, so the test can see them go."""
    folder = tmp_path / "tmp"
    folder.mkdir()
    monkeypatch.setattr(tempfile, "tempdir", str(folder))
    return folder


def leftovers(folder: Path) -> list[Path]:
    return list(folder.iterdir())


async def fetch(server: ServerThread, info: TLSInfo) -> str:
    kwargs: dict[str, Any] = {"ssl": info.ssl}
    if info.server_hostname:
        kwargs["server_hostname"] = info.server_hostname
    async with (
        aiohttp.ClientSession() as session,
        session.get(f"{server.url}/whoami", **kwargs) as resp,
    ):
        assert resp.status == 200
        return await resp.text()


def spec(server: ServerThread, **tls: Any) -> ClusterSpec:
    return ClusterSpec(name="t", server=server.url, tls=TLSSpec(**tls))


async def test_inline_ca_verifies(mtls_server: ServerThread, pki: Pki) -> None:
    info = tls_info(spec(mtls_server, ca_data=pki.ca_pem))
    assert isinstance(info.ssl, ssl.SSLContext)
    assert info.ssl.verify_mode == ssl.CERT_REQUIRED and info.ssl.check_hostname
    assert await fetch(mtls_server, info) == "anonymous"


async def test_ca_file_verifies(mtls_server: ServerThread, pki: Pki) -> None:
    assert await fetch(mtls_server, tls_info(spec(mtls_server, ca_file=pki.ca_file))) == "anonymous"


async def test_wrong_ca_fails_verification(mtls_server: ServerThread, tmp_path: Path) -> None:
    other = make_pki(tmp_path)
    with pytest.raises(aiohttp.ClientConnectorCertificateError):
        await fetch(mtls_server, tls_info(spec(mtls_server, ca_data=other.ca_pem)))


async def test_no_ca_uses_system_roots_and_still_verifies(mtls_server: ServerThread) -> None:
    info = tls_info(spec(mtls_server))
    assert isinstance(info.ssl, ssl.SSLContext) and info.ssl.verify_mode == ssl.CERT_REQUIRED
    with pytest.raises(aiohttp.ClientConnectorCertificateError):
        await fetch(mtls_server, info)  # our throwaway CA is no system root


async def test_insecure_skip_verify(mtls_server: ServerThread) -> None:
    info = tls_info(spec(mtls_server, insecure_skip_verify=True))
    assert isinstance(info.ssl, ssl.SSLContext)
    assert info.ssl.verify_mode == ssl.CERT_NONE and not info.ssl.check_hostname
    assert await fetch(mtls_server, info) == "anonymous"


async def test_inline_client_cert_and_no_temp_files_left(
    mtls_server: ServerThread, pki: Pki, private_tmp: Path
) -> None:
    info = tls_info(
        spec(
            mtls_server,
            ca_data=pki.ca_pem,
            client_cert_data=pki.client_cert_pem,
            client_key_data=pki.client_key_pem,
        )
    )
    assert leftovers(private_tmp) == []  # the key never stays on disk
    assert await fetch(mtls_server, info) == "test-user"


async def test_client_cert_files(mtls_server: ServerThread, pki: Pki, tmp_path: Path) -> None:
    (tmp_path / "c.crt").write_bytes(pki.client_cert_pem)
    (tmp_path / "c.key").write_bytes(pki.client_key_pem)
    info = tls_info(
        spec(
            mtls_server,
            ca_file=pki.ca_file,
            client_cert_file=tmp_path / "c.crt",
            client_key_file=tmp_path / "c.key",
        )
    )
    assert await fetch(mtls_server, info) == "test-user"


async def test_plugin_cert_is_used(mtls_server: ServerThread, pki: Pki) -> None:
    s = spec(mtls_server, ca_data=pki.ca_pem)
    info = tls_info(s, plugin_cert=(pki.client_cert_pem, pki.client_key_pem))
    assert await fetch(mtls_server, info) == "test-user"


async def test_tls_server_name_is_verified_name(mtls_server: ServerThread, pki: Pki) -> None:
    good = tls_info(spec(mtls_server, ca_data=pki.ca_pem, server_name="kubernetes.test"))
    assert good.server_hostname == "kubernetes.test"
    assert await fetch(mtls_server, good) == "anonymous"
    wrong = tls_info(spec(mtls_server, ca_data=pki.ca_pem, server_name="other.test"))
    with pytest.raises(aiohttp.ClientConnectorCertificateError):
        await fetch(mtls_server, wrong)


def test_plain_http_needs_no_tls() -> None:
    assert build_ssl_context(ClusterSpec(name="h", server="http://127.0.0.1:8080")) is True


@pytest.mark.parametrize(
    ("tls", "message"),
    [
        ({"ca_data": b"not a certificate"}, "certificate-authority-data holds no usable PEM"),
        ({"ca_file": Path("/nonexistent/ca.crt")}, "certificate-authority: file /nonexistent"),
        ({"client_cert_data": b"x"}, "client-key is missing"),
        (
            {"client_cert_data": b"garbage", "client_key_data": b"garbage"},
            "client-certificate/client-key: not a matching PEM certificate and key",
        ),
        (
            {"client_cert_file": Path("/nonexistent/c.crt"), "client_key_data": b"k"},
            "client-certificate: file /nonexistent/c.crt not found",
        ),
    ],
)
def test_bad_material_names_the_key(tls: dict[str, Any], message: str, private_tmp: Path) -> None:
    with pytest.raises(TLSConfigError) as e:
        build_ssl_context(ClusterSpec(name="b", server="https://x", tls=TLSSpec(**tls)))
    assert message in str(e.value)
    assert leftovers(private_tmp) == []


def test_mismatched_key_is_reported(pki: Pki, tmp_path: Path) -> None:
    other = make_pki(tmp_path)
    tls = TLSSpec(client_cert_data=pki.client_cert_pem, client_key_data=other.client_key_pem)
    with pytest.raises(TLSConfigError, match="not a matching PEM certificate and key"):
        build_ssl_context(ClusterSpec(name="b", server="https://x", tls=tls))
