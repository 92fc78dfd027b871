"""Port-forward manager (local mode): a pod port, or a service port resolved to a pod,
on a local TCP port of 127.0.0.1.

Each accepted TCP connection opens its own upstream WebSocket
`.../pods/<pod>/portforward?ports=<p>` with `v4.channel.k8s.io` (the kubelet's plain
WebSocket port-forward: data on channel 0, errors on channel 1, each channel's first
message the 2-byte port), through the same strategy walk as the bridge. Bytes are pumped
both ways with backpressure (await the drain / the send before reading more).
"""

from __future__ import annotations

import asyncio
import contextlib
import itertools
import logging
import struct
import time
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import quote

import aiohttp

from kubelantern.clusters.cluster import Cluster
from kubelantern.clusters.credentials import CredentialError
from kubelantern.clusters.paths import check_object_name
from kubelantern.observe.metrics import Metrics
from kubelantern.proxy import headers as hdr
from kubelantern.proxy.portforward.target import (
    PortForwardError,
    get_object,
    require_running,
    resolve_service,
)
from kubelantern.proxy.subprotocols import Offer
from kubelantern.proxy.ws.connect import UpstreamFailure, connect_upstream
from kubelantern.settings import Settings

log = logging.getLogger(__name__)

PORTFORWARD_PROTOCOL = "v4.channel.k8s.io"
READ_CHUNK = 64 * 1024


@dataclass(eq=False)
class Forward:
    id: str
    cluster: str
    namespace: str
    pod: str
    remote_port: int
    local_port: int
    service: str | None = None
    service_port: int | None = None
    started: float = field(default_factory=time.time)
    connections: int = 0  # open now
    total_connections: int = 0
    bytes_in: int = 0  # from the pod
    bytes_out: int = 0  # to the pod
    last_error: str | None = None
    server: asyncio.Server | None = None
    tasks: set[asyncio.Task[None]] = field(default_factory=set)

    def as_json(self) -> dict[str, Any]:
        return {
            "id": self.id,
            "cluster": self.cluster,
            "namespace": self.namespace,
            "pod": self.pod,
            "service": self.service,
            "servicePort": self.service_port,
            "port": self.remote_port,
            "localPort": self.local_port,
            "address": f"127.0.0.1:{self.local_port}",
            "connections": self.connections,
            "totalConnections": self.total_connections,
            "bytesIn": self.bytes_in,
            "bytesOut": self.bytes_out,
            "started": time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime(self.started)),
            "lastError": self.last_error,
        }


class PortForwards:
    """All forwards of one kubelantern app."""

    def __init__(self, settings: Settings, metrics: Metrics) -> None:
        self.settings = settings
        self.metrics = metrics
        self._forwards: dict[str, Forward] = {}
        self._ids = itertools.count(1)

    def list(self) -> list[Forward]:
        return list(self._forwards.values())

    def get(self, forward_id: str) -> Forward | None:
        return self._forwards.get(forward_id)

    async def start(
        self,
        cluster: Cluster,
        namespace: str,
        port: int,
        *,
        pod: str | None = None,
        service: str | None = None,
        local_port: int = 0,
    ) -> Forward:
        if bool(pod) == bool(service):
            raise PortForwardError(400, "give exactly one of pod or service")
        if not namespace:
            raise PortForwardError(400, "namespace is required")
        check_object_name("namespace", namespace)
        for what, name in (("pod", pod), ("service", service)):
            if name:
                check_object_name(what, name)
        remote = port
        service_port: int | None = None
        if service:
            service_port = port
            pod, remote = await resolve_service(cluster, namespace, service, port)
            check_object_name("pod", pod)  # the cluster's answer goes into a path too
        else:
            assert pod is not None
            found = await get_object(
                cluster,
                f"/api/v1/namespaces/{quote(namespace, safe='')}/pods/{quote(pod, safe='')}",
            )
            require_running(found)
        assert pod is not None
        forward = Forward(
            id=f"pf-{next(self._ids)}",
            cluster=cluster.name,
            namespace=namespace,
            pod=pod,
            remote_port=remote,
            local_port=0,
            service=service,
            service_port=service_port,
        )

        async def on_connect(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
            task = asyncio.current_task()
            if task is not None:
                forward.tasks.add(task)
            try:
                await self._serve_connection(cluster, forward, reader, writer)
            finally:
                if task is not None:
                    forward.tasks.discard(task)

        try:
            forward.server = await asyncio.start_server(on_connect, "127.0.0.1", local_port)
        except OSError as e:
            raise PortForwardError(
                409, f"cannot listen on 127.0.0.1:{local_port}: {e.strerror or e}"
            ) from None
        forward.local_port = int(forward.server.sockets[0].getsockname()[1])
        self._forwards[forward.id] = forward
        log.info(
            "port-forward %s: 127.0.0.1:%d -> cluster=%s %s/%s:%d",
            forward.id,
            forward.local_port,
            cluster.name,
            namespace,
            pod,
            remote,
        )
        return forward

    async def stop(self, forward_id: str) -> bool:
        forward = self._forwards.pop(forward_id, None)
        if forward is None:
            return False
        if forward.server is not None:
            forward.server.close()
        for task in list(forward.tasks):
            task.cancel()
        await asyncio.gather(*forward.tasks, return_exceptions=True)
        if forward.server is not None:
            with contextlib.suppress(Exception):
                async with asyncio.timeout(5):
                    await forward.server.wait_closed()
        log.info("port-forward %s stopped", forward_id)
        return True

    async def close_all(self) -> None:
        await asyncio.gather(*(self.stop(fid) for fid in list(self._forwards)))

    async def _serve_connection(
        self,
        cluster: Cluster,
        forward: Forward,
        reader: asyncio.StreamReader,
        writer: asyncio.StreamWriter,
    ) -> None:
        forward.connections += 1
        forward.total_connections += 1
        ws: aiohttp.ClientWebSocketResponse | None = None
        try:
            try:
                auth = await cluster.auth_headers()
            except CredentialError as e:
                forward.last_error = str(e)
                return
            path = (
                f"/api/v1/namespaces/{quote(forward.namespace, safe='')}/pods/"
                f"{quote(forward.pod, safe='')}/portforward"
            )
            url = cluster.upstream_url(path, f"ports={forward.remote_port}")
            try:
                ws, _ = await connect_upstream(
                    cluster,
                    self.settings,
                    url,
                    Offer((PORTFORWARD_PROTOCOL,)),
                    auth,
                    hdr.CredentialSource.KUBECONFIG,
                    metrics=self.metrics,
                )
            except UpstreamFailure as failure:
                forward.last_error = failure.message
                log.warning("port-forward %s: %s", forward.id, failure.message)
                return
            await _pump(forward, ws, reader, writer)
        finally:
            forward.connections -= 1
            if ws is not None and not ws.closed:
                with contextlib.suppress(Exception):
                    async with asyncio.timeout(5):
                        await ws.close()
            writer.close()
            with contextlib.suppress(Exception):
                async with asyncio.timeout(5):
                    await writer.wait_closed()


async def _pump(
    forward: Forward,
    ws: aiohttp.ClientWebSocketResponse,
    reader: asyncio.StreamReader,
    writer: asyncio.StreamWriter,
) -> None:
    async def from_pod() -> None:
        seen_header: set[int] = set()
        errors = b""
        while True:
            msg = await ws.receive()
            if msg.type is not aiohttp.WSMsgType.BINARY:
                break  # CLOSE / CLOSED / ERROR: the pod side is done
            data: bytes = msg.data
            if not data:
                continue
            channel, payload = data[0], data[1:]
            if channel not in seen_header:
                # First message per channel: the port, 2 bytes little-endian.
                seen_header.add(channel)
                if len(payload) == 2 and struct.unpack("<H", payload)[0] == forward.remote_port:
                    continue
            if channel == 0:
                writer.write(payload)
                forward.bytes_in += len(payload)
                await writer.drain()
            elif channel == 1 and payload:
                errors += payload
        if errors:
            forward.last_error = errors.decode("utf-8", "replace").strip()[:500]
            log.warning("port-forward %s: %s", forward.id, forward.last_error)

    async def to_pod() -> None:
        while True:
            chunk = await reader.read(READ_CHUNK)
            if not chunk:
                break  # local client closed: v4 has no half-close, so end the stream
            await ws.send_bytes(b"\x00" + chunk)
            forward.bytes_out += len(chunk)

    down = asyncio.create_task(from_pod())
    up = asyncio.create_task(to_pod())
    try:
        done, _ = await asyncio.wait({down, up}, return_when=asyncio.FIRST_COMPLETED)
        if up in done and not down.done():
            # Give in-flight answers a moment before closing (HTTP clients often send
            # everything, then wait for the reply).
            with contextlib.suppress(TimeoutError):
                async with asyncio.timeout(2):
                    await asyncio.wait({down})
    finally:
        for task in (down, up):
            task.cancel()
        await asyncio.gather(down, up, return_exceptions=True)
