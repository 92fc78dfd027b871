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
import itertools
import logging
from typing import TYPE_CHECKING, Any

import aiohttp
from aiohttp import HttpVersion11, web
from multidict import CIMultiDict

from kubelantern.clusters.credentials import CredentialError
from kubelantern.clusters.failures import cause
from kubelantern.proxy.auth import refreshed, upstream_auth
from kubelantern.proxy.deps import ProxyDeps
from kubelantern.proxy.headers import CredentialSource, response_header_pairs
from kubelantern.proxy.plan import UpstreamPlan
from kubelantern.proxy.upstream.aioclient import AiohttpResponse
from kubelantern.proxy.upstream.aioclient import send as aiohttp_send
from kubelantern.proxy.upstream.client import send as lean_send
from kubelantern.proxy.upstream.conn import LeanResponse
from kubelantern.proxy.upstream.errors import ClosedByUs, UpstreamError, describe
from kubelantern.proxy.upstream.pool import pool_for
from kubelantern.status import KubelanternError, error_response, status_response

if TYPE_CHECKING:
    from kubelantern.clusters.cluster import Cluster

log = logging.getLogger("kubelantern.proxy")

Upstream = LeanResponse | AiohttpResponse  # the two clients' answers, read alike

DISCONNECT_POLL = 0.5  # seconds between checks that the client is still there
CONNECT_TIMEOUT = 30.0  # TCP + TLS (+ a free pooled connection); streams never time out
HEADERS_TIMEOUT = 60.0  # from sending the request to the upstream's status line
SHORT_BODY = 1024 * 1024  # answers with a Content-Length up to this are read whole


async def forward(
    request: web.Request, deps: ProxyDeps, cluster: Cluster, plan: UpstreamPlan
) -> web.StreamResponse:
    """Proxy one plain HTTP request to `cluster` as `plan` says."""
    metrics = deps.metrics
    name = cluster.name

    try:
        found = await upstream_auth(cluster, plan.user, metrics)
    except CredentialError as e:
        return error_response(e, status=500)
    except KubelanternError as e:
        return error_response(e)
    auth, source = found.headers, found.source
    headers = plan.headers

    body: bytes | aiohttp.StreamReader | None = None
    retryable = True
    if request.body_exists:
        length = request.content_length
        if plan.buffer_body:
            body = await request.read()
        else:
            body = request.content
            retryable = False
            if length is not None:
                headers["Content-Length"] = str(length)  # keep it un-chunked upstream

    url = plan.url
    transport = found.tls if found.tls is not None else cluster.request_kwargs()
    pool = pool_for(cluster, url, transport) if deps.settings.upstream_client == "lean" else None
    session = await cluster.session() if pool is None else None

    async def send(auth_headers: CIMultiDict[str]) -> Upstream:
        # A server that accepts TCP but never finishes TLS, or never answers, must not hold
        # the client forever; once headers arrive the body may stream for hours.
        async with deps.deadlines.within(HEADERS_TIMEOUT):
            if pool is not None:
                return await lean_send(
                    pool,
                    request.method,
                    url,
                    itertools.chain(headers.items(), auth_headers.items()),
                    body,
                    connect_timeout=CONNECT_TIMEOUT,
                    # An HTTP/1.1 client takes a chunked body's framing as the cluster sent
                    # it: no de-chunking and chunking again (copies, per-chunk work).
                    passthrough=request.version >= HttpVersion11,
                )
            assert session is not None
            out = CIMultiDict(headers)
            out.extend(auth_headers)
            return await aiohttp_send(
                session, request.method, url, out, body, transport, connect_timeout=CONNECT_TIMEOUT
            )

    try:
        upstream = await send(auth)
        if upstream.status == 401 and source is CredentialSource.KUBECONFIG and retryable:
            fresh = await refreshed(cluster, auth)
            if fresh is not None:
                upstream.release()
                log.info("cluster %r answered 401; retrying once with refreshed credentials", name)
                auth, source = fresh
                upstream = await send(auth)
    except CredentialError as e:
        metrics.upstream_error(name, "credentials")
        return status_response(500, str(e), "InternalError")
    except (aiohttp.ClientError, OSError, TimeoutError, UpstreamError) as e:
        failure = describe(name, e, connect_timeout=CONNECT_TIMEOUT, answer_timeout=HEADERS_TIMEOUT)
        metrics.upstream_error(name, failure.reason)
        log.warning("%s %s → cluster %r: %s", request.method, url.raw_path, name, failure.message)
        return status_response(failure.status, failure.message)

    if upstream.status < 200:
        # 101 to a request that asked for no upgrade (aiohttp answers 100 itself): what
        # follows is another protocol's bytes, which must not reach the client as a body.
        upstream.close()
        metrics.upstream_error(name, "protocol")
        return status_response(
            502,
            f"cluster {name!r} answered {upstream.status} {upstream.reason or ''} to a request "
            "that asked for no upgrade; the upstream (or a proxy in front of it) is broken",
        )
    return await _stream_back(request, deps, cluster, upstream)


async def _stream_back(
    request: web.Request, deps: ProxyDeps, cluster: Cluster, upstream: Upstream
) -> web.StreamResponse:
    length = upstream.content_length
    if length is not None and length <= SHORT_BODY and request.method != "HEAD":
        return await _answer_whole(request, deps, cluster, upstream)
    return await _stream(request, deps, cluster, upstream)


async def _answer_whole(
    request: web.Request, deps: ProxyDeps, cluster: Cluster, upstream: Upstream
) -> web.StreamResponse:
    """A short answer with a length (GET a pod, a list page, an error Status): read whole,
    answered as one plain response; no stream tracking, no disconnect watch (~0.1 ms less)."""
    name = cluster.name
    try:
        if upstream.body_complete():  # it came with the headers: nothing to wait for
            body = await upstream.read()
        else:
            async with asyncio.timeout(HEADERS_TIMEOUT):
                body = await upstream.read()
    except (aiohttp.ClientError, OSError, TimeoutError, UpstreamError) as e:
        upstream.close()
        deps.metrics.upstream_error(name, "reset")
        why = "stalled" if isinstance(e, TimeoutError) else f"broke off ({cause(e)})"
        log.warning("answer from cluster %r to %s %s %s", name, request.method, request.path, why)
        return status_response(
            502, f"the answer of cluster {name!r} {why} before its end; try again", "BadGateway"
        )
    finally:
        upstream.release()
    response = web.Response(status=upstream.status, reason=upstream.reason, body=body)
    response.headers.extend(response_header_pairs(upstream.headers))  # one copy, not two
    return response


async def _stream(
    request: web.Request, deps: ProxyDeps, cluster: Cluster, upstream: Upstream
) -> web.StreamResponse:
    """Everything else (watch, logs -f, big or chunked bodies): chunk by chunk as it comes.

    One loop in the handler's own task; a timer notices a client that went away while the
    stream is idle, and shutdown's `close` ends it: both close the upstream response, which
    ends the loop at once."""
    metrics = deps.metrics
    name = cluster.name
    response = web.StreamResponse(status=upstream.status, reason=upstream.reason)
    response.headers.extend(response_header_pairs(upstream.headers))
    has_length = upstream.content_length is not None
    if upstream.chunked_raw:  # a length beside chunked is void (RFC 9112 §6.3.3): not sent
        response.headers.popall("Content-Length", None)
    ended: list[str] = []  # why the loop was ended from outside: "gone" or "shutdown"
    loop = asyncio.get_running_loop()
    watch: asyncio.TimerHandle | None = None

    def end(why: str) -> None:
        if not ended:
            ended.append(why)
            upstream.close()  # the read in the loop raises ClientConnectionError now

    def check_client() -> None:
        nonlocal watch
        transport = request.transport
        if transport is None or transport.is_closing():
            end("gone")
        else:
            watch = loop.call_later(DISCONNECT_POLL, check_client)

    async def close() -> None:  # shutdown: end the body cleanly (watchers re-list later)
        end("shutdown")

    try:
        writer = await response.prepare(request)
        if request.method == "HEAD":
            return response
        if upstream.chunked_raw:
            # The pieces carry their chunked framing: aiohttp (which chose chunked for an
            # answer without a length to an HTTP/1.1 client) must not frame them again.
            assert writer is not None and getattr(writer, "chunked", False)
            writer.chunked = False  # type: ignore[attr-defined]
        async with contextlib.AsyncExitStack() as stack:
            if not has_length:  # a stream (watch, logs -f) or a chunked answer
                await stack.enter_async_context(deps.streams.track(name, "http", close))
            watch = loop.call_later(DISCONNECT_POLL, check_client)
            try:
                if isinstance(upstream, LeanResponse) and not getattr(writer, "chunked", True):
                    # Bytes as they are (passed-through chunks, or an HTTP/1.0 body):
                    # straight from the cluster's connection to the client's.
                    await response.write(b"")  # the head goes out now
                    await upstream.pump(_ClientSink(request, writer))
                else:
                    # iter_any yields whatever bytes have arrived: one watch event, one
                    # log line, as sent.
                    async for chunk in upstream.chunks():
                        await response.write(chunk)
            except (aiohttp.ClientConnectionError, ClosedByUs):
                if not ended:
                    raise
            if ended == ["gone"]:
                log.debug("client left a %s stream of cluster %r", request.path, name)
                return response
        if upstream.chunked_raw:  # end the framing we passed through (shutdown cut it)
            last = upstream.clean_end()
            if last is None:  # in the middle of a chunk: it cannot end cleanly
                if request.transport is not None:
                    request.transport.abort()
                return response
            if last:
                await response.write(last)
        await response.write_eof()
    except (ConnectionError, aiohttp.ClientConnectionResetError):
        upstream.close()  # the client went away mid-write
    except asyncio.CancelledError:
        upstream.close()  # handler cancelled (shutdown timeout): drop the upstream at once
        raise
    except (aiohttp.ClientPayloadError, aiohttp.ClientError, OSError, UpstreamError) as e:
        metrics.upstream_error(name, "reset")
        log.warning("stream from cluster %r broke: %s", name, cause(e))
        upstream.close()
        # Never end the body cleanly: a short body, or a log follow or watch cut by an
        # upstream crash, must look broken to the client (kubectl and the UI then resume).
        if request.transport is not None:
            request.transport.abort()
    finally:
        if watch is not None:
            watch.cancel()
        upstream.release()
    return response


class _ClientSink:
    """The client's connection as `LeanResponse.pump` writes to it: the transport itself
    (aiohttp's writer has sent the head and frames nothing more), its byte counts kept for
    the access log, full at the transport's own high-water mark."""

    __slots__ = ("_high", "_transport", "_writer")

    def __init__(self, request: web.Request, writer: Any) -> None:
        transport = request.transport
        assert transport is not None
        self._transport = transport
        self._writer = writer
        self._high = transport.get_write_buffer_limits()[1]

    def write(self, data: bytes) -> None:
        if not self._transport.is_closing():
            self._transport.write(data)
            self._writer.buffer_size += len(data)
            self._writer.output_size += len(data)

    def full(self) -> bool:
        t = self._transport
        return t.is_closing() or t.get_write_buffer_size() > self._high

    async def drain(self) -> None:
        if self._transport.is_closing():
            raise ConnectionResetError("the client went away")
        await self._writer.drain()
        if self.full():  # paused by another measure than ours: no busy loop meanwhile
            await asyncio.sleep(0.005)
