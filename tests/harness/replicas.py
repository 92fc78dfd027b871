"""Two (or more) `kubelantern serve` processes in team mode with one session secret, behind
the round-robin balancer — the replica set of a Deployment behind its Service, on loopback."""

from __future__ import annotations

import contextlib
import os
import subprocess
import sys
import time
import urllib.request
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

from tests.harness.balancer import Balancer
from tests.harness.oidc_provider import OidcProvider
from tests.harness.pki import Pki
from tests.harness.servers import free_port

BIN = Path(sys.executable).with_name("kubelantern")
SECRET = "replica-secret-0123456789-abcdefghijklm"


@dataclass
class Replicas:
    balancer: Balancer
    procs: list[subprocess.Popen[bytes]]
    ports: list[int]

    @property
    def url(self) -> str:
        return self.balancer.url

    def metrics(self, index: int, session_cookie: str) -> str:
        """One replica's /metrics, asked directly (not through the balancer)."""
        req = urllib.request.Request(
            f"http://127.0.0.1:{self.ports[index]}/metrics",
            headers={"Cookie": f"kl-session={session_cookie}"},
        )
        with urllib.request.urlopen(req, timeout=5) as resp:
            return str(resp.read().decode())


def wait_ready(port: int, proc: subprocess.Popen[bytes], limit: float = 30) -> None:
    deadline = time.monotonic() + limit
    while time.monotonic() < deadline:
        if proc.poll() is not None:
            raise AssertionError(
                f"replica on {port} exited: {proc.stderr.read() if proc.stderr else ''!r}"
            )
        with contextlib.suppress(OSError):
            with urllib.request.urlopen(f"http://127.0.0.1:{port}/readyz", timeout=2) as r:
                if r.status == 200:
                    return
        time.sleep(0.1)
    raise AssertionError(f"replica on {port} not ready within {limit}s")


@contextlib.contextmanager
def replicas(
    idp: OidcProvider, pki: Pki, kubeconfig: Path, home: Path, count: int = 2
) -> Iterator[Replicas]:
    ports = [free_port() for _ in range(count)]
    balancer = Balancer([("127.0.0.1", p) for p in ports]).start()
    env = {
        **{k: v for k, v in os.environ.items() if k not in ("KUBECONFIG", "KUBELANTERN_TOKEN")},
        "HOME": str(home),
        "KUBELANTERN_SESSION_SECRET": SECRET,
        "KUBELANTERN_OIDC_CLIENT_SECRET": str(idp.client_secret),
    }
    procs: list[subprocess.Popen[bytes]] = []
    try:
        for port in ports:
            procs.append(
                subprocess.Popen(
                    [
                        str(BIN), "serve", "--port", str(port), "--kubeconfig", str(kubeconfig),
                        "--public-url", balancer.url,
                        "--oidc-issuer-url", idp.issuer,
                        "--oidc-client-id", idp.client_id,
                        "--oidc-ca-file", str(pki.ca_file),
                    ],
                    stdout=subprocess.DEVNULL,
                    stderr=subprocess.PIPE,
                    env=env,
                )
            )  # fmt: skip
        for port, proc in zip(ports, procs, strict=True):
            wait_ready(port, proc)
        yield Replicas(balancer, procs, ports)
    finally:
        for proc in procs:
            if proc.poll() is None:
                proc.kill()
            proc.wait(timeout=10)
        balancer.stop()
