"""Wire decisions for exec/attach, port-forward and log WebSockets, without sockets.

Everything here is a pure function or a small state machine over bytes: query parsing with
the apimachinery boolean rule, subprotocol choice in the client's order, channel framing
(binary and base64), the final Status JSON on channel 3, the streaming resize decoder.
Sources: the wire-facts reference, sections 1-3.
"""

from __future__ import annotations

import base64
import binascii
import enum
import json
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

JSON = dict[str, Any]

# Channels (apimachinery remotecommand/constants.go).
STDIN, STDOUT, STDERR, ERROR, RESIZE = 0, 1, 2, 3, 4
CLOSE = 255  # v5 only: client half-closes a stream with [0xFF, channel]

V5 = "v5.channel.k8s.io"
V4 = "v4.channel.k8s.io"
V4_BASE64 = "v4.base64.channel.k8s.io"
V1 = "channel.k8s.io"
V1_BASE64 = "base64.channel.k8s.io"
NO_PROTOCOL = ""

# Server preference does not matter (the client's order decides); these are the sets.
EXEC_PROTOCOLS = (V5, V4, V4_BASE64, V1, V1_BASE64, NO_PROTOCOL)
PORTFORWARD_PROTOCOLS = (V4, V4_BASE64, NO_PROTOCOL)
LOG_BINARY = "binary.k8s.io"
LOG_BASE64 = "base64.binary.k8s.io"
LOG_PROTOCOLS = (LOG_BINARY, LOG_BASE64, NO_PROTOCOL)

# x/net's refusal when no subprotocol matches: exactly this, no headers, then close.
RAW_FORBIDDEN = b"HTTP/1.1 403 Forbidden\r\n\r\n"

SPDY_PORTFORWARD = "SPDY/3.1+portforward.k8s.io"


def parse_bool(values: Sequence[str]) -> bool:
    """apimachinery `Convert_Slice_string_To_bool`: absent, "0", any-case "false" are false."""
    if not values:
        return False
    value = values[0]
    return not (value == "0" or value.lower() == "false")


def offered_protocols(first_header_line: str | None) -> list[str]:
    """x/net reads only the first Sec-WebSocket-Protocol line, splits on "," and trims."""
    if first_header_line is None:
        return [NO_PROTOCOL]
    return [p.strip() for p in first_header_line.split(",")]


def choose_protocol(offered: Iterable[str], supported: Iterable[str]) -> str | None:
    """The first protocol in the client's order that the server supports; None refuses."""
    allowed = set(supported)
    for proto in offered:
        if proto in allowed:
            return proto
    return None


def exec_protocols(*, supports_v5: bool) -> tuple[str, ...]:
    return EXEC_PROTOCOLS if supports_v5 else tuple(p for p in EXEC_PROTOCOLS if p != V5)


def is_base64(protocol: str) -> bool:
    return protocol in (V4_BASE64, V1_BASE64)


def is_tunneling_request(offered: Iterable[str]) -> bool:
    """wsstream.IsWebSocketRequestWithTunnelingProtocol: `SPDY/3.1+...k8s.io` offered."""
    return any(p.startswith("SPDY/3.1+") and p.endswith(".k8s.io") for p in offered)


# --- query options -------------------------------------------------------------------------


@dataclass(frozen=True)
class StreamOptions:
    """PodExecOptions / PodAttachOptions after the apiserver's conversion."""

    stdin: bool
    stdout: bool
    stderr: bool
    tty: bool
    container: str
    command: tuple[str, ...] = ()

    @property
    def writes_stderr(self) -> bool:
        # The kubelet forces stderr off with a tty: both land on the terminal (channel 1).
        return self.stderr and not self.tty

    def first_writable_channel(self) -> int:
        if self.stdout:
            return STDOUT
        if self.writes_stderr:
            return STDERR
        return ERROR


def parse_stream_options(query: Mapping[str, Sequence[str]]) -> StreamOptions:
    container = query.get("container", [""])
    return StreamOptions(
        stdin=parse_bool(query.get("stdin", [])),
        stdout=parse_bool(query.get("stdout", [])),
        stderr=parse_bool(query.get("stderr", [])),
        tty=parse_bool(query.get("tty", [])),
        container=container[0] if container else "",
        command=tuple(query.get("command", [])),
    )


def parse_ports(values: Sequence[str]) -> list[int]:
    """`ports` query values: repeats and comma lists, each a uint16 (0 is rejected later)."""
    ports: list[int] = []
    for value in values:
        for part in value.split(","):
            part = part.strip()
            try:
                port = int(part, 10)
            except ValueError:
                raise ValueError(f"invalid port {part!r}: not a number") from None
            if not 1 <= port <= 65535:
                raise ValueError(f"invalid port {part!r}: must be between 1 and 65535")
            ports.append(port)
    return ports


# --- framing -------------------------------------------------------------------------------


@dataclass(frozen=True)
class Frame:
    """One outgoing WebSocket message: text for base64 protocols, binary otherwise."""

    text: bool
    data: bytes

    def as_str(self) -> str:
        return self.data.decode("ascii")


def encode_frame(protocol: str, channel: int, payload: bytes) -> Frame:
    if is_base64(protocol):
        # '0'+channel is a byte: channel 10 is ':' (as wsstream does it for port-forward).
        return Frame(True, bytes([0x30 + channel]) + base64.b64encode(payload))
    return Frame(False, bytes([channel]) + payload)


class FrameError(ValueError):
    pass


def decode_frame(protocol: str, message: bytes) -> tuple[int, bytes] | None:
    """(channel, payload) from a client message; None for a zero-length message (skipped)."""
    if not message:
        return None
    if is_base64(protocol):
        channel = message[0] - 0x30
        try:
            payload = base64.b64decode(message[1:], validate=True)
        except (binascii.Error, ValueError) as exc:
            raise FrameError(f"invalid base64 on channel {channel}: {exc}") from None
        return channel, payload
    return message[0], message[1:]


# --- final status (channel 3) --------------------------------------------------------------


def _compact(obj: JSON) -> bytes:
    return json.dumps(obj, separators=(",", ":")).encode()


def success_status() -> JSON:
    return {"metadata": {}, "status": "Success"}


def exit_code_status(code: int, *, protocol: str, argv: Sequence[str]) -> JSON:
    """NonZeroExitCode with the ExitCode cause first (client-go and Python read causes[0])."""
    if protocol == V5:
        # apiserver translator: wraps client-go's v4 decoder text.
        inner = f"command terminated with exit code {code}"
    else:
        # Legacy path: the container runtime's text (containerd's CodeExitError).
        inner = f"error executing command [{' '.join(argv)}], exit code {code}"
    return {
        "metadata": {},
        "status": "Failure",
        "message": f"command terminated with non-zero exit code: {inner}",
        "reason": "NonZeroExitCode",
        "details": {"causes": [{"reason": "ExitCode", "message": str(code)}]},
    }


def internal_error_status(error: str, *, protocol: str) -> JSON:
    """A runtime failure (e.g. the executable is missing) as `apierrors.NewInternalError`."""
    kubelet_message = f"Internal error occurred: {error}"
    if protocol == V5:
        # The translator wraps the kubelet's Status message once more, as real kubectl shows.
        cause, message = kubelet_message, f"Internal error occurred: {kubelet_message}"
    else:
        cause, message = error, kubelet_message
    return {
        "metadata": {},
        "status": "Failure",
        "message": message,
        "reason": "InternalError",
        "details": {"causes": [{"message": cause}]},
        "code": 500,
    }


def status_payload(status: JSON, *, protocol: str) -> bytes | None:
    """Bytes for channel 3, or None when nothing is written (v1 success).

    The kubelet writes v4 Status JSON only for the v4 protocols; `""` and the pre-v4 names
    get v1's plain error text (`v1WriteStatusFunc`).
    """
    if protocol in (NO_PROTOCOL, V1, V1_BASE64):
        if status.get("status") == "Success":
            return None
        return str(status.get("message", "")).encode()
    return _compact(status)


# --- resize (channel 4) --------------------------------------------------------------------


@dataclass(frozen=True)
class TerminalSize:
    width: int
    height: int


@dataclass
class ResizeDecoder:
    """Go's json.Decoder over the resize stream: objects may be split or concatenated."""

    _buffer: str = ""
    _decoder: json.JSONDecoder = field(default_factory=json.JSONDecoder)
    max_buffer: int = 64 * 1024

    def feed(self, data: bytes) -> list[TerminalSize]:
        self._buffer += data.decode("utf-8", errors="replace")
        if len(self._buffer) > self.max_buffer:
            raise ValueError("resize stream: no complete JSON object in 64 KiB")
        sizes: list[TerminalSize] = []
        while True:
            text = self._buffer.lstrip()
            if not text:
                self._buffer = ""
                return sizes
            try:
                obj, end = self._decoder.raw_decode(text)
            except json.JSONDecodeError as exc:
                if exc.pos >= len(text) or _incomplete(text):
                    self._buffer = text  # wait for the rest of the object
                    return sizes
                raise ValueError(f"resize stream: invalid JSON: {exc.msg}") from None
            self._buffer = text[end:]
            if isinstance(obj, dict):
                width, height = obj.get("Width", 0), obj.get("Height", 0)
                if isinstance(width, int) and isinstance(height, int):
                    sizes.append(TerminalSize(max(0, width) & 0xFFFF, max(0, height) & 0xFFFF))


def _incomplete(text: str) -> bool:
    """True when `text` could still become a valid JSON object with more bytes."""
    depth, in_string, escaped = 0, False, False
    for ch in text:
        if in_string:
            if escaped:
                escaped = False
            elif ch == "\\":
                escaped = True
            elif ch == '"':
                in_string = False
        elif ch == '"':
            in_string = True
        elif ch in "{[":
            depth += 1
        elif ch in "}]":
            depth -= 1
            if depth <= 0:
                return False
    return depth > 0 or in_string


class Close(enum.Enum):
    """What a v5 CLOSE message asks for."""

    HALF_CLOSE = "half-close"
    TERMINATE = "terminate"


def parse_close_signal(payload: bytes) -> tuple[Close, int]:
    """`[0xFF, ch]` (payload = the bytes after 0xFF): exactly one byte naming a channel < 5."""
    if len(payload) != 1 or payload[0] >= 5:
        return Close.TERMINATE, -1
    return Close.HALF_CLOSE, payload[0]
