"""`python -m kubesim --tls-read-buffer`: the simulator's memory per idle TLS connection,
from its own /proc entry, with asyncio's 256 KiB read buffer as the control."""

from __future__ import annotations

import asyncio
import os
import re
import subprocess
import sys
from pathlib import Path

from tests.harness.pki import Pki

CONNECTIONS = 200


def _rss_kib(pid: int) -> int:
    pages = int(Path(f"/proc/{pid}/statm").read_text().split()[1])
    return pages * os.sysconf("SC_PAGE_SIZE") // 1024


async def _kib_per_idle_connection(pki: Pki, extra: list[str]) -> float:
    proc = await asyncio.create_subprocess_exec(
        sys.executable, "-m", "kubesim", "--port", "0", "--tls-cert",
        str(pki.folder / "server.crt"), "--tls-key", str(pki.folder / "server.key"), *extra,
        stdout=asyncio.subprocess.PIPE,
    )  # fmt: skip
    writers: list[asyncio.StreamWriter] = []
    try:
        assert proc.stdout is not None
        async with asyncio.timeout(30):
            line = (await proc.stdout.readline()).decode()
        found = re.search(r"https://127\.0\.0\.1:(\d+)", line)
        assert found, "the simulator did not say where it serves"
        port = int(found.group(1))
        ctx = pki.client_context()

        async def one() -> asyncio.StreamWriter:
            _, writer = await asyncio.open_connection("127.0.0.1", port, ssl=ctx)
            return writer

        for w in await asyncio.gather(*(one() for _ in range(20))):  # one-off allocations
            w.close()
        await asyncio.sleep(0.5)
        before = _rss_kib(proc.pid)
        for _ in range(CONNECTIONS // 50):
            writers += await asyncio.gather(*(one() for _ in range(50)))
        await asyncio.sleep(1.0)  # the server's side of the last handshakes
        return (_rss_kib(proc.pid) - before) / CONNECTIONS
    finally:
        for w in writers:
            w.close()
        proc.terminate()
        async with asyncio.timeout(10):
            await proc.wait()


async def test_small_tls_read_buffer_keeps_idle_connections_small(pki: Pki) -> None:
    per = await _kib_per_idle_connection(pki, ["--tls-read-buffer", "16384"])
    assert per < 128, f"{per:.0f} KiB per idle TLS connection"


async def test_control_asyncio_buffer_costs_256_kib_per_idle_connection(pki: Pki) -> None:
    per = await _kib_per_idle_connection(pki, [])
    assert per >= 200, f"{per:.0f} KiB per idle TLS connection"


def test_tls_read_buffer_out_of_range_is_refused() -> None:
    done = subprocess.run(
        [sys.executable, "-m", "kubesim", "--port", "0", "--tls-read-buffer", "10"],
        capture_output=True,
        text=True,
        timeout=30,
    )
    assert done.returncode == 2 and "--tls-read-buffer" in done.stderr
