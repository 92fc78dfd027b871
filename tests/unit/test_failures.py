"""How failures to reach a cluster are worded (clusters/failures.py), from real sockets."""

from __future__ import annotations

import asyncio
import ssl

import aiohttp

from kubelantern.clusters.failures import describe_client_error


async def test_a_tls_handshake_failure_says_what_openssl_said_not_an_os_errno() -> None:
    """Issue 11, defect 4: a TLS failure read "operation not permitted" (strerror of
    OpenSSL's error class 1). An https:// URL on a port that speaks plain HTTP says so."""

    async def plain(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        await reader.read(10)
        writer.write(b"HTTP/1.1 400 Bad Request\r\n\r\n")
        await writer.drain()
        writer.close()

    server = await asyncio.start_server(plain, "127.0.0.1", 0)
    port = server.sockets[0].getsockname()[1]
    try:
        async with aiohttp.ClientSession() as session:
            try:
                await session.get(
                    f"https://127.0.0.1:{port}/version", ssl=ssl.create_default_context()
                )
            except aiohttp.ClientError as e:
                failure = describe_client_error("prod", e, connect_timeout=5, answer_timeout=5)
            else:
                raise AssertionError("a TLS handshake with a plain HTTP port succeeded")
    finally:
        server.close()
        await server.wait_closed()
    assert failure.reason == "tls" and failure.status == 502
    assert "operation not permitted" not in failure.message.lower()
    assert "'prod'" in failure.message and "wrong version number" in failure.message
    assert "https://" in failure.message  # what to check
