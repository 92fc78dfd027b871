"""What went wrong with the lean upstream client, and the message the client is shown.

The same words as `clusters/failures.py` gives aiohttp's errors (the cluster's name, the
cause, what to check), so a failure reads alike whichever client met it.
"""

from __future__ import annotations

import ssl

from kubelantern.clusters.failures import (
    ClientFailure,
    cannot_reach,
    cause,
    connect_timed_out,
    describe_client_error,
    verify_failed,
)


class UpstreamError(Exception):
    """The base of the lean client's errors."""


class ConnectFailed(UpstreamError):
    """TCP or TLS to the cluster failed; `os_error` is why (an ssl.SSLError for TLS)."""

    def __init__(self, host: str, port: int, os_error: OSError) -> None:
        super().__init__(f"cannot reach {host}:{port}: {os_error}")
        self.host, self.port, self.os_error = host, port, os_error


class ConnectTimeout(UpstreamError):
    """TCP + TLS took longer than the connect timeout."""


class ResponseBroken(UpstreamError):
    """The connection ended or broke before the response did (reset, closed, bad bytes).
    `clean_start`: not one byte of the response had arrived (a stale pooled connection)."""

    def __init__(self, detail: str, *, clean_start: bool = False) -> None:
        super().__init__(detail)
        self.detail = detail
        self.clean_start = clean_start


class BadResponse(ResponseBroken):
    """The upstream's bytes are not HTTP/1.1 (bad status line, head too big, bad chunk)."""


class ClosedByUs(UpstreamError):
    """The response was closed on our side (the client left, shutdown) while it was read."""


def describe(
    cluster: str, exc: BaseException, *, connect_timeout: float, answer_timeout: float
) -> ClientFailure:
    """A failure to get an answer from `cluster` (before the response head)."""
    if isinstance(exc, ConnectFailed):
        error = exc.os_error
        if isinstance(error, ssl.SSLCertVerificationError):
            return verify_failed(cluster, error.verify_message or str(error))
        if isinstance(error, ssl.SSLError):
            return describe_client_error(
                cluster, error, connect_timeout=connect_timeout, answer_timeout=answer_timeout
            )
        return cannot_reach(cluster, exc.host, exc.port, cause(error))
    if isinstance(exc, ConnectTimeout):
        return connect_timed_out(cluster, connect_timeout)
    if isinstance(exc, BadResponse):
        return ClientFailure(
            502,
            "protocol",
            f"cluster {cluster!r} answered with bytes that are not HTTP/1.1 ({exc.detail}); "
            "the upstream (or a proxy in front of it) is broken",
        )
    if isinstance(exc, ResponseBroken):
        return ClientFailure(
            502,
            "unreachable",
            f"cluster {cluster!r} closed the connection before answering ({exc.detail}); "
            "try again, and check the cluster's API server if it persists",
        )
    return describe_client_error(
        cluster, exc, connect_timeout=connect_timeout, answer_timeout=answer_timeout
    )
