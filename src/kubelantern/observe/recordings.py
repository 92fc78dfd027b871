"""Exec/attach sessions on the record: one asciicast v2 file per session
(`serve --record-sessions DIR [--record-input]`).

Layout: `DIR/<cluster>/<YYYY-MM-DD>/<HHMMSS>-<namespace>-<pod>-<random>.cast` (UTC), files
0600 in 0700 folders. The header (first line) carries `version: 2`, `width`, `height`,
`timestamp` and a `kubelantern` object (cluster, namespace, pod, container, command, user,
client, kind, tty); then `[t, "o", text]` for output, `[t, "i", text]` for input (only with
`--record-input`: people type passwords), `[t, "r", "WxH"]` for resizes and, when the
exit code is known, a last `[t, "m", "exit <code>"]`.

Events are written at most a second after they happen (a crash loses at most the last
second). Nothing secret goes in: the metadata is names, the user's display name and the
client address. A failure to write (unwritable DIR, disk full) is logged once per
recording and counted (`kubelantern_recording_failures_total`); the session goes on.
"""

from __future__ import annotations

import asyncio
import codecs
import json
import logging
import os
import secrets
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any
from urllib.parse import quote

from kubelantern.observe.metrics import Metrics

log = logging.getLogger("kubelantern.recordings")

_escape = json.encoder.c_encode_basestring or json.encoder.py_encode_basestring  # type: ignore[attr-defined]

FLUSH_EVERY = 1.0  # seconds: the most a crash may lose
DEFAULT_SIZE = (80, 24)  # a session that never said its size (no tty, or kubectl -i)


@dataclass(frozen=True)
class RecordingMeta:
    cluster: str
    namespace: str
    pod: str
    container: str
    command: tuple[str, ...]
    user: str
    client: str
    kind: str  # exec | attach
    tty: bool = False  # players turn a bare LF into CRLF when False (no terminal did it)


def safe_name(value: str, limit: int = 80) -> str:
    """A path component that cannot climb or hide: percent-encoded, dots too."""
    return quote(value, safe="-_").replace(".", "%2E")[:limit] or "_"


@dataclass
class RecorderState:
    """What the UI shows: whether recording is on and whether it is failing."""

    failures: int = 0
    last_error: str | None = None
    last_failure_at: float | None = None


class Recorder:
    """Opens recordings under one root; one per server."""

    def __init__(self, root: Path | None, record_input: bool, metrics: Metrics) -> None:
        self.root = root
        self.record_input = record_input
        self.metrics = metrics
        self.state = RecorderState()

    @property
    def enabled(self) -> bool:
        return self.root is not None

    def failed(self, cluster: str, what: str, error: OSError | str) -> None:
        """Count and log a recording that failed; `error` a write's OSError, or what went
        wrong reading the session (a SPDY stream the observer could not follow)."""
        self.metrics.recording_failed(cluster)
        why = error if isinstance(error, str) else str(error.strerror or error)
        self.state.failures += 1
        self.state.last_failure_at = time.time()
        self.state.last_error = f"{what}: {why}"
        advice = (
            "check that --record-sessions is writable and has space"
            if isinstance(error, OSError)
            else "the session's bytes went on untouched"
        )
        log.error(
            "cluster=%s recording %s failed: %s (the session goes on unrecorded; %s)",
            cluster,
            what,
            why,
            advice,
        )

    def open(self, meta: RecordingMeta) -> Recording | None:
        """A new recording for one session; None when off (or, after logging, failed)."""
        if self.root is None:
            return None
        now = time.time()
        day = time.strftime("%Y-%m-%d", time.gmtime(now))
        folder = self.root / safe_name(meta.cluster) / day
        name = (
            f"{time.strftime('%H%M%S', time.gmtime(now))}-{safe_name(meta.namespace, 60)}-"
            f"{safe_name(meta.pod, 100)}-{secrets.token_hex(4)}.cast"
        )
        try:
            for path in (self.root, folder.parent, folder):
                path.mkdir(mode=0o700, exist_ok=True)
                if path != self.root:
                    os.chmod(path, 0o700)
            fd = os.open(folder / name, os.O_WRONLY | os.O_CREAT | os.O_EXCL | os.O_APPEND, 0o600)
        except OSError as e:
            self.failed(meta.cluster, "open", e)
            return None
        return Recording(self, meta, fd, now)


@dataclass(eq=False)
class Recording:
    recorder: Recorder
    meta: RecordingMeta
    fd: int
    started: float  # wall clock, for the header
    _t0: float = field(default_factory=time.monotonic)
    _pending: list[str] = field(default_factory=list)
    _size: tuple[int, int] | None = None
    _header_written: bool = False
    _timer: asyncio.TimerHandle | None = None
    _broken: bool = False
    _decoders: dict[str, Any] = field(default_factory=dict)

    def _event(self, kind: str, text: str) -> None:
        if self._broken or self.fd < 0:
            return
        t = round(time.monotonic() - self._t0, 6)
        # What json.dumps([t, kind, text], ensure_ascii=False) writes, at half the CPU: the
        # text's escaping is the C one directly (json.dumps takes a slower path for it).
        self._pending.append(f'[{t!r}, "{kind}", {_escape(text)}]')
        if self._timer is None:
            try:
                loop = asyncio.get_running_loop()
            except RuntimeError:
                self.flush()
                return
            self._timer = loop.call_later(FLUSH_EVERY, self.flush)

    def _text(self, stream: str, data: bytes, final: bool = False) -> str:
        # One incremental decoder per stream: a UTF-8 character split over two messages
        # must not become two replacement characters.
        dec = self._decoders.get(stream)
        if dec is None:
            dec = self._decoders[stream] = codecs.getincrementaldecoder("utf-8")("replace")
        return str(dec.decode(data, final))

    def output(self, data: bytes) -> None:
        text = self._text("o", data)
        if text:
            self._event("o", text)

    def input(self, data: bytes) -> None:
        if not self.recorder.record_input:
            return
        text = self._text("i", data)
        if text:
            self._event("i", text)

    def resize(self, width: int, height: int) -> None:
        if self._size is None and not self._header_written:
            self._size = (width, height)
        self._event("r", f"{width}x{height}")

    def exit(self, code: int) -> None:
        self._event("m", f"exit {code}")

    def note(self, text: str) -> None:
        """A marker that is not an exit (why the rest of the session is missing)."""
        self._event("m", text)

    def _header(self) -> str:
        width, height = self._size or DEFAULT_SIZE
        m = self.meta
        return json.dumps(
            {
                "version": 2,
                "width": width,
                "height": height,
                "timestamp": int(self.started),
                "kubelantern": {
                    "cluster": m.cluster,
                    "namespace": m.namespace,
                    "pod": m.pod,
                    "container": m.container,
                    "command": list(m.command),
                    "user": m.user,
                    "client": m.client,
                    "kind": m.kind,
                    "tty": m.tty,
                },
            },
            ensure_ascii=False,
        )

    def flush(self) -> None:
        self._timer = None
        if self._broken or self.fd < 0:
            return
        lines = self._pending
        self._pending = []
        if not self._header_written:
            lines.insert(0, self._header())
            self._header_written = True
        if not lines:
            return
        data = ("\n".join(lines) + "\n").encode()
        try:
            while data:
                written = os.write(self.fd, data)
                data = data[written:]
        except OSError as e:
            self._broken = True
            self.recorder.failed(self.meta.cluster, "write", e)

    def close(self) -> None:
        if self.fd < 0:
            return
        if self._timer is not None:
            self._timer.cancel()
        for stream in list(self._decoders):
            tail = self._text(stream, b"", final=True)
            if tail:
                self._event(stream, tail)
        self.flush()
        try:
            os.close(self.fd)
        except OSError as e:
            self.recorder.failed(self.meta.cluster, "close", e)
        self.fd = -1
