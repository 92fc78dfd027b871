"""One upstream upgrade request for the tunnel (SPDY/3.1), on the cluster's own connection
pool and transport (TLS, HTTPS proxy, path prefix, a user's credential without the
kubeconfig's client certificate), with a refusal kept readable (status and body) exactly as
the WebSocket dial does it."""

from __future__ import annotations

import asyncio
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

import aiohttp
from yarl import URL

from kubelantern.clusters.cluster import Cluster, Transport
from kubelantern.proxy.handshake import UpstreamHandshake
from kubelantern.proxy.upgrade.rules import (
    BadSwitch,
    UpgradeRequest,
    check_switch,
    upgrade_headers,
)
from kubelantern.proxy.ws.dial import HANDSHAKE_TIMEOUT, _handshake_headers, _ws_session


@dataclass
class SwitchedUpstream:
    """An upstream that answered 101: its headers, and its socket for the splice."""

    response: aiohttp.ClientResponse
    protocol: Any  # aiohttp's ResponseHandler (transport, flow control, buffered tail)

    def close(self) -> None:
        self.response.close()


async def open_upstream_tunnel(
    cluster: Cluster,
    method: str,
    url: URL,
    upgrade: UpgradeRequest,
    handshake: UpstreamHandshake,
    *,
    passthrough: Mapping[str, str] | None = None,
    tls: Transport | None = None,
    handshake_timeout: float = HANDSHAKE_TIMEOUT,
) -> SwitchedUpstream:
    """Send the upgrade request (the strategy's credential, Origin and User-Agent; the
    client's other headers, every X-Stream-Protocol-Version) and return the switched
    connection. Raises UpstreamRefused (non-101, with body), aiohttp.ClientError (connect,
    TLS, a 101 that switched to something else, a connection lost during the handshake)
    or TimeoutError."""
    headers = _handshake_headers(passthrough, handshake)
    for name, value in upgrade_headers(upgrade).items():
        headers.popall(name, None)
        headers[name] = value
    async with _ws_session(await cluster.session()) as session, asyncio.timeout(handshake_timeout):
        resp = await session.request(
            method,
            url,
            headers=headers,
            read_until_eof=False,
            allow_redirects=False,
            skip_auto_headers=("Content-Type", "Accept-Encoding"),  # no body either way
            **(tls or cluster.request_kwargs()),
        )
    connection = resp.connection
    if connection is None or connection.protocol is None or connection.transport is None:
        # aiohttp's pure-Python parser releases a 101 it does not know as an upgrade;
        # the compiled one (the default wheels) keeps the socket.
        resp.close()
        raise aiohttp.ClientConnectionError(
            "the upstream connection was lost right after its 101 Switching Protocols"
        )
    try:
        check_switch(upgrade, resp.headers)
    except BadSwitch as e:
        resp.close()
        raise aiohttp.ClientResponseError(
            resp.request_info, (), status=502, message=str(e)
        ) from None
    return SwitchedUpstream(resp, connection.protocol)
