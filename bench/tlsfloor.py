"""The memory floor under an idle proxied WebSocket: one idle TLS client connection on
serve's event loop, with nothing else (no aiohttp, no tunnel), issue 12.

Every proxied WebSocket keeps one TLS connection to its cluster, so what OpenSSL and
asyncio's TLS transport hold per idle connection bounds kubelantern's KiB per session from
below. Measured in a fresh child process (serve's malloc tuning and event loop) against a
local TLS server in another process: RSS and glibc malloc in use per connection, for
TLS 1.3 with the server sending session tickets (what API servers do), TLS 1.3 without
tickets, and TLS 1.2.

    python -m bench.tlsfloor [--connections N]     # writes artifacts/bench/tlsfloor.json
"""

from __future__ import annotations

import argparse
import json
import subprocess
import sys
import tempfile
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
OUT = ROOT / "artifacts" / "bench"

SERVER = """
import asyncio, ssl, sys
ctx = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
ctx.load_cert_chain(sys.argv[1], sys.argv[2])
ctx.num_tickets = int(sys.argv[3])
async def serve(reader, writer):
    writer.write(b"HTTP/1.1 101 Switching Protocols\\r\\n\\r\\n")  # then idle, like a tunnel
    await reader.read()
    writer.close()
async def main():
    server = await asyncio.start_server(serve, "127.0.0.1", 0, ssl=ctx, backlog=4096)
    print(server.sockets[0].getsockname()[1], flush=True)
    await server.serve_forever()
asyncio.run(main())
"""

CLIENT = """
import asyncio, gc, json, ssl, sys
from kubelantern.eventloop import new_event_loop
from kubelantern.malloc import tune_malloc, _glibc, _MallInfo2
port, cafile, n, tls12 = int(sys.argv[1]), sys.argv[2], int(sys.argv[3]), sys.argv[4] == "1"
libc = _glibc()
libc.mallinfo2.restype = _MallInfo2
def rss():
    with open("/proc/self/statm") as f:
        return int(f.read().split()[1]) * 4096
class Idle(asyncio.Protocol):
    def data_received(self, data):
        pass
async def main():
    ctx = ssl.create_default_context(cafile=cafile)
    if tls12:
        ctx.maximum_version = ssl.TLSVersion.TLSv1_2
    loop = asyncio.get_running_loop()
    async def one():
        return await loop.create_connection(
            Idle, "127.0.0.1", port, ssl=ctx, server_hostname="127.0.0.1")
    for t, _ in [await one() for _ in range(20)]:  # one-off allocations first
        t.close()
    await asyncio.sleep(1)
    gc.collect()
    r0, m0 = rss(), libc.mallinfo2().uordblks
    conns = []
    while len(conns) < n:
        conns += await asyncio.gather(*(one() for _ in range(min(50, n - len(conns)))))
    await asyncio.sleep(2)
    gc.collect()
    r1, m1 = rss(), libc.mallinfo2().uordblks
    version = conns[0][0].get_extra_info("ssl_object").version()
    for t, _ in conns:
        t.close()
    print(json.dumps({"connections": n, "version": version,
                      "rss_kib": round((r1 - r0) / n / 1024, 1),
                      "malloc_kib": round((m1 - m0) / n / 1024, 1)}))
tune_malloc()
with asyncio.Runner(loop_factory=new_event_loop) as runner:
    runner.run(main())
"""

CASES = {
    "TLS 1.3, 2 session tickets (as API servers send)": (2, False),
    "TLS 1.3, no session tickets": (0, False),
    "TLS 1.2": (2, True),
}


def measure(folder: Path, n: int) -> dict[str, Any]:
    if str(ROOT) not in sys.path:
        sys.path.insert(0, str(ROOT))
    from tests.harness.pki import make_pki

    pki = make_pki(folder)
    out: dict[str, Any] = {}
    for label, (tickets, tls12) in CASES.items():
        server = subprocess.Popen(
            [sys.executable, "-c", SERVER, str(folder / "server.crt"), str(folder / "server.key"),
             str(tickets)],
            stdout=subprocess.PIPE, text=True,
        )  # fmt: skip
        try:
            assert server.stdout is not None
            port = server.stdout.readline().strip()
            done = subprocess.run(
                [sys.executable, "-c", CLIENT, port, str(pki.ca_file), str(n), str(int(tls12))],
                capture_output=True, text=True, timeout=300, check=True,
            )  # fmt: skip
            out[label] = json.loads(done.stdout.strip().splitlines()[-1])
        finally:
            server.terminate()
            server.wait()
    return out


def main(argv: list[str] | None = None) -> int:
    p = argparse.ArgumentParser(prog="python -m bench.tlsfloor", description=__doc__.split("\n")[0])
    p.add_argument("--connections", type=int, default=1000)
    p.add_argument("--out", type=Path, default=OUT)
    args = p.parse_args(argv)
    with tempfile.TemporaryDirectory(prefix="kl-tlsfloor-") as tmp:
        result = measure(Path(tmp), args.connections)
    args.out.mkdir(parents=True, exist_ok=True)
    (args.out / "tlsfloor.json").write_text(json.dumps(result, indent=1))
    print(f"idle TLS client connection on serve's loop ({args.connections} connections):")
    for label, r in result.items():
        print(f"  {label:<50} {r['version']}: RSS {r['rss_kib']} KiB, malloc {r['malloc_kib']} KiB")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
