"""The benchmark stack: simulator, kubelantern and `kubectl proxy`, each in its own process.

Separate processes keep the comparison fair (no shared GIL with the benchmark client);
everything listens on loopback and is torn down on exit.
"""

from __future__ import annotations

import shutil
import socket
import subprocess
import sys
import tempfile
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from ssl import SSLContext

ROOT = Path(__file__).resolve().parent.parent
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))


@dataclass(frozen=True)
class Stack:
    direct: str  # the simulator's own URL (HTTPS)
    direct_headers: dict[str, str]
    direct_ssl: SSLContext
    lantern: str  # kubelantern's proxy base for the cluster
    kubectl_proxy: str | None  # None when kubectl is missing


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def _wait_port(port: int, proc: subprocess.Popen[bytes], what: str) -> None:
    deadline = time.monotonic() + 20
    while time.monotonic() < deadline:
        if proc.poll() is not None:
            raise RuntimeError(f"{what} exited with {proc.returncode}")
        with socket.socket() as s:
            if s.connect_ex(("127.0.0.1", port)) == 0:
                return
        time.sleep(0.1)
    raise RuntimeError(f"{what} did not listen on {port}")


@contextmanager
def stack() -> Iterator[Stack]:
    from tests.conftest import KUBE_TOKEN
    from tests.harness.kubeconfig import Context, write_kubeconfig
    from tests.harness.pki import make_pki

    tmp = Path(tempfile.mkdtemp(prefix="kl-bench-"))
    pki = make_pki(tmp)
    python = sys.executable
    procs: list[subprocess.Popen[bytes]] = []

    def spawn(cmd: list[str], port: int, what: str) -> None:
        proc = subprocess.Popen(cmd, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        procs.append(proc)
        _wait_port(port, proc, what)

    try:
        sim_port = free_port()
        spawn(
            [python, "-m", "kubelantern.sim", "--port", str(sim_port),
             "--tls-cert", str(tmp / "server.crt"), "--tls-key", str(tmp / "server.key")],
            sim_port,
            "simulator",
        )  # fmt: skip
        sim_url = f"https://127.0.0.1:{sim_port}"
        kubeconfig = write_kubeconfig(
            tmp / "config", [Context("bench", sim_url, pki.ca_pem, KUBE_TOKEN)]
        )
        lantern_port = free_port()
        spawn(
            [python, "-m", "kubelantern", "serve", "--kubeconfig", str(kubeconfig),
             "--port", str(lantern_port), "--no-token", "--log-level", "warning"],
            lantern_port,
            "kubelantern",
        )  # fmt: skip
        kubectl = shutil.which("kubectl")
        proxy_url = None
        if kubectl:
            proxy_port = free_port()
            spawn(
                [kubectl, "--kubeconfig", str(kubeconfig), "proxy", f"--port={proxy_port}",
                 "--reject-paths=^$"],
                proxy_port,
                "kubectl proxy",
            )  # fmt: skip
            proxy_url = f"http://127.0.0.1:{proxy_port}"
        yield Stack(
            direct=sim_url,
            direct_headers={"Authorization": f"Bearer {KUBE_TOKEN}"},
            direct_ssl=pki.client_context(),
            lantern=f"http://127.0.0.1:{lantern_port}/clusters/bench",
            kubectl_proxy=proxy_url,
        )
    finally:
        for proc in procs:
            proc.terminate()
        for proc in procs:
            try:
                proc.wait(timeout=10)
            except subprocess.TimeoutExpired:
                proc.kill()
        shutil.rmtree(tmp, ignore_errors=True)


def report(results: dict[str, float], unit: str) -> None:
    """Print kubelantern's ratios against the baselines measured in the same run."""
    ours = results["kubelantern"]
    for name, value in results.items():
        print(f"  {name:<14} {value:10.1f} {unit}")
    print(f"  kubelantern / direct        = {ours / results['direct']:.2f}")
    if "kubectl proxy" in results:
        print(f"  kubelantern / kubectl proxy = {ours / results['kubectl proxy']:.2f}")
    else:
        print("  kubectl not found: no kubectl proxy comparison")
