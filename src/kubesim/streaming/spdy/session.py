"""One SPDY/3.1 session as a state machine (sans-IO): bytes in -> events, calls -> bytes out.

Either role: the server (kubelet, simulator) answers streams the client opens; the client
role exists for tests and tools. What spdystream (kubectl, kubelet) does shapes the
defaults: it answers PINGs with the peer's parity, replies with SYN_REPLY, half-closes with
an empty DATA+FIN, and never sends SETTINGS or WINDOW_UPDATE — nor honours them. So flow
control is accounted here but only enforced/announced when asked (`flow_control=True`);
against spdystream the byte stream's own backpressure (TCP) is what bounds memory.
"""

from __future__ import annotations

import enum
from dataclasses import dataclass, field

from .events import (
    DataReceived,
    Event,
    GoAwayReceived,
    PingAnswered,
    StreamOpened,
    StreamReplied,
    StreamReset,
    WindowOpened,
)
from .frames import (
    Data,
    Frame,
    FrameError,
    FrameReader,
    FrameWriter,
    GoAway,
    GoAwayStatus,
    HeadersFrame,
    Ping,
    RstStatus,
    RstStream,
    SettingId,
    Settings,
    SynReply,
    SynStream,
    UnknownControl,
    WindowUpdate,
)
from .headers import Headers

DEFAULT_WINDOW = 64 * 1024
MAX_DATA_FRAME = 32 * 1024  # what we put in one DATA frame (spdystream: one per Write)
MAX_WINDOW = 0x7FFFFFFF


class Role(enum.Enum):
    CLIENT = "client"  # opens odd stream ids, sends odd ping ids
    SERVER = "server"


class SessionError(Exception):
    """The peer broke the protocol: send what `data_to_send()` holds (a GOAWAY), then close."""


class StreamClosedError(Exception):
    """Sending on a stream that is reset, unknown, or already half-closed by us."""


@dataclass
class StreamState:
    stream_id: int
    headers: Headers
    local_open: bool = True
    remote_open: bool = True
    replied: bool = False
    send_window: int = DEFAULT_WINDOW
    recv_window: int = DEFAULT_WINDOW
    unacknowledged: int = 0

    @property
    def closed(self) -> bool:
        return not (self.local_open or self.remote_open)


@dataclass
class Session:
    role: Role
    flow_control: bool = False
    initial_window: int = DEFAULT_WINDOW  # what we allow the peer per stream
    streams: dict[int, StreamState] = field(default_factory=dict)
    going_away: bool = False
    peer_going_away: bool = False
    _reader: FrameReader = field(default_factory=FrameReader)
    _writer: FrameWriter = field(default_factory=FrameWriter)
    _out: bytearray = field(default_factory=bytearray)
    _last_peer_stream: int = 0
    _next_stream: int = 0
    _next_ping: int = 0
    _peer_initial_window: int = DEFAULT_WINDOW
    _session_send_window: int = DEFAULT_WINDOW
    _session_unacknowledged: int = 0

    def __post_init__(self) -> None:
        first = 1 if self.role is Role.CLIENT else 2
        self._next_stream = self._next_ping = first
        if self.flow_control and self.initial_window != DEFAULT_WINDOW:
            self._send(Settings(((SettingId.INITIAL_WINDOW_SIZE, self.initial_window),)))

    # --- output ----------------------------------------------------------------------------

    @property
    def has_output(self) -> bool:
        return bool(self._out)

    def data_to_send(self) -> bytes:
        out = bytes(self._out)
        self._out.clear()
        return out

    def _send(self, frame: Frame) -> None:
        self._out += self._writer.encode(frame)

    # --- input -----------------------------------------------------------------------------

    def receive(self, data: bytes) -> list[Event]:
        """Bytes from the peer; raises SessionError (with a GOAWAY queued) on garbage."""
        try:
            frames = self._reader.feed(data)
        except FrameError as exc:
            self._fail(str(exc))
        events: list[Event] = []
        for frame in frames:
            events.extend(self._handle(frame))
        return events

    def _fail(self, message: str) -> None:
        if not self.going_away:
            self.going_away = True
            self._send(GoAway(self._last_peer_stream, GoAwayStatus.PROTOCOL_ERROR))
        raise SessionError(message)

    def _is_peer_id(self, stream_id: int) -> bool:
        peer_odd = self.role is Role.SERVER
        return (stream_id % 2 == 1) == peer_odd

    def _handle(self, frame: Frame) -> list[Event]:
        match frame:
            case SynStream(stream_id, headers, fin, unidirectional):
                return self._on_syn_stream(stream_id, headers, fin or unidirectional)
            case SynReply(stream_id, headers, fin):
                state = self.streams.get(stream_id)
                if state is None or self._is_peer_id(stream_id):
                    return []  # spdystream ignores a reply it cannot place
                if state.replied:
                    self._reset(stream_id, RstStatus.STREAM_IN_USE)
                    return [StreamReset(stream_id, RstStatus.STREAM_IN_USE)]
                state.replied = True
                if fin:
                    self._remote_closed(state)
                return [StreamReplied(stream_id, headers, fin)]
            case HeadersFrame(stream_id, _, fin):
                state = self.streams.get(stream_id)
                if state is not None and fin:
                    self._remote_closed(state)
                    return [DataReceived(stream_id, b"", True)]
                return []
            case Data(stream_id, data, fin):
                return self._on_data(stream_id, data, fin)
            case RstStream(stream_id, status):
                state = self.streams.pop(stream_id, None)
                return [] if state is None else [StreamReset(stream_id, status)]
            case Settings(values):
                for setting, value in values:
                    if setting == SettingId.INITIAL_WINDOW_SIZE:
                        if value > MAX_WINDOW:
                            self._fail(f"SETTINGS initial window {value} is too large")
                        delta = value - self._peer_initial_window
                        self._peer_initial_window = value
                        for state in self.streams.values():
                            state.send_window += delta
                return []
            case Ping(ping_id):
                if self._is_peer_id(ping_id):
                    self._send(Ping(ping_id))  # the peer's ping: echo it
                    return []
                return [PingAnswered(ping_id)]
            case GoAway(last_good, status):
                self.peer_going_away = True
                return [GoAwayReceived(last_good, status)]
            case WindowUpdate(stream_id, delta):
                return self._on_window_update(stream_id, delta)
            case UnknownControl():
                return []
        return []  # pragma: no cover - match is exhaustive

    def _on_syn_stream(self, stream_id: int, headers: Headers, fin: bool) -> list[Event]:
        if not self._is_peer_id(stream_id) or stream_id <= self._last_peer_stream:
            # spdystream: an id that is not new gets RST PROTOCOL_ERROR, the session lives on.
            self._reset(stream_id, RstStatus.PROTOCOL_ERROR)
            return []
        self._last_peer_stream = stream_id
        if self.going_away:
            self._reset(stream_id, RstStatus.REFUSED_STREAM)
            return []
        state = StreamState(
            stream_id,
            headers,
            remote_open=not fin,
            send_window=self._peer_initial_window,
            recv_window=self.initial_window,
        )
        self.streams[stream_id] = state
        return [StreamOpened(stream_id, headers, fin)]

    def _on_data(self, stream_id: int, data: bytes, fin: bool) -> list[Event]:
        state = self.streams.get(stream_id)
        if state is None:
            known = stream_id <= (
                self._last_peer_stream if self._is_peer_id(stream_id) else self._next_stream - 2
            )
            if not known:
                self._reset(stream_id, RstStatus.INVALID_STREAM)
            return []  # a stream we reset or closed: late data is dropped
        if not state.remote_open:
            self._reset(stream_id, RstStatus.STREAM_ALREADY_CLOSED)
            self.streams.pop(stream_id, None)
            return [StreamReset(stream_id, RstStatus.STREAM_ALREADY_CLOSED)]
        if self.flow_control:
            state.recv_window -= len(data)
            if state.recv_window < 0:
                self._reset(stream_id, RstStatus.FLOW_CONTROL_ERROR)
                self.streams.pop(stream_id, None)
                return [StreamReset(stream_id, RstStatus.FLOW_CONTROL_ERROR)]
        if fin:
            self._remote_closed(state)
        return [DataReceived(stream_id, data, fin)]

    def _on_window_update(self, stream_id: int, delta: int) -> list[Event]:
        if stream_id == 0:
            self._session_send_window = min(MAX_WINDOW, self._session_send_window + delta)
            return [WindowOpened(0)]
        state = self.streams.get(stream_id)
        if state is None:
            return []
        if state.send_window + delta > MAX_WINDOW:
            self._reset(stream_id, RstStatus.FLOW_CONTROL_ERROR)
            self.streams.pop(stream_id, None)
            return [StreamReset(stream_id, RstStatus.FLOW_CONTROL_ERROR)]
        state.send_window += delta
        return [WindowOpened(stream_id)]

    def _remote_closed(self, state: StreamState) -> None:
        state.remote_open = False
        if state.closed:
            self.streams.pop(state.stream_id, None)

    def _local_closed(self, state: StreamState) -> None:
        state.local_open = False
        if state.closed:
            self.streams.pop(state.stream_id, None)

    def _reset(self, stream_id: int, status: int) -> None:
        self._send(RstStream(stream_id, status))

    # --- actions ---------------------------------------------------------------------------

    def open_stream(self, headers: Headers, *, fin: bool = False) -> int:
        if self.going_away or self.peer_going_away:
            raise StreamClosedError("the session is going away: no new streams")
        stream_id = self._next_stream
        self._next_stream += 2
        self.streams[stream_id] = StreamState(
            stream_id,
            headers,
            local_open=not fin,
            send_window=self._peer_initial_window,
            recv_window=self.initial_window,
        )
        self._send(SynStream(stream_id, headers, fin))
        return stream_id

    def reply(self, stream_id: int, headers: Headers = (), *, fin: bool = False) -> None:
        state = self._sendable(stream_id)
        if state.replied:
            raise StreamClosedError(f"stream {stream_id} was already answered")
        state.replied = True
        self._send(SynReply(stream_id, headers, fin))
        if fin:
            self._local_closed(state)

    def send_window(self, stream_id: int) -> int:
        """Bytes we may send on `stream_id` now (unbounded without flow control)."""
        if not self.flow_control:
            return MAX_WINDOW
        state = self.streams.get(stream_id)
        if state is None:
            return 0
        return max(0, min(state.send_window, self._session_send_window))

    def send_data(self, stream_id: int, data: bytes, *, fin: bool = False) -> None:
        """Queue `data` (split into frames). With flow control, more than the window raises."""
        state = self._sendable(stream_id)
        if self.flow_control:
            if len(data) > self.send_window(stream_id):
                raise StreamClosedError(
                    f"{len(data)} bytes exceed stream {stream_id}'s send window; wait for "
                    "WINDOW_UPDATE"
                )
            state.send_window -= len(data)
            self._session_send_window -= len(data)
        view = memoryview(data)
        for start in range(0, len(data), MAX_DATA_FRAME):
            last = start + MAX_DATA_FRAME >= len(data)
            self._send(Data(stream_id, bytes(view[start : start + MAX_DATA_FRAME]), fin and last))
        if not data and fin:
            self._send(Data(stream_id, b"", True))
        if fin:
            self._local_closed(state)

    def close_stream(self, stream_id: int) -> None:
        """Half-close our side: an empty DATA with FIN (spdystream's Stream.Close)."""
        state = self.streams.get(stream_id)
        if state is None or not state.local_open:
            return
        self.send_data(stream_id, b"", fin=True)

    def reset_stream(self, stream_id: int, status: int = RstStatus.CANCEL) -> None:
        if self.streams.pop(stream_id, None) is not None:
            self._reset(stream_id, status)

    def acknowledge(self, stream_id: int, consumed: int) -> None:
        """We processed `consumed` bytes of `stream_id`: re-open the peer's window (with
        flow control), once half the window is used, like most SPDY stacks."""
        if not self.flow_control or consumed <= 0:
            return
        self._session_unacknowledged += consumed
        if self._session_unacknowledged >= DEFAULT_WINDOW // 2:
            self._send(WindowUpdate(0, self._session_unacknowledged))
            self._session_unacknowledged = 0
        state = self.streams.get(stream_id)
        if state is None or not state.remote_open:
            return
        state.unacknowledged += consumed
        if state.unacknowledged >= self.initial_window // 2:
            state.recv_window += state.unacknowledged
            self._send(WindowUpdate(stream_id, state.unacknowledged))
            state.unacknowledged = 0

    def ping(self) -> int:
        ping_id = self._next_ping
        self._next_ping = ping_id + 2 if ping_id < 0x7FFFFFFD else (1 if ping_id % 2 else 2)
        self._send(Ping(ping_id))
        return ping_id

    def go_away(self, status: int = GoAwayStatus.OK) -> None:
        if not self.going_away:
            self.going_away = True
            self._send(GoAway(self._last_peer_stream, status))

    def _sendable(self, stream_id: int) -> StreamState:
        state = self.streams.get(stream_id)
        if state is None:
            raise StreamClosedError(f"stream {stream_id} is not open (reset or never opened)")
        if not state.local_open:
            raise StreamClosedError(f"stream {stream_id} is already half-closed by us")
        return state
