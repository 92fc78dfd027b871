"""What a SPDY/3.1 `Session` reports after `receive()`: one frozen dataclass per happening."""

from __future__ import annotations

from dataclasses import dataclass

from .headers import Headers


@dataclass(frozen=True)
class StreamOpened:
    stream_id: int
    headers: Headers
    fin: bool  # the peer will send nothing on it


@dataclass(frozen=True)
class StreamReplied:
    stream_id: int
    headers: Headers
    fin: bool


@dataclass(frozen=True)
class DataReceived:
    stream_id: int
    data: bytes
    fin: bool


@dataclass(frozen=True)
class StreamReset:
    stream_id: int
    status: int


@dataclass(frozen=True)
class PingAnswered:
    ping_id: int


@dataclass(frozen=True)
class GoAwayReceived:
    last_good_stream_id: int
    status: int


@dataclass(frozen=True)
class WindowOpened:
    """The peer allowed more bytes (stream 0: the session)."""

    stream_id: int


Event = (
    StreamOpened
    | StreamReplied
    | DataReceived
    | StreamReset
    | PingAnswered
    | GoAwayReceived
    | WindowOpened
)
