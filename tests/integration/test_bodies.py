"""read_bounded reads a body to its end over a real socket, bounded."""

from __future__ import annotations

from collections.abc import Iterator

import aiohttp
import pytest
from aiohttp import web

from kubelantern.clusters.bodies import BodyTooLarge, read_bounded
from tests.harness.servers import ServerThread

BODY = b"x" * 3_000_000  # many TCP reads: a single read() would return only a part


async def _big(request: web.Request) -> web.StreamResponse:
    response = web.StreamResponse()
    await response.prepare(request)
    for i in range(0, len(BODY), 65536):
        await response.write(BODY[i : i + 65536])
    await response.write_eof()
    return response


@pytest.fixture(scope="module")
def server() -> Iterator[ServerThread]:
    def factory() -> web.Application:
        app = web.Application()
        app.router.add_get("/big", _big)
        return app

    with ServerThread(factory) as s:
        yield s


async def _read(server: ServerThread, limit: int, truncate: bool) -> bytes:
    async with aiohttp.ClientSession() as session, session.get(f"{server.url}/big") as resp:
        return await read_bounded(resp.content, limit, truncate=truncate)


async def test_reads_the_whole_body(server: ServerThread) -> None:
    assert await _read(server, len(BODY), False) == BODY


async def test_refuses_a_body_past_the_bound(server: ServerThread) -> None:
    with pytest.raises(BodyTooLarge):
        await _read(server, len(BODY) - 1, False)


async def test_truncates_when_asked(server: ServerThread) -> None:
    assert await _read(server, 1000, True) == BODY[:1000]
