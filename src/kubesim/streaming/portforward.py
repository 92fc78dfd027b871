"""Port-forward over WebSocket (the kubelet's legacy `v4.channel.k8s.io` mode, reference 3.2).

Each requested port i has data channel 2i and error channel 2i+1; both start with the port
as 2 little-endian bytes. The pod side is simulated: an HTTP responder on 80/8080 (or a
port named http*), an echo server on any other declared containerPort, "connection
refused" elsewhere. kubectl's SPDY tunnel (`SPDY/3.1+portforward.k8s.io`) is not
implemented: it gets a 400, so kubectl fails clearly instead of hanging.
"""

from __future__ import annotations

import asyncio
import contextlib
import struct
from typing import Any

from aiohttp import WSMsgType, web

from . import protocol as p
from .containers import ContainerError, ContainerInfo, check_running, container_info
from .podsockets import PodServer, refused_message, server_for
from .spdy.portforward import PodTarget, handle_spdy_portforward, handle_tunnel
from .wsio import (
    bad_request,
    client_frame,
    is_spdy,
    is_websocket,
    log,
    negotiate,
    send_frame,
    upgrade,
)


def supports_tunnel(state: Any) -> bool:
    """The profile says whether the 1.31+ port-forward WebSocket tunnel exists."""
    flag = getattr(getattr(state, "profile", None), "supports_portforward_tunnel", None)
    return flag if isinstance(flag, bool) else True


def port_prefix(port: int) -> bytes:
    return struct.pack("<H", port)


def _all_containers(pod: dict[str, Any]) -> list[ContainerInfo]:
    spec = pod.get("spec") or {}
    return [container_info(pod, c) for c in spec.get("containers") or []]


async def handle_portforward(
    request: web.Request, state: Any, pod: dict[str, Any]
) -> web.StreamResponse:
    offered = p.offered_protocols(request.headers.get("Sec-WebSocket-Protocol"))
    tunnel = is_websocket(request) and p.is_tunneling_request(offered)
    if not (is_spdy(request) or is_websocket(request)):
        return bad_request("Upgrade request required")
    meta = pod.get("metadata") or {}
    name, namespace, uid = (
        str(meta.get("name", "")),
        str(meta.get("namespace", "default")),
        str(meta.get("uid", "")),
    )
    containers = _all_containers(pod)
    # Ports are the pod's network namespace: any container may declare them.
    merged = ContainerInfo(
        name, namespace, uid, "", "", ports=tuple(pt for c in containers for pt in c.ports)
    )
    target = PodTarget(name, uid, lambda port: server_for(merged, name, namespace, port))
    if is_spdy(request) or (tunnel and supports_tunnel(state)):
        try:
            check_running(pod, containers[0].name if containers else "")
        except ContainerError as exc:
            return bad_request(str(exc))
        if tunnel:
            return await handle_tunnel(request, offered, target)
        return await handle_spdy_portforward(request, target)
    # Servers before 1.31 (no PortForwardWebsockets) send a tunnel offer down the kubelet's
    # WebSocket path, which wants `?ports=`: kubectl gets a 400 and falls back to SPDY.
    try:
        ports = p.parse_ports(request.query.getall("ports", []))
    except ValueError as exc:
        return bad_request(str(exc))
    if not ports:
        return bad_request('query parameter "port" is required')
    try:
        check_running(pod, containers[0].name if containers else "")
    except ContainerError as exc:
        return bad_request(str(exc))
    proto = negotiate(request, p.PORTFORWARD_PROTOCOLS)
    if not isinstance(proto, str):
        return proto

    servers: list[PodServer | None] = [server_for(merged, name, namespace, pt) for pt in ports]

    ws = await upgrade(request, proto)

    async def send(channel: int, payload: bytes) -> None:
        await send_frame(ws, proto, channel, payload)

    open_ports: set[int] = set()
    try:
        for i, port in enumerate(ports):
            await send(2 * i, port_prefix(port))
            await send(2 * i + 1, port_prefix(port))
        for i, port in enumerate(ports):
            if servers[i] is None:
                await send(2 * i + 1, refused_message(name, uid, port).encode())
            else:
                open_ports.add(i)
        while open_ports:
            msg = await ws.receive()
            if msg.type in (WSMsgType.CLOSE, WSMsgType.CLOSING, WSMsgType.CLOSED):
                break
            if msg.type == WSMsgType.ERROR:
                break
            decoded = client_frame(proto, msg, "portforward")
            if decoded is None:
                continue
            channel, payload = decoded
            index, is_error = divmod(channel, 2)
            if is_error or index not in open_ports or not payload:
                continue  # error channels are server-to-client; others are unknown
            server = servers[index]
            assert server is not None
            reply, closed = server.receive(payload)
            if reply:
                await send(2 * index, reply)
            if closed:
                open_ports.discard(index)
    except (ConnectionError, RuntimeError) as exc:
        log.info("portforward: connection ended: %s", exc)
    finally:
        if not ws.closed:
            with contextlib.suppress(Exception):
                await asyncio.wait_for(ws.close(code=1000), 10)
    return ws
