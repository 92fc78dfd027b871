"""The TLS side of a cluster connection: CA, client certificate, skip-verify, server name.

Built at a cluster's first use, not at load (issue 12: 50 contexts of their own material
took ~70 ms of CPU to build at start, for clusters nobody may open), in a worker thread and
at most once per material (`TLSContexts`); again when an exec plugin hands out a new client
certificate. At load, `check_tls_material` looks at the material shallowly so that a missing
file or junk data is still a load error at once. Verification is on unless the kubeconfig
says `insecure-skip-tls-verify: true`; with no CA given, the system CAs are used.
"""

from __future__ import annotations

import asyncio
import contextlib
import dataclasses
import os
import ssl
import tempfile
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

from yarl import URL

from kubelantern.clusters.pemcheck import has_certificate, has_private_key
from kubelantern.clusters.spec import ClusterSpec, TLSSpec
from kubelantern.status import KubelanternError


class TLSConfigError(KubelanternError, ValueError):
    """The kubeconfig's TLS material cannot be used; the message names the key."""


@dataclass(frozen=True)
class TLSInfo:
    """What every upstream request of one cluster passes to aiohttp."""

    ssl: ssl.SSLContext | bool  # True for plain http (aiohttp ignores it there)
    server_hostname: str | None  # tls-server-name: SNI and the name verified


@contextlib.contextmanager
def _pem_path(data: bytes | None, file: Path | None, what: str) -> Iterator[str]:
    """A path for ssl.load_cert_chain: the given file, or inline data in a 0600 temp file
    that exists only while the context is being built (Python cannot load keys from memory)."""
    if data is None:
        assert file is not None
        yield str(file)
        return
    fd, name = tempfile.mkstemp(prefix="kubelantern-", suffix=f"-{what}.pem")  # mode 0600
    try:
        with os.fdopen(fd, "wb") as f:
            f.write(data)
        yield name
    finally:
        with contextlib.suppress(OSError):
            os.unlink(name)


def build_ssl_context(
    spec: ClusterSpec, plugin_cert: tuple[bytes, bytes] | None = None
) -> ssl.SSLContext | bool:
    """The SSL context for `spec`'s server; True for a plain http server.

    `plugin_cert` is a (certificate PEM, key PEM) pair from an exec plugin; it takes the
    place of the kubeconfig's client certificate. Raises TLSConfigError naming the key.
    """
    if URL(spec.server).scheme != "https":
        return True
    tls = spec.tls
    ctx = ssl.SSLContext(ssl.PROTOCOL_TLS_CLIENT)  # TLS >= 1.2, hostname check, CERT_REQUIRED
    ctx.minimum_version = ssl.TLSVersion.TLSv1_2
    if tls.insecure_skip_verify:
        ctx.check_hostname = False
        ctx.verify_mode = ssl.CERT_NONE
    elif tls.ca_data is not None:
        try:
            ctx.load_verify_locations(cadata=tls.ca_data.decode("ascii", errors="replace"))
        except (ssl.SSLError, ValueError) as e:
            raise TLSConfigError(
                f"certificate-authority-data holds no usable PEM certificate ({_reason(e)})"
            ) from None
    elif tls.ca_file is not None:
        try:
            ctx.load_verify_locations(cafile=str(tls.ca_file))
        except FileNotFoundError:
            raise TLSConfigError(f"certificate-authority: file {tls.ca_file} not found") from None
        except (ssl.SSLError, OSError) as e:
            raise TLSConfigError(
                f"certificate-authority: {tls.ca_file} holds no usable PEM certificate "
                f"({_reason(e)})"
            ) from None
    else:
        ctx.load_default_certs(ssl.Purpose.SERVER_AUTH)

    cert_data, cert_file, key_data, key_file, where = _client_material(tls, plugin_cert)
    if cert_data is not None or cert_file is not None:
        with (
            _pem_path(cert_data, cert_file, "cert") as certfile,
            _pem_path(key_data, key_file, "key") as keyfile,
        ):
            try:
                ctx.load_cert_chain(certfile, keyfile)
            except (ssl.SSLError, OSError) as e:
                raise TLSConfigError(
                    f"{where}: not a matching PEM certificate and key ({_reason(e)})"
                ) from None
    return ctx


def _client_material(
    tls: TLSSpec, plugin_cert: tuple[bytes, bytes] | None
) -> tuple[bytes | None, Path | None, bytes | None, Path | None, str]:
    """(cert data, cert file, key data, key file, what to call them in a message); raises
    TLSConfigError when only one of the pair is given or a named file is not there."""
    if plugin_cert is not None:
        return (plugin_cert[0], None, plugin_cert[1], None,
                "exec plugin clientCertificateData/clientKeyData")  # fmt: skip
    cert_data, cert_file = tls.client_cert_data, tls.client_cert_file
    key_data, key_file = tls.client_key_data, tls.client_key_file
    has_cert = cert_data is not None or cert_file is not None
    has_key = key_data is not None or key_file is not None
    where = "client-certificate/client-key"
    if has_cert != has_key:
        missing = "client-key" if has_cert else "client-certificate"
        raise TLSConfigError(f"{where}: {missing} is missing (both are needed)")
    for name, path in (("client-certificate", cert_file), ("client-key", key_file)):
        if path is not None and not path.is_file():
            raise TLSConfigError(f"{name}: file {path} not found")
    return cert_data, cert_file, key_data, key_file, where


def check_tls_material(spec: ClusterSpec) -> None:
    """What `build_ssl_context` would reject, found without building (see pemcheck.py):
    missing files, unreadable files, data with no PEM block of the right kind. Raises
    TLSConfigError with the message the build gives. Passing promises no working context:
    a key that does not match its certificate shows at the first use."""
    if URL(spec.server).scheme != "https":
        return
    tls = spec.tls
    if not tls.insecure_skip_verify:
        if tls.ca_data is not None:
            if not has_certificate(tls.ca_data):
                raise TLSConfigError(
                    "certificate-authority-data holds no usable PEM certificate "
                    "(no PEM certificate block)"
                )
        elif tls.ca_file is not None:
            try:
                ca = tls.ca_file.read_bytes()
            except FileNotFoundError:
                raise TLSConfigError(
                    f"certificate-authority: file {tls.ca_file} not found"
                ) from None
            except OSError as e:
                raise TLSConfigError(
                    f"certificate-authority: {tls.ca_file} holds no usable PEM certificate "
                    f"({_reason(e)})"
                ) from None
            if not has_certificate(ca):
                raise TLSConfigError(
                    f"certificate-authority: {tls.ca_file} holds no usable PEM certificate "
                    "(no PEM certificate block)"
                )
    cert_data, cert_file, key_data, key_file, where = _client_material(tls, None)
    if cert_data is None and cert_file is None:
        return
    try:
        cert = cert_data if cert_data is not None else _read(cert_file)
        key = key_data if key_data is not None else _read(key_file)
    except OSError as e:
        raise TLSConfigError(
            f"{where}: not a matching PEM certificate and key ({_reason(e)})"
        ) from None
    if not has_certificate(cert):
        why = "no PEM certificate block in the certificate"
    elif not has_private_key(key):
        why = "no PEM private key block in the key"
    else:
        return
    raise TLSConfigError(f"{where}: not a matching PEM certificate and key ({why})")


def _read(path: Path | None) -> bytes:
    assert path is not None  # _client_material gives data or a file for each
    return path.read_bytes()


def tls_info(spec: ClusterSpec, plugin_cert: tuple[bytes, bytes] | None = None) -> TLSInfo:
    return TLSInfo(build_ssl_context(spec, plugin_cert), spec.tls.server_name or None)


class TLSContexts:
    """The SSL contexts of one registry's clusters, by TLS material: each built at most once,
    when a cluster first needs it, in a worker thread (reading CA bundles and keys blocks).
    Clusters with the same material share one context (the system CAs alone take 10-20 ms
    to load, and a Rancher kubeconfig may hold hundreds of contexts that use them)."""

    def __init__(self) -> None:
        self._built: dict[TLSSpec, ssl.SSLContext | bool] = {}
        self._building: dict[TLSSpec, asyncio.Future[ssl.SSLContext | bool]] = {}
        self.builds = 0  # contexts built (tests count them)

    async def get(self, spec: ClusterSpec) -> TLSInfo:
        """`spec`'s TLS, built now if no cluster built it before; concurrent callers for
        the same material wait for one build. Raises TLSConfigError (not kept: a later
        caller builds again)."""
        if URL(spec.server).scheme != "https":
            return TLSInfo(True, None)
        # The server name is passed per request, not held by the SSL context: not in the key.
        key = dataclasses.replace(spec.tls, server_name=None)
        ctx = self._built.get(key)
        if ctx is None:
            building = self._building.get(key)
            if building is None:
                self.builds += 1  # counted on the loop: builds of other keys run in parallel
                building = asyncio.ensure_future(asyncio.to_thread(build_ssl_context, spec))
                self._building[key] = building
                building.add_done_callback(lambda done: self._finished(key, done))
            # One request giving up (client gone) must not cancel the others' build.
            ctx = await asyncio.shield(building)
        return TLSInfo(ctx, spec.tls.server_name or None)

    def _finished(self, key: TLSSpec, done: asyncio.Future[ssl.SSLContext | bool]) -> None:
        self._building.pop(key, None)
        if not done.cancelled() and done.exception() is None:
            self._built[key] = done.result()


def _reason(e: BaseException) -> str:
    if isinstance(e, ssl.SSLError) and e.reason:
        return str(e.reason)
    if isinstance(e, OSError) and e.strerror:
        return e.strerror
    return str(e) or type(e).__name__
