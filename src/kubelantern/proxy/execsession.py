"""*pure*: what kubelantern knows of one exec/attach session without touching a socket.

- `exec_target(api_path, query)`: is this request a pod's exec/attach, and of what
  (namespace, pod, container, command) — the session registry and the recordings use it;
- `owner_of(...)`: who may reattach to a kept session (a digest, never the secret itself);
- the channel protocol (`channel.k8s.io` v4/v5 binary, `base64.channel.k8s.io` text):
  which channel a message is on, the exit code in the channel-3 Status, and the notice
  kubelantern writes on stdout when buffered output had to be dropped.

Unit-tested in tests/unit/test_execsession.py.
"""

from __future__ import annotations

import base64
import binascii
import hashlib
import json
from dataclasses import dataclass
from urllib.parse import parse_qsl, unquote

STDIN, STDOUT, STDERR, ERROR, RESIZE = 0, 1, 2, 3, 4
BASE64_PROTOCOLS = frozenset({"base64.channel.k8s.io", "v4.base64.channel.k8s.io"})
# What the UI looks for (frontend/src/streams/reattach.ts LOST_RE): keep them in step.
LOST_NOTICE = "\r\n[kubelantern: {n} bytes of output were lost while disconnected]\r\n"


@dataclass(frozen=True)
class ExecTarget:
    kind: str  # "exec" or "attach"
    namespace: str
    pod: str
    container: str  # "" when the client let the server pick
    command: tuple[str, ...]  # empty for attach


def exec_target(api_path: str, raw_query: str) -> ExecTarget | None:
    """`/api/v1/namespaces/<ns>/pods/<pod>/exec|attach` → its target; None for any other path."""
    parts = api_path.split("/")
    # ['', 'api', 'v1', 'namespaces', ns, 'pods', pod, 'exec']
    if (
        len(parts) != 8
        or parts[1:4] != ["api", "v1", "namespaces"]
        or parts[5] != "pods"
        or parts[7] not in ("exec", "attach")
    ):
        return None
    namespace, pod = unquote(parts[4]), unquote(parts[6])
    if not namespace or not pod:
        return None
    params = parse_qsl(raw_query, keep_blank_values=True)
    container = next((v for k, v in params if k == "container"), "")
    command = tuple(v for k, v in params if k == "command") if parts[7] == "exec" else ()
    return ExecTarget(parts[7], namespace, pod, container, command)


def owner_of(
    *,
    signed_in: str | None,
    trusted_user: str | None,
    credential: str | None,
    launch_token: str | None,
) -> str:
    """Who a session belongs to, as a digest: the signed-in user (team mode, stable across
    token refreshes), the user an identity-aware proxy vouched for, the client's own
    credential (Authorization, bearer subprotocol, login cookie), and the launch token this
    process was started with. Two requests may share a session only if all of these agree."""
    parts = [
        f"user={signed_in or ''}",
        f"trusted={trusted_user or ''}",
        f"credential={credential or ''}",
        f"launch={launch_token or ''}",
    ]
    return hashlib.sha256("\n".join(parts).encode()).hexdigest()


@dataclass(frozen=True)
class Frame:
    channel: int
    data: bytes


def decode_frame(protocol: str | None, payload: bytes | str) -> Frame | None:
    """One WebSocket message of an exec/attach stream → channel and data (None: not one)."""
    if isinstance(payload, str):
        if protocol not in BASE64_PROTOCOLS or not payload or not payload[0].isdigit():
            return None
        try:
            data = base64.b64decode(payload[1:], validate=False)
        except (binascii.Error, ValueError):
            return None
        return Frame(int(payload[0]), data)
    if not payload:
        return None
    return Frame(payload[0], bytes(payload[1:]))


def encode_frame(protocol: str | None, channel: int, data: bytes) -> bytes | str:
    """The message a client of `protocol` reads as `data` on `channel`."""
    if protocol in BASE64_PROTOCOLS:
        return f"{channel}{base64.b64encode(data).decode()}"
    return bytes([channel]) + data


def lost_notice(protocol: str | None, dropped: int) -> bytes | str:
    """The stdout line telling the client how much buffered output was dropped."""
    return encode_frame(protocol, STDOUT, LOST_NOTICE.format(n=dropped).encode())


def exit_code(status_text: bytes) -> int | None:
    """The exit code in a channel-3 `metav1.Status` (v4/v5): 0 for Success, the ExitCode
    cause for NonZeroExitCode; None when it says something else (or is not JSON)."""
    try:
        status = json.loads(status_text.decode("utf-8", "replace"))
    except ValueError:
        return None
    if not isinstance(status, dict):
        return None
    if status.get("status") == "Success":
        return 0
    if status.get("reason") != "NonZeroExitCode":
        return None
    details = status.get("details")
    causes = details.get("causes") if isinstance(details, dict) else None
    for cause in causes if isinstance(causes, list) else []:
        if isinstance(cause, dict) and cause.get("reason") == "ExitCode":
            try:
                return int(str(cause.get("message")))
            except ValueError:
                return None
    return None


def terminal_size(data: bytes) -> tuple[int, int] | None:
    """A channel-4 resize message (client-go's TerminalSize JSON) → (width, height)."""
    try:
        size = json.loads(data.decode("utf-8", "replace"))
        width, height = int(size["Width"]), int(size["Height"])
    except (ValueError, KeyError, TypeError):
        return None
    if not (0 < width < 10_000 and 0 < height < 10_000):
        return None
    return width, height
