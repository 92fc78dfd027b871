"""`kubelantern serve` as a separate process for fault and load tests: its own pid, so a
test can read its resident memory and count its open file descriptors, and signal it."""

from __future__ import annotations

import contextlib
import os
import re
import resource
import signal
import subprocess
import sys
import time
from collections.abc import Iterator, Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path

BIN = Path(sys.executable).with_name("kubelantern")


def raise_fd_limit() -> int:
    """Soft RLIMIT_NOFILE → hard, for the test process (thousands of sockets); returns it."""
    soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    if soft < hard:
        resource.setrlimit(resource.RLIMIT_NOFILE, (hard, hard))
    return resource.getrlimit(resource.RLIMIT_NOFILE)[0]


@dataclass
class Served:
    proc: subprocess.Popen[bytes]
    url: str
    log: Path

    @property
    def pid(self) -> int:
        return self.proc.pid

    def fds(self) -> int:
        """Open file descriptors of the server process now."""
        return len(os.listdir(f"/proc/{self.pid}/fd"))

    def sockets(self) -> int:
        """Open sockets of the server process now."""
        count = 0
        for fd in os.listdir(f"/proc/{self.pid}/fd"):
            with contextlib.suppress(OSError):
                if os.readlink(f"/proc/{self.pid}/fd/{fd}").startswith("socket:"):
                    count += 1
        return count

    def rss_kib(self) -> int:
        """Resident set size of the server process now, in KiB."""
        with open(f"/proc/{self.pid}/status") as f:
            for line in f:
                if line.startswith("VmRSS:"):
                    return int(line.split()[1])
        raise AssertionError("no VmRSS in /proc status")

    def nofile(self) -> tuple[int, int]:
        """The process's open-file limit now (soft, hard), from /proc."""
        with open(f"/proc/{self.pid}/limits") as f:
            for line in f:
                if line.startswith("Max open files"):
                    soft, hard = line.split()[3:5]
                    return int(soft), int(hard)
        raise AssertionError("no 'Max open files' in /proc limits")

    def output(self) -> str:
        return self.log.read_text(errors="replace")

    def terminate(self, timeout: float = 30) -> float:
        """SIGTERM; seconds until it exited."""
        start = time.monotonic()
        self.proc.send_signal(signal.SIGTERM)
        self.proc.wait(timeout=timeout)
        return time.monotonic() - start


@contextlib.contextmanager
def serve(
    kubeconfig: Path,
    home: Path,
    extra: Sequence[str] = (),
    limit: float = 60,
    env: Mapping[str, str] | None = None,
    nofile: tuple[int, int] | None = None,
) -> Iterator[Served]:
    """`kubelantern serve --port 0 --no-token --kubeconfig <file>`; stdout and stderr go to a
    file (a pipe nobody reads would block the server once full). `nofile`: the (soft, hard)
    open-file limit the process starts with."""
    log = home / f"kubelantern-{time.monotonic_ns()}.log"
    env = {
        **{k: v for k, v in os.environ.items() if k not in ("KUBECONFIG", "KUBELANTERN_TOKEN")},
        "HOME": str(home),
        "PYTHONUNBUFFERED": "1",
        **(env or {}),
    }
    with log.open("wb") as out:
        proc = subprocess.Popen(
            [str(BIN), "serve", "--port", "0", "--no-token", "--kubeconfig", str(kubeconfig),
             *extra],
            stdout=out,
            stderr=subprocess.STDOUT,
            env=env,
            preexec_fn=None if nofile is None else lambda: resource.setrlimit(
                resource.RLIMIT_NOFILE, nofile
            ),
        )  # fmt: skip
    try:
        deadline = time.monotonic() + limit
        url = None
        while url is None:
            if proc.poll() is not None:
                raise AssertionError(f"kubelantern exited: {log.read_text(errors='replace')}")
            if time.monotonic() > deadline:
                raise AssertionError(f"kubelantern not serving within {limit}s")
            found = re.search(r"serving at (http://127\.0\.0\.1:\d+)", log.read_text())
            if found:
                url = found.group(1)
            else:
                time.sleep(0.05)
        yield Served(proc, url, log)
    finally:
        if proc.poll() is None:
            proc.kill()
        proc.wait(timeout=10)
