"""The streaming HTTP reverse proxy: `/clusters/<name>/<API path>` → the cluster.

The request body streams upstream (small bodies are buffered so a 401 can be retried
with refreshed credentials); the response streams back chunk by chunk as it arrives, so
`watch=true` and `log?follow=true` reach the client live. A client that goes away closes
the upstream response at once. Failures to reach the cluster answer with a
`metav1.Status` naming the cluster and the cause, never a bare 502.
"""

from __future__ import annotations

import asyncio
import contextlib
import dataclasses
import logging
import os
import ssl
import time
import weakref
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

import aiohttp
from aiohttp import web
from multidict import CIMultiDict

from kubelantern import USER_AGENT
from kubelantern.clusters.credentials import CredentialError
from kubelantern.clusters.tls import TLSConfigError, tls_info
from kubelantern.identity.logins import open_login
from kubelantern.identity.request import TRUSTED_USER, request_user
from kubelantern.proxy.headers import (
    CredentialSource,
    UserCredential,
    bearer_of,
    choose_credentials,
    response_headers,
    upstream_request_headers,
    upstream_user_agent,
    user_credential,
)
from kubelantern.settings import Settings
from kubelantern.web import keys
from kubelantern.web.errors import status_response

if TYPE_CHECKING:
    from kubelantern.clusters.registry import Cluster

log = logging.getLogger("kubelantern.proxy")

BODY_BUFFER_LIMIT = 1 << 20  # bodies up to 1 MiB are kept for a retry after a 401
DISCONNECT_POLL = 0.5  # seconds between checks that the client is still there
CONNECT_TIMEOUT = 30.0  # TCP + TLS (+ a free pooled connection); streams never time out
HEADERS_TIMEOUT = 60.0  # from sending the request to the upstream's status line


# Per cluster: TLS settings without the kubeconfig's client certificate (see below).
_USER_TLS: weakref.WeakKeyDictionary[Cluster, dict[str, Any]] = weakref.WeakKeyDictionary()


def has_client_cert(cluster: Cluster) -> bool:
    tls = cluster.spec.tls
    return bool(tls.client_cert_data or tls.client_cert_file or cluster.credentials.plugin_cert)


async def user_request_kwargs(cluster: Cluster) -> dict[str, Any]:
    """`cluster.request_kwargs()` for a request made with the *user's* credential.

    kube-apiserver tries x509 before bearer tokens: a kubeconfig client certificate on
    the TLS connection would win over the user's token and the user would act as the
    kubeconfig's identity. So requests carrying the user's own credential use a TLS
    context without the client certificate (same CA, server name and proxy).
    """
    kwargs = cluster.request_kwargs()
    if not has_client_cert(cluster):
        return kwargs
    cached = _USER_TLS.get(cluster)
    if cached is None:
        spec = cluster.spec
        bare = dataclasses.replace(
            spec,
            tls=dataclasses.replace(
                spec.tls,
                client_cert_data=None,
                client_cert_file=None,
                client_key_data=None,
                client_key_file=None,
            ),
        )
        info = await asyncio.to_thread(tls_info, bare)  # reads CA files: off the loop
        cached = {"ssl": info.ssl}
        _USER_TLS[cluster] = cached
    return {**kwargs, **cached}


@dataclass(frozen=True)
class ClientFailure:
    """Why the cluster could not be asked: the status and message for the client."""

    status: int
    reason: str  # the metrics label: unreachable, timeout, tls, ...
    message: str


def describe_client_error(
    cluster: str,
    exc: BaseException,
    *,
    connect_timeout: float | None = None,
    answer_timeout: float | None = None,
) -> ClientFailure:
    """Map an aiohttp/OS error from connecting to `cluster` to a status and a clear message.

    Shared with the WebSocket bridge, login and the probe so every path words failures
    alike; the timeouts are the waits the caller's timeout errors stand for (default: the
    HTTP proxy's, read at call time).
    """
    if connect_timeout is None:
        connect_timeout = CONNECT_TIMEOUT
    if answer_timeout is None:
        answer_timeout = HEADERS_TIMEOUT
    if isinstance(exc, aiohttp.ClientConnectorCertificateError):
        cert_error = exc.certificate_error
        detail = getattr(cert_error, "verify_message", None) or str(cert_error)
        hint = "check certificate-authority in kubeconfig"
        if "hostname" in detail.lower() or "ip address mismatch" in detail.lower():
            hint += ", or set tls-server-name"
        return ClientFailure(
            502, "tls", f"TLS verification failed for cluster {cluster!r}: {detail} ({hint})"
        )
    if isinstance(exc, aiohttp.ClientConnectorSSLError | aiohttp.ClientSSLError | ssl.SSLError):
        return ClientFailure(
            502, "tls", f"TLS handshake with cluster {cluster!r} failed: {_cause(exc)}"
        )
    if isinstance(exc, aiohttp.ConnectionTimeoutError):
        return ClientFailure(
            504,
            "timeout",
            f"cluster {cluster!r} did not accept a connection within {connect_timeout:g}s "
            "(TCP/TLS connect): is the server address right and reachable?",
        )
    if isinstance(exc, TimeoutError | aiohttp.ServerTimeoutError):
        return ClientFailure(
            504,
            "timeout",
            f"cluster {cluster!r} did not answer within {answer_timeout:g}s",
        )
    if isinstance(exc, aiohttp.ClientConnectorError):
        return ClientFailure(
            502,
            "unreachable",
            f"cluster {cluster!r} unreachable: cannot reach {exc.host}:{exc.port} "
            f"({_cause(exc)}); check the network, VPN or proxy-url",
        )
    if isinstance(exc, aiohttp.ClientError | OSError):
        return ClientFailure(502, "unreachable", f"cluster {cluster!r} unreachable: {_cause(exc)}")
    return ClientFailure(502, "error", f"proxying to cluster {cluster!r} failed: {_cause(exc)}")


def _cause(exc: BaseException) -> str:
    os_error = getattr(exc, "os_error", exc)
    if isinstance(os_error, OSError):
        if os_error.errno:
            return os.strerror(os_error.errno).lower()
        if os_error.strerror:
            return os_error.strerror
    text = str(exc).strip()
    return text or type(exc).__name__


def unusable(cluster: Cluster) -> web.Response | None:
    """A 503 for a cluster whose kubeconfig entry did not load (the message says why)."""
    if cluster.load_error is None:
        return None
    return status_response(503, f"cluster {cluster.name!r} cannot be used: {cluster.load_error}")


def uses_user_identity(settings: Settings, cluster: Cluster) -> bool:
    """Whether a signed-in user's own token goes to `cluster`: the in-cluster one, or a
    kubeconfig entry that brings no credentials of its own."""
    spec = cluster.spec
    if spec.user_identity:
        return True
    return spec.auth.is_empty and not (spec.tls.client_cert_data or spec.tls.client_cert_file)


def login_required(
    settings: Settings, cluster: Cluster, user: UserCredential | None
) -> web.Response | None:
    """A 401 for the in-cluster cluster when the user brought no token of their own (nor
    signed in): there kubelantern acts only as the user, never lends its service account to
    whoever reaches it. Shared by the HTTP proxy and the WebSocket bridge."""
    if user is not None or not cluster.spec.user_identity:
        return None
    return status_response(
        401,
        f"log in to cluster {cluster.name!r} first: kubelantern runs in-cluster and acts only "
        "with your own token (POST /api/clusters/<name>/login or send Authorization: Bearer)",
    )


@dataclass(frozen=True)
class UpstreamAuth:
    """What authenticates one upstream request or upgrade."""

    headers: CIMultiDict[str]  # Authorization (and Impersonate-*) to send
    source: CredentialSource
    tls: dict[str, Any] | None  # for the user's own credential; None: the cluster's own


async def upstream_auth(
    request: web.Request,
    cluster: Cluster,
    *,
    offered_token: str | None = None,
    credential_error_status: int,
) -> UpstreamAuth | web.Response:
    """Whose credentials go upstream (DESIGN §4, first match wins): the client's
    Authorization → `offered_token` (the WebSocket bearer subprotocol) → the login cookie →
    the kubeconfig. The HTTP proxy and the WebSocket bridge both ask here; an error comes
    back as the response to give the client (a cluster that did not load is one)."""
    settings = request.app[keys.SETTINGS]
    name = cluster.name
    if (refusal := unusable(cluster)) is not None:
        return refusal
    sealer = request.app[keys.SEALER]
    user = user_credential(
        request.headers,
        request.cookies,
        name,
        launch_token=settings.launch_token,
        open_login=lambda raw: open_login(sealer, name, raw, time.time()),
    )
    if offered_token and (user is None or user.source is not CredentialSource.CLIENT):
        user = UserCredential(f"Bearer {offered_token}", CredentialSource.CLIENT)
    if user is None and uses_user_identity(settings, cluster):
        signed_in = request_user(request)
        if signed_in is not None:
            user = UserCredential(f"Bearer {signed_in.bearer}", CredentialSource.SESSION)
    vouched = request.get(TRUSTED_USER) is not None  # --auth-header: Impersonate-User is set
    if not vouched and (refusal := login_required(settings, cluster, user)) is not None:
        return refusal
    try:
        kubeconfig = None if user is not None else await cluster.auth_headers()
    except CredentialError as e:
        request.app[keys.METRICS].upstream_error(name, "credentials")
        return status_response(credential_error_status, str(e))
    headers, source = choose_credentials(user, kubeconfig)
    try:
        # The user's own credential goes without the kubeconfig's client certificate.
        tls = await user_request_kwargs(cluster) if user is not None else None
    except TLSConfigError as e:
        return status_response(500, f"cluster {name!r}: {e}")
    return UpstreamAuth(headers, source, tls)


async def _client_gone(request: web.Request) -> None:
    """Returns once the client's connection is closed (aiohttp does not cancel handlers)."""
    while True:
        transport = request.transport
        if transport is None or transport.is_closing():
            return
        await asyncio.sleep(DISCONNECT_POLL)


async def _pump(upstream: aiohttp.ClientResponse, response: web.StreamResponse) -> None:
    # iter_any yields whatever bytes have arrived: one watch event, one log line, as sent.
    async for chunk in upstream.content.iter_any():
        await response.write(chunk)


async def forward(request: web.Request, cluster: Cluster, api_path: str) -> web.StreamResponse:
    """Proxy one plain HTTP request to `cluster` at the raw `api_path` (starts with `/`)."""
    metrics = request.app[keys.METRICS]
    name = cluster.name

    found = await upstream_auth(request, cluster, credential_error_status=500)
    if isinstance(found, web.Response):
        return found
    auth, source = found.headers, found.source

    headers = upstream_request_headers(request.headers)
    headers["User-Agent"] = upstream_user_agent(request.headers.get("User-Agent"), USER_AGENT)

    body: bytes | aiohttp.StreamReader | None = None
    retryable = True
    if request.body_exists:
        length = request.content_length
        if length is not None and length <= BODY_BUFFER_LIMIT:
            body = await request.read()
        else:
            body = request.content
            retryable = False
            if length is not None:
                headers["Content-Length"] = str(length)  # keep it un-chunked upstream

    url = cluster.upstream_url(api_path, request.rel_url.raw_query_string)
    session = await cluster.session()

    async def send(auth_headers: CIMultiDict[str]) -> aiohttp.ClientResponse:
        out = CIMultiDict(headers)
        out.extend(auth_headers)
        # A server that accepts TCP but never finishes TLS, or never answers, must not hold
        # the client forever; once headers arrive the body may stream for hours.
        async with asyncio.timeout(HEADERS_TIMEOUT):
            return await session.request(
                request.method,
                url,
                headers=out,
                data=body,
                allow_redirects=False,
                auto_decompress=False,
                skip_auto_headers=("Accept-Encoding", "Content-Type"),
                timeout=aiohttp.ClientTimeout(
                    total=None, connect=CONNECT_TIMEOUT, sock_connect=CONNECT_TIMEOUT
                ),
                **(found.tls if found.tls is not None else cluster.request_kwargs()),
            )

    try:
        upstream = await send(auth)
        if upstream.status == 401 and source is CredentialSource.KUBECONFIG and retryable:
            stale = bearer_of(auth.get("Authorization"))
            if await cluster.credentials.refresh(stale):
                upstream.release()
                log.info("cluster %r answered 401; retrying once with refreshed credentials", name)
                auth, source = choose_credentials(None, await cluster.auth_headers())
                upstream = await send(auth)
    except CredentialError as e:
        metrics.upstream_error(name, "credentials")
        return status_response(500, str(e), "InternalError")
    except (aiohttp.ClientError, OSError, TimeoutError) as e:
        failure = describe_client_error(name, e)
        metrics.upstream_error(name, failure.reason)
        log.warning("%s %s → cluster %r: %s", request.method, api_path, name, failure.message)
        return status_response(failure.status, failure.message)

    return await _stream_back(request, cluster, upstream)


async def _stream_back(
    request: web.Request, cluster: Cluster, upstream: aiohttp.ClientResponse
) -> web.StreamResponse:
    app = request.app
    metrics = app[keys.METRICS]
    name = cluster.name
    response = web.StreamResponse(status=upstream.status, reason=upstream.reason)
    response.headers.extend(response_headers(upstream.headers))
    has_length = "Content-Length" in upstream.headers
    stop = asyncio.Event()

    async def close() -> None:  # shutdown: end the body cleanly (watchers re-list later)
        stop.set()

    try:
        await response.prepare(request)
        if request.method == "HEAD":
            return response
        async with contextlib.AsyncExitStack() as stack:
            if not has_length:  # a stream (watch, logs -f) or a chunked answer
                await stack.enter_async_context(app[keys.STREAMS].track(name, "http", close))
            pump = asyncio.ensure_future(_pump(upstream, response))
            gone = asyncio.ensure_future(_client_gone(request))
            stopped = asyncio.ensure_future(stop.wait())
            try:
                await asyncio.wait({pump, gone, stopped}, return_when=asyncio.FIRST_COMPLETED)
            finally:
                for task in (pump, gone, stopped):
                    task.cancel()
                await asyncio.gather(pump, gone, stopped, return_exceptions=True)
            if pump.done() and not pump.cancelled() and pump.exception() is not None:
                raise pump.exception()  # type: ignore[misc]
            if not pump.done() or pump.cancelled():
                if gone.done() and not gone.cancelled():
                    log.debug("client left a %s stream of cluster %r", request.path, name)
                    upstream.close()
                    return response
        await response.write_eof()
    except (ConnectionError, aiohttp.ClientConnectionResetError):
        upstream.close()  # the client went away mid-write
    except asyncio.CancelledError:
        upstream.close()  # handler cancelled (shutdown timeout): drop the upstream at once
        raise
    except (aiohttp.ClientPayloadError, aiohttp.ClientError, OSError) as e:
        metrics.upstream_error(name, "reset")
        log.warning("stream from cluster %r broke: %s", name, _cause(e))
        upstream.close()
        if has_length and request.transport is not None:
            request.transport.close()  # a short body must not look complete
        else:
            with contextlib.suppress(ConnectionError):
                await response.write_eof()
    finally:
        upstream.release()
    return response
