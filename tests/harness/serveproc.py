"""`kubelantern serve` as a real process (its own stderr, signals, file limits), for tests
that must see everything the server emits."""

from __future__ import annotations

import os
import re
import signal
import subprocess
import sys
import threading
from collections.abc import Sequence
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]


class ServeProcess:
    def __init__(self, args: Sequence[str], env: dict[str, str] | None = None) -> None:
        self.args = list(args)
        self.env = {**os.environ, **(env or {})}
        self.stdout_lines: list[str] = []
        self.stderr = b""
        self.port = 0
        self.proc: subprocess.Popen[bytes] | None = None

    def start(self, limit: float = 60) -> ServeProcess:
        self.proc = subprocess.Popen(
            [sys.executable, "-m", "kubelantern", "serve", "--port", "0", *self.args],
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            env=self.env,
            cwd=ROOT,
        )
        ready = threading.Event()
        assert self.proc.stdout is not None and self.proc.stderr is not None
        err_chunks: list[bytes] = []
        self._err_chunks = err_chunks

        def read_out() -> None:
            assert self.proc is not None and self.proc.stdout is not None
            for raw in self.proc.stdout:
                line = raw.decode(errors="replace")
                self.stdout_lines.append(line)
                found = re.search(r"serving at http://[^:]+:(\d+)", line)
                if found:
                    self.port = int(found.group(1))
                    ready.set()
            ready.set()

        def read_err() -> None:
            assert self.proc is not None and self.proc.stderr is not None
            while chunk := self.proc.stderr.read1(65536):
                err_chunks.append(chunk)

        threading.Thread(target=read_out, daemon=True).start()
        self._err_thread = threading.Thread(target=read_err, daemon=True)
        self._err_thread.start()
        if not ready.wait(limit) or not self.port:
            self.stop()
            raise AssertionError(f"kubelantern serve did not start: {self.stderr[-2000:]!r}")
        return self

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    @property
    def pid(self) -> int:
        assert self.proc is not None
        return self.proc.pid

    def stderr_so_far(self) -> str:
        """What the server has written to stderr up to now (it keeps running)."""
        return b"".join(self._err_chunks).decode("utf-8", "replace")

    def stop(self, limit: float = 20) -> int:
        """SIGTERM, wait; returns the exit code. `stderr` then holds everything logged."""
        assert self.proc is not None
        if self.proc.poll() is None:
            self.proc.send_signal(signal.SIGTERM)
        try:
            code = self.proc.wait(limit)
        except subprocess.TimeoutExpired:
            self.proc.kill()
            code = self.proc.wait()
        self._err_thread.join(5)
        self.stderr = b"".join(self._err_chunks)
        return code
