"""The aiohttp client as the plain HTTP proxy's upstream: for clusters behind an HTTP
proxy (proxy-url, HTTPS_PROXY), and for everything when `KUBELANTERN_UPSTREAM_CLIENT=aiohttp`
(the benchmark's comparison). `AiohttpResponse` gives it the lean client's face
(`conn.LeanResponse`), so `proxy/http.py` reads both alike.
"""

from __future__ import annotations

from collections.abc import AsyncIterator

import aiohttp
from multidict import CIMultiDict, CIMultiDictProxy
from yarl import URL

from kubelantern.clusters.cluster import Transport


class AiohttpResponse:
    __slots__ = ("_r", "content_length", "headers", "reason", "status")

    def __init__(self, response: aiohttp.ClientResponse) -> None:
        self._r = response
        self.status = response.status
        self.reason = response.reason or ""
        self.headers: CIMultiDictProxy[str] = response.headers
        self.content_length = response.content_length

    chunked_raw = False  # aiohttp's client de-chunks: the proxy chunks again

    def body_complete(self) -> bool:
        return self._r.content.is_eof()

    def clean_end(self) -> bytes | None:
        return b""

    async def read(self) -> bytes:
        return await self._r.read()

    def chunks(self) -> AsyncIterator[bytes]:
        return self._r.content.iter_any()

    def close(self) -> None:
        self._r.close()

    def release(self) -> None:
        self._r.release()


async def send(
    session: aiohttp.ClientSession,
    method: str,
    url: URL,
    headers: CIMultiDict[str],
    body: bytes | aiohttp.StreamReader | None,
    transport: Transport,
    *,
    connect_timeout: float,
) -> AiohttpResponse:
    response = await session.request(
        method,
        url,
        headers=headers,
        data=body,
        allow_redirects=False,
        auto_decompress=False,
        skip_auto_headers=("Accept-Encoding", "Content-Type"),
        timeout=aiohttp.ClientTimeout(
            total=None, connect=connect_timeout, sock_connect=connect_timeout
        ),
        **transport,
    )
    return AiohttpResponse(response)
