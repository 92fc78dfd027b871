"""Clients of kubelantern's proxy for tests: cluster URLs, finding a pod with a shell,
exec sessions over WebSocket (channel protocol), and polling state held by another thread.
"""

from __future__ import annotations

import asyncio
import base64
import json
import os
import urllib.request
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import quote, urlencode

import aiohttp

from tests.harness.servers import ServerThread
from tests.harness.stack import CONTEXT_NAMES

V5 = "v5.channel.k8s.io"
V4 = "v4.channel.k8s.io"
EXEC_OFFER = (V5, V4)
NO_USERLAND = ("distroless", "scratch", "pause")


def cluster_base(server: ServerThread, profile_or_name: str, *, encoded: bool = True) -> str:
    """kubelantern's proxy URL of a cluster (a profile's context name, or any name), with
    the name percent-encoded as the SPA sends it or (`encoded=False`) decoded as kubectl
    sends the path of its --server URL."""
    name = CONTEXT_NAMES.get(profile_or_name, profile_or_name)
    return f"{server.url}/clusters/{quote(name, safe='') if encoded else name}"


def upgrade_headers(protocols: str, extra: Mapping[str, str] | None = None) -> dict[str, str]:
    """A WebSocket upgrade sent as a plain GET: the way to read a refusal's status and body
    (`ws_connect` raises with the status only)."""
    return {
        "Upgrade": "websocket",
        "Connection": "Upgrade",
        "Sec-WebSocket-Key": base64.b64encode(os.urandom(16)).decode(),
        "Sec-WebSocket-Version": "13",
        "Sec-WebSocket-Protocol": protocols,
        **(extra or {}),
    }


async def find_pod(
    session: aiohttp.ClientSession, base: str, *, headers: dict[str, str] | None = None
) -> tuple[str, str, str]:
    """(namespace, pod, container) of a Running pod with a shell, via kubelantern."""
    async with session.get(f"{base}/api/v1/pods", headers=headers or {}) as resp:
        assert resp.status == 200, await resp.text()
        found = _shell_pod((await resp.json())["items"])
    assert found is not None, f"no running pod with a shell in {base}"
    return found


def running_pod(server: ServerThread, profile: str) -> tuple[str, str, str]:
    """`find_pod` for synchronous tests (kubectl, the kubernetes client)."""
    with urllib.request.urlopen(cluster_base(server, profile) + "/api/v1/pods", timeout=10) as r:
        found = _shell_pod(json.load(r)["items"])
    assert found is not None, "no running pod with a shell"
    return found


def exec_path(ns: str, pod: str, container: str, command: Sequence[str], **flags: bool) -> str:
    query: list[tuple[str, str]] = [("command", c) for c in command]
    query.append(("container", container))
    for flag in ("stdin", "stdout", "stderr", "tty"):
        if flags.get(flag, flag in ("stdout", "stderr")):
            query.append((flag, "true"))
    return f"/api/v1/namespaces/{ns}/pods/{pod}/exec?{urlencode(query)}"


@dataclass
class Session:
    protocol: str | None
    stdout: bytes = b""
    stderr: bytes = b""
    status: dict[str, Any] | None = None
    close_code: int | None = None
    close_reason: str = ""
    first: bytes | None = None  # the first message (the "connected" empty write)
    messages: list[bytes] = field(default_factory=list)


async def run_stream(
    ws: aiohttp.ClientWebSocketResponse,
    *,
    stdin: bytes | None = None,
    close_stdin: bool = False,
    resize: tuple[int, int] | None = None,
    after_first: list[bytes] | None = None,
    limit: float = 20,
) -> Session:
    """Drive one channel-protocol session to its end (binary framing)."""
    result = Session(ws.protocol)
    async with asyncio.timeout(limit):
        first = True
        while True:
            msg = await ws.receive()
            if msg.type is aiohttp.WSMsgType.CLOSE:
                # The server's Close frame is what counts: kube-apiserver drops TCP right
                # after it, which can fail aiohttp's reply and leave ws.close_code at 1006.
                result.close_code = msg.data
                result.close_reason = msg.extra or ""
                break
            assert msg.type is aiohttp.WSMsgType.BINARY, msg
            data: bytes = msg.data
            result.messages.append(data)
            if first:
                first = False
                result.first = data
                if resize is not None:
                    size = json.dumps({"Width": resize[0], "Height": resize[1]}).encode()
                    await ws.send_bytes(b"\x04" + size + b"\n")
                if stdin is not None:
                    await ws.send_bytes(b"\x00" + stdin)
                for extra in after_first or []:
                    await ws.send_bytes(extra)
                if close_stdin:
                    await ws.send_bytes(b"\xff\x00")
            if not data:
                continue
            channel, payload = data[0], data[1:]
            if channel == 1:
                result.stdout += payload
            elif channel == 2:
                result.stderr += payload
            elif channel == 3:
                result.status = json.loads(payload)
    return result


async def exec_session(
    session: aiohttp.ClientSession,
    url: str,
    *,
    protocols: Sequence[str] = EXEC_OFFER,
    headers: dict[str, str] | None = None,
    **kwargs: Any,
) -> Session:
    async with session.ws_connect(url, protocols=protocols, headers=headers or {}) as ws:
        return await run_stream(ws, **kwargs)


def _shell_pod(items: list[dict[str, Any]]) -> tuple[str, str, str] | None:
    for pod in items:
        if (pod.get("status") or {}).get("phase") != "Running":
            continue
        first = pod["spec"]["containers"][0]
        if any(m in first.get("image", "") for m in NO_USERLAND) or first["name"] == "firehose":
            continue
        return pod["metadata"]["namespace"], pod["metadata"]["name"], first["name"]
    return None


async def eventually(check: Callable[[], bool], limit: float = 10) -> None:
    """Poll a condition set by another thread's loop (no shared asyncio.Event possible)."""
    async with asyncio.timeout(limit):
        while not check():  # noqa: ASYNC110
            await asyncio.sleep(0.05)
