"""An API server stand-in that records which identity reached it: the client certificate's
CN on the TLS connection and the Authorization header, for requests marked `?who=`.

kube-apiserver authenticates a client certificate before a token, so the proxy must not
present the kubeconfig's certificate when it forwards a user's own token.
"""

from __future__ import annotations

import base64
from typing import Any

from aiohttp import web

from tests.harness.pki import Pki
from tests.harness.servers import ServerThread


def cert_user(pki: Pki) -> dict[str, Any]:
    """A kubeconfig user authenticating with the throwaway CA's client certificate."""
    return {
        "client-certificate-data": base64.b64encode(pki.client_cert_pem).decode(),
        "client-key-data": base64.b64encode(pki.client_key_pem).decode(),
    }


def cert_upstream(pki: Pki, seen: list[dict[str, str | None]]) -> ServerThread:
    """Started; accepts (optionally) client certificates, answers HTTP with JSON and
    WebSocket upgrades with a socket that closes at once."""

    async def handler(request: web.Request) -> web.StreamResponse:
        peer = request.transport.get_extra_info("peercert") if request.transport else None
        subject = (peer or {}).get("subject", ())
        cn = next((v for rdn in subject for k, v in rdn if k == "commonName"), None)
        if "who" in request.query:  # not the startup probe's /version and /apis
            seen.append({"cn": cn, "auth": request.headers.get("Authorization")})
        if request.headers.get("Upgrade", "").lower() != "websocket":
            return web.json_response({"kind": "APIVersions"})
        ws = web.WebSocketResponse(protocols=("v5.channel.k8s.io",))
        await ws.prepare(request)
        await ws.close()
        return ws

    def app() -> web.Application:
        a = web.Application()
        a.router.add_route("*", "/{tail:.*}", handler)
        return a

    return ServerThread(app, ssl_context=pki.server_context(require_client_cert=True)).start()
