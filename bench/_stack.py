"""A fresh process stack for the benchmark: the simulator over TLS, kubelantern (and any
variants, e.g. with glibc's malloc defaults) and `kubectl proxy`, each its own process on
loopback, torn down on exit. Fresh per stack because a process's early allocations decide
its later behaviour (issue 12: the bimodal malloc state)."""

from __future__ import annotations

import json
import os
import shutil
import socket
import ssl
import subprocess
import sys
import time
import urllib.request
from collections.abc import Iterator, Mapping
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import NamedTuple

from bench._clients import Endpoint

ROOT = Path(__file__).resolve().parent.parent
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))

from tests.harness.kubeconfig import Context, write_kubeconfig  # noqa: E402
from tests.harness.pki import Pki, make_pki  # noqa: E402
from tests.harness.servers import free_port as free_port  # noqa: E402  (re-exported)
from tests.harness.stack import KUBE_TOKEN as KUBE_TOKEN  # noqa: E402  (re-exported)

FIREHOSE_ANNOTATION = "sim.kubelantern.io/firehose-bytes"


def wait_port(port: int, proc: subprocess.Popen[bytes], what: str, log: Path) -> None:
    deadline = time.monotonic() + 30
    while time.monotonic() < deadline:
        if proc.poll() is not None:
            raise RuntimeError(f"{what} exited with {proc.returncode}; see {log}")
        with socket.socket() as s:
            if s.connect_ex(("127.0.0.1", port)) == 0:
                return
        time.sleep(0.02)
    raise RuntimeError(f"{what} did not listen on {port}; see {log}")


@dataclass
class Stack:
    """The running processes of one stack and the paths to the cluster through them."""

    folder: Path
    pki: Pki
    kubeconfig: Path
    sim: Endpoint
    targets: list[Endpoint]  # direct first
    procs: list[subprocess.Popen[bytes]] = field(default_factory=list)
    shell: tuple[str, str, str] = ("", "", "")  # namespace, pod, container for exec
    sim_pid: int | None = None

    @property
    def pids(self) -> list[int]:
        """Every process of the stack, the simulator's too: its CPU (a third to a half of a
        transfer's) is the stack's, not the machine's noise."""
        return [p.pid for p in self.procs] + ([self.sim_pid] if self.sim_pid else [])

    def target(self, label: str) -> Endpoint:
        return next(t for t in self.targets if t.label == label)

    def api(self, method: str, path: str, body: object | None = None) -> object:
        """A setup call straight to the simulator (JSON in and out)."""
        data = None if body is None else json.dumps(body).encode()
        ctype = "application/merge-patch+json" if method == "PATCH" else "application/json"
        req = urllib.request.Request(
            self.sim.base + path,
            data=data,
            method=method,
            headers={**self.sim.headers, "Content-Type": ctype},
        )
        with urllib.request.urlopen(req, context=self.sim.tls, timeout=30) as resp:
            return json.loads(resp.read())

    def set_firehose(self, size: int) -> None:
        """The log size the benchmark pod `bench/bulk` streams (its annotation)."""
        self.api(
            "PATCH",
            "/api/v1/namespaces/bench/pods/bulk",
            {"metadata": {"annotations": {FIREHOSE_ANNOTATION: str(size)}}},
        )

    def shell_pod(self) -> tuple[str, str, str]:
        """A running pod whose first container has a shell (for exec): ns, name, container."""
        items = self.api("GET", "/api/v1/pods")["items"]  # type: ignore[index]
        for pod in items:
            first = pod["spec"]["containers"][0]
            running = pod["status"].get("phase") == "Running"
            if running and "distroless" not in first["image"] and first["name"] != "firehose":
                return pod["metadata"]["namespace"], pod["metadata"]["name"], first["name"]
        raise RuntimeError("the simulator has no running pod with a shell")


def spawn(
    cmd: list[str], what: str, folder: Path, env: Mapping[str, str] | None = None
) -> tuple[subprocess.Popen[bytes], int]:
    """Start a server on a free port and wait until it listens: (process, port)."""
    port = free_port()
    log = folder / f"{what.replace(' ', '-').replace('/', '-')}.log"
    # Output to a file, never a pipe nobody reads (a full pipe would stall the server).
    with open(log, "ab") as out:
        proc = subprocess.Popen(
            [*cmd, f"--port={port}"],
            stdout=out,
            stderr=subprocess.STDOUT,
            env={**os.environ, **(env or {})},
        )
    try:
        wait_port(port, proc, what, log)
    except BaseException:
        proc.kill()
        proc.wait()
        raise
    return proc, port


SERVE_ARGS = "KUBELANTERN_SERVE_ARGS"  # a variant's extra `serve` flags (not an env variable)


def serve_cmd(kubeconfig: Path) -> list[str]:
    return [sys.executable, "-m", "kubelantern", "serve", "--kubeconfig", str(kubeconfig),
            "--no-token", "--log-level", "warning"]  # fmt: skip


def stop(procs: list[subprocess.Popen[bytes]]) -> None:
    for proc in procs:
        if proc.poll() is None:
            proc.terminate()
    for proc in procs:
        try:
            proc.wait(timeout=10)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait()


class Simulator(NamedTuple):
    url: str
    pki: Pki
    token: str
    pid: int


@contextmanager
def simulator(folder: Path) -> Iterator[Simulator]:
    """The simulator over TLS on a free port: its URL, the PKI it serves, a valid token."""
    folder.mkdir(parents=True, exist_ok=True)
    pki = make_pki(folder)
    # 64 KiB read buffers, not asyncio's 256 KiB: the idle rows hold 5,000 connections per
    # proxy to the simulator (1.25 GB of its RSS each at 256 KiB).
    proc, port = spawn(
        [sys.executable, "-m", "kubesim", "--tls-cert", str(folder / "server.crt"),
         "--tls-key", str(folder / "server.key"), "--tls-read-buffer", str(64 * 1024)],
        "simulator", folder,
    )  # fmt: skip
    try:
        yield Simulator(f"https://127.0.0.1:{port}", pki, KUBE_TOKEN, proc.pid)
    finally:
        stop([proc])


@contextmanager
def stack(
    folder: Path,
    variants: Mapping[str, Mapping[str, str]] | None = None,
    *,
    kubectl: bool = True,
) -> Iterator[Stack]:
    """direct, kubelantern, one kubelantern per variant (label → extra environment) and
    `kubectl proxy` (when kubectl is installed and `kubectl`)."""
    procs: list[subprocess.Popen[bytes]] = []
    with simulator(folder) as (sim_url, pki, _, sim_pid):
        try:
            kubeconfig = write_kubeconfig(
                folder / "config", [Context("bench", sim_url, pki.ca_pem, KUBE_TOKEN)]
            )
            tls = ssl.create_default_context(cafile=str(pki.ca_file))
            sim = Endpoint("direct", sim_url, {"Authorization": f"Bearer {KUBE_TOKEN}"}, tls)
            targets = [sim]
            for label, env in {"kubelantern": {}, **(variants or {})}.items():
                # A variant may add serve flags (`{folder}`: this stack's folder), e.g.
                # 'recording:KUBELANTERN_SERVE_ARGS=--record-sessions {folder}/casts'.
                extra = dict(env)
                flags = extra.pop(SERVE_ARGS, "").replace("{folder}", str(folder)).split()
                proc, port = spawn([*serve_cmd(kubeconfig), *flags], label, folder, extra)
                procs.append(proc)
                base = f"http://127.0.0.1:{port}/clusters/bench"
                targets.append(Endpoint(label, base, pid=proc.pid))
            binary = shutil.which("kubectl")
            if kubectl and binary:
                proc, port = spawn(
                    [binary, "--kubeconfig", str(kubeconfig), "proxy", "--reject-paths=^$"],
                    "kubectl proxy",
                    folder,
                )
                procs.append(proc)
                targets.append(Endpoint("kubectl proxy", f"http://127.0.0.1:{port}", pid=proc.pid))
            made = Stack(folder, pki, kubeconfig, sim, targets, procs, sim_pid=sim_pid)
            made.shell = made.shell_pod()
            yield made
        finally:
            stop(procs)
