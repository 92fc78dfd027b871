"""WebSocket exec throughput: kubelantern vs a direct connection vs `kubectl proxy`.

Same simulator, same run: an exec of `firehose SIZE` (the simulator's fast byte source)
read to the end over `v5.channel.k8s.io`, three times per path; the best MB/s counts.
`kubectl proxy` tunnels raw bytes after the 101, the bar DESIGN §4 sets for the bridge.

    python -m bench ws_throughput            # or: make bench
    KL_BENCH_MB=256 python -m bench.ws_throughput
"""

from __future__ import annotations

import asyncio
import os
import shutil
import socket
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from urllib.parse import urlencode

import aiohttp

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

SIZE_MB = int(os.environ.get("KL_BENCH_MB", "128"))
ROUNDS = int(os.environ.get("KL_BENCH_ROUNDS", "3"))


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


async def _find_pod(session: aiohttp.ClientSession, base: str, **kw: object) -> tuple[str, str]:
    async with session.get(f"{base}/api/v1/pods", **kw) as resp:  # type: ignore[arg-type]
        items = (await resp.json())["items"]
    for pod in items:
        first = pod["spec"]["containers"][0]
        if pod["status"].get("phase") == "Running" and "distroless" not in first["image"]:
            if first["name"] != "firehose":
                return pod["metadata"]["namespace"], pod["metadata"]["name"]
    raise RuntimeError("no running pod")


async def _one(
    session: aiohttp.ClientSession, url: str, headers: dict[str, str], ssl: object
) -> tuple[int, float]:
    got = 0
    started = time.perf_counter()
    async with session.ws_connect(
        url,
        protocols=("v5.channel.k8s.io",),
        headers=headers,
        ssl=ssl,  # type: ignore[arg-type]
        max_msg_size=0,
    ) as ws:
        async for msg in ws:
            if msg.type is aiohttp.WSMsgType.BINARY and msg.data[:1] == b"\x01":
                got += len(msg.data) - 1
    return got, time.perf_counter() - started


async def _measure(targets: list[tuple[str, str, dict[str, str], object]]) -> dict[str, float]:
    """Best MB/s per target; rounds interleave the targets so load noise hits all alike."""
    best = {label: 0.0 for label, *_ in targets}
    async with aiohttp.ClientSession() as session:
        urls = {}
        for label, base, headers, ssl in targets:
            ns, pod = await _find_pod(session, base, headers=headers, ssl=ssl)
            query = urlencode(
                [("command", "firehose"), ("command", f"{SIZE_MB}M"), ("stdout", "true")]
            )
            urls[label] = f"{base}/api/v1/namespaces/{ns}/pods/{pod}/exec?{query}"
        for _ in range(ROUNDS):
            for label, _base, headers, ssl in targets:
                got, seconds = await _one(session, urls[label], headers, ssl)
                if got != SIZE_MB * 1024 * 1024:
                    raise RuntimeError(f"{label}: got {got} bytes, expected {SIZE_MB} MiB")
                best[label] = max(best[label], got / seconds / 1e6)
    for label, value in best.items():
        print(f"  {label:<22} {value:8.1f} MB/s  (best of {ROUNDS}, {SIZE_MB} MiB exec stdout)")
    return best


def _wait_port(port: int, proc: subprocess.Popen[bytes], what: str) -> None:
    deadline = time.monotonic() + 20
    while time.monotonic() < deadline:
        if proc.poll() is not None:
            raise RuntimeError(f"{what} exited with {proc.returncode} (see its log)")
        with socket.socket() as s:
            if s.connect_ex(("127.0.0.1", port)) == 0:
                return
        time.sleep(0.1)
    raise RuntimeError(f"{what} did not listen on {port}")


def main() -> None:
    """Simulator, kubelantern and kubectl proxy each in their own process (fair: no
    shared GIL with the benchmark client), all on loopback."""
    from tests.conftest import KUBE_TOKEN
    from tests.harness.kubeconfig import Context, write_kubeconfig
    from tests.harness.pki import make_pki

    tmp = Path(tempfile.mkdtemp(prefix="kl-bench-ws-"))
    pki = make_pki(tmp)
    python = sys.executable
    procs: list[subprocess.Popen[bytes]] = []

    def spawn(cmd: list[str], port: int, what: str, env: dict[str, str] | None = None) -> None:
        # Output to a file, never a pipe nobody reads (a full pipe would stall the server).
        logfile = open(tmp / f"{what.replace(' ', '-')}.log", "wb")
        proc = subprocess.Popen(
            cmd, stdout=logfile, stderr=subprocess.STDOUT, env={**os.environ, **(env or {})}
        )
        logfile.close()
        procs.append(proc)
        _wait_port(port, proc, what)

    try:
        sim_port = _free_port()
        spawn(
            [
                python,
                "-m",
                "kubelantern.sim",
                "--port",
                str(sim_port),
                "--tls-cert",
                str(tmp / "server.crt"),
                "--tls-key",
                str(tmp / "server.key"),
            ],
            sim_port,
            "simulator",
        )
        sim_url = f"https://127.0.0.1:{sim_port}"
        kubeconfig = write_kubeconfig(
            tmp / "config", [Context("bench", sim_url, pki.ca_pem, KUBE_TOKEN)]
        )
        lantern_port = _free_port()
        spawn(
            [
                python,
                "-c",
                "import sys; from kubelantern.cli import main; sys.exit(main())",
                "serve",
                "--kubeconfig",
                str(kubeconfig),
                "--port",
                str(lantern_port),
                "--no-token",
            ],
            lantern_port,
            "kubelantern",
        )
        relay_port = _free_port()
        spawn(
            [
                python,
                "-c",
                "import sys; from kubelantern.cli import main; sys.exit(main())",
                "serve",
                "--kubeconfig",
                str(kubeconfig),
                "--port",
                str(relay_port),
                "--no-token",
            ],
            relay_port,
            "kubelantern-messages",
            env={"KUBELANTERN_WS_FASTPATH": "0"},
        )
        kubectl = shutil.which("kubectl")
        proxy_port = _free_port()
        if kubectl:
            spawn(
                [
                    kubectl,
                    "--kubeconfig",
                    str(kubeconfig),
                    "proxy",
                    f"--port={proxy_port}",
                    "--reject-paths=^$",
                ],
                proxy_port,
                "kubectl proxy",
            )
        ssl = pki.client_context()
        auth = {"Authorization": f"Bearer {KUBE_TOKEN}"}

        targets: list[tuple[str, str, dict[str, str], object]] = [
            ("direct", sim_url, auth, ssl),
            ("kubelantern", f"http://127.0.0.1:{lantern_port}/clusters/bench", {}, True),
            ("kubelantern (messages)", f"http://127.0.0.1:{relay_port}/clusters/bench", {}, True),
        ]
        if kubectl:
            targets.append(("kubectl proxy", f"http://127.0.0.1:{proxy_port}", {}, True))

        async def run() -> dict[str, float]:
            return await _measure(targets)

        results = asyncio.run(run())
        ours = results["kubelantern"]
        print(f"  kubelantern / direct        = {ours / results['direct']:.2f}")
        fast_gain = ours / results["kubelantern (messages)"]
        print(f"  fast path / message relay   = {fast_gain:.2f}")
        if "kubectl proxy" in results:
            print(f"  kubelantern / kubectl proxy = {ours / results['kubectl proxy']:.2f}")
        else:
            print("  kubectl not found: no kubectl proxy comparison")
    finally:
        for proc in procs:
            proc.terminate()
        for proc in procs:
            try:
                proc.wait(timeout=10)
            except subprocess.TimeoutExpired:
                proc.kill()


if __name__ == "__main__":
    main()
