"""The benchmark stack: simulator, kubelantern and `kubectl proxy`, each in its own process.

Separate processes keep the comparison fair (no shared GIL with the benchmark client);
everything listens on loopback and is torn down on exit. Rounds interleave the targets
so that load noise on this shared machine hits all of them alike.
"""

from __future__ import annotations

import os
import shutil
import socket
import subprocess
import sys
import tempfile
import time
from collections.abc import Awaitable, Callable, Iterator, Mapping
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from ssl import SSLContext

ROOT = Path(__file__).resolve().parent.parent
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))


@dataclass(frozen=True)
class Target:
    label: str
    base: str  # the cluster's API base URL as this path reaches it
    headers: dict[str, str]
    ssl: SSLContext | bool
    pid: int | None = None  # the proxy's process, whose CPU time is measured (None: direct)


def cpu_seconds(pid: int) -> float:
    """User + system CPU time of a process so far (Linux /proc)."""
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def _wait_port(port: int, proc: subprocess.Popen[bytes], what: str, log: Path) -> None:
    deadline = time.monotonic() + 20
    while time.monotonic() < deadline:
        if proc.poll() is not None:
            raise RuntimeError(f"{what} exited with {proc.returncode}; see {log}")
        with socket.socket() as s:
            if s.connect_ex(("127.0.0.1", port)) == 0:
                return
        time.sleep(0.1)
    raise RuntimeError(f"{what} did not listen on {port}; see {log}")


@contextmanager
def stack(variants: Mapping[str, Mapping[str, str]] | None = None) -> Iterator[list[Target]]:
    """Targets `direct`, `kubelantern`, one per extra kubelantern variant (label → extra
    environment), and `kubectl proxy` when kubectl is installed."""
    from tests.conftest import KUBE_TOKEN
    from tests.harness.kubeconfig import Context, write_kubeconfig
    from tests.harness.pki import make_pki

    tmp = Path(tempfile.mkdtemp(prefix="kl-bench-"))
    pki = make_pki(tmp)
    python = sys.executable
    procs: list[subprocess.Popen[bytes]] = []

    def spawn(cmd: list[str], what: str, env: Mapping[str, str] | None = None) -> int:
        """Start a server on a free port; return the port (its process is procs[-1])."""
        port = free_port()
        log = tmp / f"{what.replace(' ', '-')}.log"
        # Output to a file, never a pipe nobody reads (a full pipe would stall the server).
        with open(log, "wb") as out:
            proc = subprocess.Popen(
                [*cmd, f"--port={port}"],
                stdout=out,
                stderr=subprocess.STDOUT,
                env={**os.environ, **(env or {})},
            )
        procs.append(proc)
        _wait_port(port, proc, what, log)
        return port

    try:
        sim_port = spawn(
            [python, "-m", "kubesim", "--tls-cert", str(tmp / "server.crt"),
             "--tls-key", str(tmp / "server.key")],
            "simulator",
        )  # fmt: skip
        sim_url = f"https://127.0.0.1:{sim_port}"
        kubeconfig = write_kubeconfig(
            tmp / "config", [Context("bench", sim_url, pki.ca_pem, KUBE_TOKEN)]
        )
        serve = [python, "-m", "kubelantern", "serve", "--kubeconfig", str(kubeconfig),
                 "--no-token", "--log-level", "warning"]  # fmt: skip
        targets = [
            Target("direct", sim_url, {"Authorization": f"Bearer {KUBE_TOKEN}"},
                   pki.client_context()),
            Target("kubelantern", f"http://127.0.0.1:{spawn(serve, 'kubelantern')}/clusters/bench",
                   {}, True, procs[-1].pid),
        ]  # fmt: skip
        for label, env in (variants or {}).items():
            port = spawn(serve, label, env)
            targets.append(
                Target(label, f"http://127.0.0.1:{port}/clusters/bench", {}, True, procs[-1].pid)
            )
        kubectl = shutil.which("kubectl")
        if kubectl:
            port = spawn(
                [kubectl, "--kubeconfig", str(kubeconfig), "proxy", "--reject-paths=^$"],
                "kubectl proxy",
            )
            targets.append(
                Target("kubectl proxy", f"http://127.0.0.1:{port}", {}, True, procs[-1].pid)
            )
        yield targets
    finally:
        for proc in procs:
            proc.terminate()
        for proc in procs:
            try:
                proc.wait(timeout=10)
            except subprocess.TimeoutExpired:
                proc.kill()
        shutil.rmtree(tmp, ignore_errors=True)


async def best_of(
    targets: list[Target], rounds: int, one: Callable[[Target], Awaitable[float]], *, low: bool
) -> dict[str, float]:
    """Best value per target over `rounds` interleaved rounds (lowest when `low`)."""
    pick = min if low else max
    best: dict[str, float] = {}
    for _ in range(rounds):
        for t in targets:
            value = await one(t)
            best[t.label] = pick(best.get(t.label, value), value)
    return best


async def cpu_per_gb(
    targets: list[Target], rounds: int, one: Callable[[Target], Awaitable[int]]
) -> dict[str, float]:
    """CPU seconds each proxy process spends per GB moved (`one` returns the bytes moved).

    Less noisy than throughput on a shared 2-core machine: it measures the proxy's own
    work, not how the scheduler shared the cores with the client and the simulator.
    """
    cpu: dict[str, float] = {}
    moved: dict[str, int] = {}
    for _ in range(rounds):
        for t in targets:
            if t.pid is None:
                continue
            before = cpu_seconds(t.pid)
            moved[t.label] = moved.get(t.label, 0) + await one(t)
            cpu[t.label] = cpu.get(t.label, 0.0) + cpu_seconds(t.pid) - before
    return {label: cpu[label] / (moved[label] / 1e9) for label in cpu}


def report(title: str, results: dict[str, float], unit: str) -> None:
    """Print kubelantern's ratios against the baselines measured in the same run."""
    print(title)
    ours = results["kubelantern"]
    for name, value in results.items():
        print(f"  {name:<24} {value:10.2f} {unit}")
    for name, value in results.items():
        if name != "kubelantern":
            print(f"  kubelantern / {name:<13} = {ours / value:.2f}")
    if "kubectl proxy" not in results:
        print("  kubectl not found: no kubectl proxy comparison")
