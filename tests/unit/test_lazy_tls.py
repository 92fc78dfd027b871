"""SSL contexts built at a cluster's first use (issue 12: start-up): the shallow check at load
(pemcheck.py, check_tls_material), one build per TLS material however many ask at once, a
build failure becoming the cluster's load error, and aiohttp imported without parsing the CA
bundle (leanimport.py). No sockets here; tests/integration/test_tls_first_use.py has them."""

from __future__ import annotations

import asyncio
import base64
import ssl
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest

from kubelantern.clusters import pemcheck
from kubelantern.clusters.cluster import Cluster
from kubelantern.clusters.registry import Registry
from kubelantern.clusters.spec import ClusterSpec, TLSSpec
from kubelantern.clusters.tls import (
    TLSConfigError,
    TLSContexts,
    build_ssl_context,
    check_tls_material,
)
from kubelantern.leanimport import hashed_ca_dir, system_bundle
from tests.harness.pki import Pki, make_pki


def spec(name: str = "c", server: str = "https://127.0.0.1:6443", **tls: Any) -> ClusterSpec:
    return ClusterSpec(name=name, server=server, tls=TLSSpec(**tls), source="/k/config")


def pem(label: str, der: bytes) -> bytes:
    body = base64.encodebytes(der)
    return f"-----BEGIN {label}-----\n".encode() + body + f"-----END {label}-----\n".encode()


# -- pemcheck ----------------------------------------------------------------------------


def test_pem_labels_of_real_material(pki: Pki) -> None:
    assert pemcheck.pem_labels(pki.ca_pem) == ["CERTIFICATE"]
    assert pemcheck.has_certificate(pki.ca_pem) and not pemcheck.has_private_key(pki.ca_pem)
    assert pemcheck.has_private_key(pki.client_key_pem)
    bundle = b"# a comment OpenSSL skips\n" + pki.ca_pem + pki.client_cert_pem
    assert pemcheck.pem_labels(bundle) == ["CERTIFICATE", "CERTIFICATE"]


@pytest.mark.parametrize(
    "data",
    [
        b"",
        b"not a certificate",
        b"-----BEGIN CERTIFICATE-----\n!!!not base64!!!\n-----END CERTIFICATE-----\n",
        pem("CERTIFICATE", b"\x04\x03abc"),  # base64, but not a DER SEQUENCE
        pem("CERTIFICATE", b"\x30\x82\x05\x00" + b"x" * 16),  # says 1280 bytes, has 16
        pem("CERTIFICATE REQUEST", b"\x30\x03abc"),  # a CSR is no certificate
        b"-----BEGIN CERTIFICATE-----\nMIIB\n-----END PRIVATE KEY-----\n",  # labels differ
    ],
)
def test_no_usable_certificate(data: bytes) -> None:
    assert not pemcheck.has_certificate(data)


def test_der_lengths_short_and_long_form() -> None:
    assert pemcheck.has_certificate(pem("CERTIFICATE", b"\x30\x03abc"))
    assert pemcheck.has_certificate(pem("CERTIFICATE", b"\x30\x81\x80" + b"x" * 128))
    assert pemcheck.has_certificate(pem("TRUSTED CERTIFICATE", b"\x30\x00"))


def test_legacy_encrypted_key_headers_are_skipped() -> None:
    body = base64.encodebytes(b"ciphertext, not DER").decode()
    key = (
        "-----BEGIN RSA PRIVATE KEY-----\nProc-Type: 4,ENCRYPTED\n"
        f"DEK-Info: AES-128-CBC,00FF\n\n{body}-----END RSA PRIVATE KEY-----\n"
    ).encode()
    assert pemcheck.has_private_key(key)


# -- check_tls_material: the messages of the build, without building ---------------------


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
def test_check_finds_what_the_build_finds(tls: dict[str, Any], message: str) -> None:
    bad = spec(**tls)
    with pytest.raises(TLSConfigError) as checked:
        check_tls_material(bad)
    with pytest.raises(TLSConfigError) as built:
        build_ssl_context(bad)
    assert message in str(checked.value) and message in str(built.value)


def test_check_reads_files(pki: Pki, tmp_path: Path) -> None:
    junk = tmp_path / "junk.crt"
    junk.write_bytes(b"junk")
    with pytest.raises(TLSConfigError, match=f"certificate-authority: {junk} holds no usable"):
        check_tls_material(spec(ca_file=junk))
    key_as_cert = tmp_path / "key.pem"
    key_as_cert.write_bytes(pki.client_key_pem)
    with pytest.raises(TLSConfigError, match="no PEM certificate block in the certificate"):
        check_tls_material(spec(client_cert_file=key_as_cert, client_key_data=pki.ca_pem))
    with pytest.raises(TLSConfigError, match="no PEM private key block in the key"):
        check_tls_material(spec(client_cert_data=pki.client_cert_pem, client_key_data=pki.ca_pem))
    check_tls_material(spec(ca_file=pki.ca_file, client_cert_data=pki.client_cert_pem,
                            client_key_file=key_as_cert))  # fmt: skip


def test_check_skips_what_is_not_used() -> None:
    check_tls_material(spec(server="http://127.0.0.1:8080", ca_data=b"junk"))
    check_tls_material(spec(insecure_skip_verify=True, ca_data=b"junk"))


def test_mismatched_key_passes_the_check_and_fails_the_build(pki: Pki, tmp_path: Path) -> None:
    other = make_pki(tmp_path)
    mismatched = spec(client_cert_data=pki.client_cert_pem, client_key_data=other.client_key_pem)
    check_tls_material(mismatched)  # only OpenSSL can tell
    with pytest.raises(TLSConfigError, match="not a matching PEM certificate and key"):
        build_ssl_context(mismatched)


# -- TLSContexts and Cluster.ensure_tls ---------------------------------------------------


async def test_concurrent_first_uses_build_once_per_material(pki: Pki) -> None:
    contexts = TLSContexts()
    mine = spec("a", ca_data=pki.ca_pem)
    same = spec("b", server="https://other:6443", ca_data=pki.ca_pem, server_name="api.b")
    own = spec("c", ca_data=b"# c\n" + pki.ca_pem)
    got = await asyncio.gather(*(contexts.get(s) for s in [mine] * 20 + [same] * 5 + [own] * 5))
    assert contexts.builds == 2  # mine and same share their material; own has its own
    assert len({id(info.ssl) for info in got}) == 2
    assert isinstance(got[0].ssl, ssl.SSLContext) and got[0].server_hostname is None
    assert got[20].ssl is got[0].ssl and got[20].server_hostname == "api.b"
    assert (await contexts.get(mine)).ssl is got[0].ssl and contexts.builds == 2  # kept
    plain = await contexts.get(spec(server="http://127.0.0.1:8080"))
    assert plain.ssl is True and contexts.builds == 2  # http:// needs no context


async def test_a_failed_build_is_not_kept(pki: Pki, tmp_path: Path) -> None:
    other = make_pki(tmp_path)
    bad = spec(client_cert_data=pki.client_cert_pem, client_key_data=other.client_key_pem)
    contexts = TLSContexts()
    results = await asyncio.gather(*(contexts.get(bad) for _ in range(5)), return_exceptions=True)
    assert all(isinstance(r, TLSConfigError) for r in results) and contexts.builds == 1
    with pytest.raises(TLSConfigError):
        await contexts.get(bad)
    assert contexts.builds == 2  # asked again after it failed: built again


async def test_cluster_builds_at_first_use_not_at_load(pki: Pki) -> None:
    reg = Registry.from_specs([spec(f"c{i}", ca_data=f"# {i}\n".encode() + pki.ca_pem)
                               for i in range(10)])  # fmt: skip
    first = reg.clusters["c0"]
    assert first.tls_contexts.builds == 0 and first.ok
    with pytest.raises(TLSConfigError, match="TLS not built yet"):
        first.request_kwargs()
    await asyncio.gather(*(first.ensure_tls() for _ in range(10)))
    assert first.tls_contexts.builds == 1
    assert isinstance(first.request_kwargs()["ssl"], ssl.SSLContext)
    await reg.build_tls()  # `kubelantern clusters` and doctor: all of them
    assert first.tls_contexts.builds == 10
    assert all(c.tls_contexts is first.tls_contexts for c in reg)


async def test_a_build_failure_at_first_use_becomes_the_load_error(
    pki: Pki, tmp_path: Path
) -> None:
    other = make_pki(tmp_path)
    c = Cluster(spec(client_cert_data=pki.client_cert_pem, client_key_data=other.client_key_pem))
    assert c.ok  # the check at load passes
    await asyncio.gather(*(c.ensure_tls() for _ in range(3)))
    assert c.load_error is not None and not c.ok
    assert c.load_error.startswith("/k/config: context 'c': client-certificate/client-key: not")
    assert c.tls_contexts.builds == 1  # not retried for every request
    await c.ensure_tls()
    assert c.tls_contexts.builds == 1
    with pytest.raises(TLSConfigError, match="not a matching PEM certificate and key"):
        c.request_kwargs()


async def _turns_until(done: Callable[[], bool], turns: int = 1_000_000) -> None:
    """Yield one event-loop turn at a time until `done()` (bounded)."""
    for _ in range(turns):
        if done():
            return
        await asyncio.sleep(0)
    raise AssertionError("the condition did not come true")


async def test_a_request_arriving_as_a_failed_build_ends_does_not_build_again(
    pki: Pki, tmp_path: Path
) -> None:
    """The CI failure of 315b235 (builds == 2 for 5 concurrent requests): the material's
    build had ended and left `TLSContexts`, but the first caller had not yet woken to record
    the load error, so a request in that window started a second build."""
    other = make_pki(tmp_path)
    c = Cluster(spec(client_cert_data=pki.client_cert_pem, client_key_data=other.client_key_pem))
    first = asyncio.ensure_future(c.ensure_tls())
    building = c.tls_contexts._building
    await _turns_until(lambda: bool(building))  # the build has started ...
    await _turns_until(lambda: not building)  # ... and is looked at every turn until it ended
    # Right after the build left TLSContexts (the same or next loop turn), like a request
    # whose bytes arrived then: it must wait for the first caller's outcome, not build.
    await c.ensure_tls()
    await first
    assert c.load_error is not None
    assert c.tls_contexts.builds == 1


def test_bad_material_is_still_a_load_error_at_once() -> None:
    c = Cluster(spec(ca_data=b"junk"))
    assert c.load_error is not None
    assert c.load_error.startswith("/k/config: context 'c': certificate-authority-data holds")


# -- leanimport ---------------------------------------------------------------------------


def test_hashed_ca_dir(tmp_path: Path) -> None:
    assert not hashed_ca_dir(None) and not hashed_ca_dir(str(tmp_path / "missing"))
    (tmp_path / "ca-bundle.crt").write_text("")
    assert not hashed_ca_dir(str(tmp_path))
    (tmp_path / "5ad8a5d6.0").symlink_to(tmp_path / "ca-bundle.crt")
    assert hashed_ca_dir(str(tmp_path))


def test_system_bundle(tmp_path: Path) -> None:
    bundle = tmp_path / "ca-certificates.crt"
    bundle.write_text("")
    link = tmp_path / "cert.pem"
    link.symlink_to(bundle)
    assert system_bundle(None, str(link)) and system_bundle("", str(link))
    assert system_bundle(str(bundle), str(link))  # the variable names OpenSSL's own bundle
    assert not system_bundle(str(tmp_path / "corporate.pem"), str(link))
