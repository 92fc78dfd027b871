"""One request over the lean HTTP/1.1 client: head (and a buffered body) in one write,
a streamed body uploaded beside the wait for the answer, one retry on a fresh connection
when a kept-alive one turns out closed before any byte of the answer (idempotent requests
with a body we still have only), as Go's and aiohttp's clients do.
"""

from __future__ import annotations

import asyncio
from collections.abc import Iterable

from aiohttp import StreamReader
from yarl import URL

from kubelantern import USER_AGENT
from kubelantern.proxy.upstream.conn import Http1Connection, LeanResponse
from kubelantern.proxy.upstream.errors import ResponseBroken
from kubelantern.proxy.upstream.http1 import chunk, serialize_request
from kubelantern.proxy.upstream.pool import Pool

IDEMPOTENT = frozenset({"GET", "HEAD", "OPTIONS", "PUT", "DELETE", "TRACE"})
_BODY_METHODS = frozenset({"POST", "PUT", "PATCH"})  # Content-Length: 0 without a body
_FRAMING = frozenset({"content-length", "transfer-encoding", "host"})


async def send(
    pool: Pool,
    method: str,
    url: URL,
    headers: Iterable[tuple[str, str]],
    body: bytes | StreamReader | None,
    *,
    connect_timeout: float,
    passthrough: bool = False,
) -> LeanResponse:
    """Send the request; the response once its head arrived. Raises UpstreamError."""
    lines = [("Host", pool.host_header)]
    seen_agent = seen_accept = False
    length: str | None = None
    for name, value in headers:
        lower = name.lower()
        if lower in _FRAMING:
            if lower == "content-length":
                length = value  # a streamed body's, set by the proxy
            continue
        seen_agent = seen_agent or lower == "user-agent"
        seen_accept = seen_accept or lower == "accept"
        lines.append((name, value))
    if not seen_agent:
        lines.append(("User-Agent", USER_AGENT))
    if not seen_accept:
        lines.append(("Accept", "*/*"))  # what aiohttp's client sent: keep the upstream's view
    stream: StreamReader | None = None
    whole = b""
    if isinstance(body, bytes | bytearray):
        whole = bytes(body)
        lines.append(("Content-Length", str(len(body))))
    elif body is None:
        if method in _BODY_METHODS:
            lines.append(("Content-Length", "0"))
    else:
        stream = body
        lines.append(("Content-Length", length) if length else ("Transfer-Encoding", "chunked"))
    data = serialize_request(method, url.raw_path_qs, lines)
    if whole:
        data += whole
    retry = method in IDEMPOTENT and stream is None
    while True:
        conn = pool.take()
        reused = conn is not None
        if conn is None:
            conn = await pool.connect(connect_timeout)
        response = conn.start(method, data, passthrough=passthrough)
        if stream is not None:
            conn.uploading = asyncio.get_running_loop().create_task(
                _upload(conn, stream, chunked=not length)
            )
        try:
            await response.wait_head()
        except ResponseBroken as e:
            response.close()
            if reused and retry and e.clean_start:
                retry = False  # a stale kept-alive connection: once more on a fresh one
                continue
            raise
        except BaseException:
            response.close()  # cancelled (deadline, client gone): the connection is dropped
            raise
        return response


async def _upload(conn: Http1Connection, body: StreamReader, *, chunked: bool) -> None:
    """The client's body, as it comes, to the cluster (chunked when its length is unknown)."""
    try:
        async for data in body.iter_any():
            conn.write(chunk(data) if chunked else data)
            await conn.drain()
        if chunked:
            conn.write(chunk(b""))
    except asyncio.CancelledError:
        raise
    except Exception:  # the client or the cluster went away: the exchange is over
        conn.uploading = None
        conn.close()
        return
    conn.uploading = None
