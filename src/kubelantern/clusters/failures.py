"""Why a cluster could not be asked: aiohttp/OS errors → a status and a clear message.

Every path that talks to a cluster (the HTTP proxy, the WebSocket bridge, login, the
probe, port-forward lookups) words its failures here, so they read alike.
"""

from __future__ import annotations

import os
import ssl
from dataclasses import dataclass

import aiohttp

from kubelantern.status import KubelanternError


@dataclass(frozen=True)
class ClientFailure:
    """Why the cluster could not be asked: the status and message for the client."""

    status: int
    reason: str  # the metrics label: unreachable, timeout, tls, ...
    message: str


class ClusterUnreachable(KubelanternError):
    """The cluster could not be asked (connect, TLS, timeout); `failure` says how."""

    def __init__(self, failure: ClientFailure) -> None:
        super().__init__(failure.message, status=failure.status)
        self.failure = failure


def describe_client_error(
    cluster: str,
    exc: BaseException,
    *,
    connect_timeout: float,
    answer_timeout: float,
) -> ClientFailure:
    """Map an aiohttp/OS error from connecting to `cluster` to a status and a clear message.

    The timeouts are the waits the caller's timeout errors stand for.
    """
    if isinstance(exc, aiohttp.ClientConnectorCertificateError):
        cert_error = exc.certificate_error
        return verify_failed(
            cluster, getattr(cert_error, "verify_message", None) or str(cert_error)
        )
    if isinstance(exc, aiohttp.ClientConnectorSSLError | aiohttp.ClientSSLError | ssl.SSLError):
        detail = cause(exc)
        hint = "check certificate-authority, client certificate and tls-server-name in kubeconfig"
        if "wrong version number" in detail.lower():
            hint = "the port does not speak TLS: is the server URL https:// on the API port?"
        return ClientFailure(
            502, "tls", f"TLS handshake with cluster {cluster!r} failed: {detail} ({hint})"
        )
    if isinstance(exc, aiohttp.ConnectionTimeoutError):
        return connect_timed_out(cluster, connect_timeout)
    if isinstance(exc, TimeoutError | aiohttp.ServerTimeoutError):
        return ClientFailure(
            504,
            "timeout",
            f"cluster {cluster!r} did not answer within {answer_timeout:g}s",
        )
    if isinstance(exc, aiohttp.ClientConnectorError):
        return cannot_reach(cluster, exc.host, exc.port, cause(exc))
    if isinstance(exc, aiohttp.ClientResponseError):
        # It answered, but not as HTTP allows (an upgrade that switched to something else).
        return ClientFailure(
            502, "protocol", f"cluster {cluster!r} answered wrongly: {exc.message}"
        )
    if isinstance(exc, aiohttp.ClientError | OSError):
        return ClientFailure(502, "unreachable", f"cluster {cluster!r} unreachable: {cause(exc)}")
    return ClientFailure(502, "error", f"proxying to cluster {cluster!r} failed: {cause(exc)}")


# The failures both upstream clients meet (aiohttp's here, the lean one's in
# proxy/upstream/errors.py), in one wording whichever client met them.


def verify_failed(cluster: str, detail: str) -> ClientFailure:
    """The cluster's certificate did not verify; `detail` is OpenSSL's verify message."""
    hint = "check certificate-authority in kubeconfig"
    if "hostname" in detail.lower() or "ip address mismatch" in detail.lower():
        hint += ", or set tls-server-name"
    return ClientFailure(
        502, "tls", f"TLS verification failed for cluster {cluster!r}: {detail} ({hint})"
    )


def connect_timed_out(cluster: str, connect_timeout: float) -> ClientFailure:
    return ClientFailure(
        504,
        "timeout",
        f"cluster {cluster!r} did not accept a connection within {connect_timeout:g}s "
        "(TCP/TLS connect): is the server address right and reachable?",
    )


def cannot_reach(cluster: str, host: str, port: int | None, why: str) -> ClientFailure:
    return ClientFailure(
        502,
        "unreachable",
        f"cluster {cluster!r} unreachable: cannot reach {host}:{port} "
        f"({why}); check the network, VPN or proxy-url",
    )


def cause(exc: BaseException) -> str:
    """The short reason of a connection error (`connection refused`), for messages."""
    os_error = getattr(exc, "os_error", exc)
    if isinstance(os_error, ssl.SSLError):
        # Its errno is OpenSSL's error class (1 = SSL_ERROR_SSL), not an OS errno: strerror(1)
        # would say "operation not permitted". OpenSSL's own words say what went wrong.
        text = " ".join(str(os_error.strerror or os_error).split())
        return text.split("] ", 1)[-1].split(" (_ssl.c", 1)[0] or type(os_error).__name__
    if isinstance(os_error, OSError):
        if os_error.errno:
            return os.strerror(os_error.errno).lower()
        if os_error.strerror:
            return os_error.strerror
    text = str(exc).strip()
    return text or type(exc).__name__
