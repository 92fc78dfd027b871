"""The TLS side of a cluster connection: CA, client certificate, skip-verify, server name.

Built once per cluster (and again when an exec plugin hands out a new client certificate).
Verification is on unless the kubeconfig says `insecure-skip-tls-verify: true`; with no CA
given, the system CAs are used.
"""

from __future__ import annotations

import contextlib
import os
import ssl
import tempfile
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

from yarl import URL

from kubelantern.clusters.spec import ClusterSpec
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

    if plugin_cert is not None:
        cert_data: bytes | None = plugin_cert[0]
        cert_file: Path | None = None
        key_data: bytes | None = plugin_cert[1]
        key_file: Path | None = None
        where = "exec plugin clientCertificateData/clientKeyData"
    else:
        cert_data, cert_file = tls.client_cert_data, tls.client_cert_file
        key_data, key_file = tls.client_key_data, tls.client_key_file
        where = "client-certificate/client-key"
    has_cert = cert_data is not None or cert_file is not None
    has_key = key_data is not None or key_file is not None
    if has_cert != has_key:
        missing = "client-key" if has_cert else "client-certificate"
        raise TLSConfigError(f"{where}: {missing} is missing (both are needed)")
    for name, path in (("client-certificate", cert_file), ("client-key", key_file)):
        if path is not None and not path.is_file():
            raise TLSConfigError(f"{name}: file {path} not found")
    if has_cert:
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


def tls_info(spec: ClusterSpec, plugin_cert: tuple[bytes, bytes] | None = None) -> TLSInfo:
    return TLSInfo(build_ssl_context(spec, plugin_cert), spec.tls.server_name or None)


def _reason(e: BaseException) -> str:
    if isinstance(e, ssl.SSLError) and e.reason:
        return str(e.reason)
    if isinstance(e, OSError) and e.strerror:
        return e.strerror
    return str(e) or type(e).__name__
