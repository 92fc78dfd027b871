"""Real clients straight against the simulator over HTTPS: kubectl 1.32 and the Python client.

No kubelantern in between: this checks that the simulator's streaming side speaks the wire
protocols those clients expect (reference sections 1 and 3).
"""

from __future__ import annotations

import fcntl
import json
import os
import select
import signal
import socket
import struct
import subprocess
import termios
import time
import uuid
from pathlib import Path
from typing import Any

import pytest

from tests.harness.kubeconfig import write_kubeconfig
from tests.harness.pki import Pki
from tests.harness.stack import SimCluster

kubernetes = pytest.importorskip("kubernetes")
from kubernetes import client as k8s  # noqa: E402
from kubernetes.stream import portforward, stream  # noqa: E402

NAMESPACE = "stream-tests"  # our own namespace: other tests counting pods are not disturbed


def api_for(sim: SimCluster, pki: Pki) -> Any:
    cfg = k8s.Configuration()
    cfg.host = sim.base_url
    cfg.ssl_ca_cert = str(pki.ca_file)
    assert sim.context.token is not None
    cfg.api_key = {"authorization": f"Bearer {sim.context.token}"}
    return k8s.CoreV1Api(k8s.ApiClient(cfg))


def make_pod(api: Any, image: str = "nginx:1.27") -> str:
    name = f"shell-{uuid.uuid4().hex[:6]}"
    try:
        api.create_namespace(
            {"apiVersion": "v1", "kind": "Namespace", "metadata": {"name": NAMESPACE}}
        )
    except k8s.ApiException as exc:
        assert exc.status == 409, exc  # already there
    api.create_namespaced_pod(
        NAMESPACE,
        {
            "apiVersion": "v1",
            "kind": "Pod",
            "metadata": {"name": name},
            "spec": {
                "containers": [
                    {
                        "name": "app",
                        "image": image,
                        "env": [{"name": "GREETING", "value": "from-env"}],
                        "ports": [{"containerPort": 5000}, {"containerPort": 80}],
                    }
                ]
            },
        },
    )
    return name


@pytest.fixture(scope="module")
def kube(sims: dict[str, SimCluster], pki: Pki) -> tuple[SimCluster, Any]:
    sim = sims["kubernetes"]
    return sim, api_for(sim, pki)


def exec_stream(
    api: Any, pod: str, command: list[str], *, stdin: bool = False, stderr: bool = True, **kw: Any
) -> Any:
    """The Python client's exec (no tty) in NAMESPACE; `kw` goes to `stream` as is."""
    return stream(
        api.connect_get_namespaced_pod_exec,
        pod,
        NAMESPACE,
        command=command,
        stdout=True,
        stderr=stderr,
        stdin=stdin,
        tty=False,
        **kw,
    )


def kubectl_argv(kubectl: str, kubeconfig: Path, *args: str) -> list[str]:
    return [kubectl, "--kubeconfig", str(kubeconfig), "-n", NAMESPACE, *args]


def kubectl_run(
    kubectl: str, kubeconfig: Path, *args: str, stdin: bytes | None = None
) -> subprocess.CompletedProcess[bytes]:
    return subprocess.run(
        kubectl_argv(kubectl, kubeconfig, *args),
        input=stdin,
        capture_output=True,
        timeout=60,
        check=False,
    )


def one_kubeconfig(sim: SimCluster, tmp_path: Path) -> Path:
    return write_kubeconfig(tmp_path / "config", [sim.context])


# --- Python client ------------------------------------------------------------------------


def test_python_client_exec_echo(kube: tuple[SimCluster, Any]) -> None:
    _, api = kube
    pod = make_pod(api)
    out = exec_stream(api, pod, ["sh", "-c", "echo hello $GREETING from $(hostname)"])
    assert out == f"hello from-env from {pod}\n"


def test_python_client_exit_code_and_stderr(kube: tuple[SimCluster, Any]) -> None:
    _, api = kube
    pod = make_pod(api)
    resp = exec_stream(
        api, pod, ["sh", "-c", "echo out; echo err >&2; exit 3"], _preload_content=False
    )
    resp.run_forever(timeout=20)
    assert resp.read_stdout() == "out\n"
    assert resp.read_stderr() == "err\n"
    assert resp.returncode == 3


def test_python_client_stdin(kube: tuple[SimCluster, Any]) -> None:
    _, api = kube
    pod = make_pod(api)
    resp = exec_stream(api, pod, ["cat"], stdin=True, _preload_content=False)
    try:
        resp.write_stdin("typed into cat\n")
        got = ""
        for _ in range(50):  # bounded: 50 x 0.2 s
            resp.update(timeout=0.2)
            if resp.peek_stdout():
                got += resp.read_stdout()
            if "\n" in got:
                break
        assert got == "typed into cat\n"
    finally:
        resp.close()


def test_python_client_port_forward_echo_and_http(kube: tuple[SimCluster, Any]) -> None:
    _, api = kube
    pod = make_pod(api)
    pf = portforward(api.connect_get_namespaced_pod_portforward, pod, NAMESPACE, ports="5000,80")
    echo: socket.socket = pf.socket(5000)
    echo.settimeout(10)
    echo.sendall(b"round trip")
    assert echo.recv(1024) == b"round trip"
    web: socket.socket = pf.socket(80)
    web.settimeout(10)
    web.sendall(b"GET / HTTP/1.1\r\nHost: pod\r\n\r\n")
    data = b""
    while b"simulator" not in data:
        chunk = web.recv(4096)
        if not chunk:
            break
        data += chunk
    assert data.startswith(b"HTTP/1.1 200 OK\r\n")
    assert f"Hello from pod {pod}".encode() in data
    echo.close()
    web.close()
    pf.close()


# --- kubectl ------------------------------------------------------------------------------


@pytest.mark.kubectl
def test_kubectl_exec_echo(kubectl: str, kube: tuple[SimCluster, Any], tmp_path: Path) -> None:
    sim, api = kube
    pod = make_pod(api)
    done = kubectl_run(kubectl, one_kubeconfig(sim, tmp_path), "exec", pod, "--", "echo", "hi")
    assert done.returncode == 0, done.stderr.decode()
    assert done.stdout == b"hi\n"
    # kubectl 1.32 speaks only v5 over WebSocket and never fell back to SPDY.
    methods = [
        (r.method, r.header("Sec-WebSocket-Protocol"))
        for r in sim.state.requests
        if r.path.endswith(f"/pods/{pod}/exec")
    ]
    assert methods == [("GET", "v5.channel.k8s.io")]


@pytest.mark.kubectl
def test_kubectl_exec_exit_code(kubectl: str, kube: tuple[SimCluster, Any], tmp_path: Path) -> None:
    sim, api = kube
    pod = make_pod(api)
    kc = one_kubeconfig(sim, tmp_path)
    done = kubectl_run(kubectl, kc, "exec", pod, "--", "sh", "-c", "echo bye; exit 3")
    assert done.returncode == 3
    assert done.stdout == b"bye\n"
    assert b"command terminated with exit code 3" in done.stderr


@pytest.mark.kubectl
def test_kubectl_exec_stdin_half_close(
    kubectl: str, kube: tuple[SimCluster, Any], tmp_path: Path
) -> None:
    sim, api = kube
    pod = make_pod(api)
    kc = one_kubeconfig(sim, tmp_path)
    done = kubectl_run(kubectl, kc, "exec", "-i", pod, "--", "cat", stdin=b"x\nsecond line\n")
    assert done.returncode == 0, done.stderr.decode()
    assert done.stdout == b"x\nsecond line\n"
    done = kubectl_run(kubectl, kc, "exec", "-i", pod, "--", "wc", "-c", stdin=b"12345")
    assert done.stdout == b"5\n"


@pytest.mark.kubectl
def test_kubectl_exec_missing_shell(
    kubectl: str, kube: tuple[SimCluster, Any], tmp_path: Path
) -> None:
    sim, api = kube
    pod = make_pod(api, image="gcr.io/distroless/static-debian12:nonroot")
    done = kubectl_run(kubectl, one_kubeconfig(sim, tmp_path), "exec", pod, "--", "bash")
    assert done.returncode != 0
    assert b'exec: \\"bash\\": executable file not found in $PATH' in done.stderr or (
        b'exec: "bash": executable file not found in $PATH' in done.stderr
    )


@pytest.mark.kubectl
def test_kubectl_exec_through_rancher_prefix(
    kubectl: str, sims: dict[str, SimCluster], pki: Pki, tmp_path: Path
) -> None:
    sim = sims["rancher"]
    pod = make_pod(api_for(sim, pki))
    done = kubectl_run(kubectl, one_kubeconfig(sim, tmp_path), "exec", pod, "--", "hostname")
    assert done.returncode == 0, done.stderr.decode()
    assert done.stdout == f"{pod}\n".encode()


@pytest.mark.kubectl
def test_kubectl_on_legacy_falls_back_to_spdy(
    kubectl: str, sims: dict[str, SimCluster], pki: Pki, tmp_path: Path
) -> None:
    """An old server: kubectl ends up on SPDY (the dispatcher may pick a pre-1.30 kubectl that
    starts there; 1.30+ falls back to it after the v5 403), which the simulator speaks. The
    per-version matrix is tests/kubesim/integration/test_sim_kubectl_matrix.py."""
    sim = sims["legacy"]
    pod = make_pod(api_for(sim, pki))
    done = kubectl_run(kubectl, one_kubeconfig(sim, tmp_path), "exec", pod, "--", "echo", "hi")
    assert done.returncode == 0, done.stderr.decode()
    assert done.stdout == b"hi\n"
    seen = [r.method for r in sim.state.requests if r.path.endswith(f"/pods/{pod}/exec")]
    assert seen[-1] == "POST" and set(seen) <= {"GET", "POST"}


def test_status_json_is_what_clients_parse(kube: tuple[SimCluster, Any]) -> None:
    """The Python client reads causes[0]; the ExitCode cause is first (checked via raw JSON)."""
    _, api = kube
    pod = make_pod(api)
    resp = exec_stream(api, pod, ["false"], stderr=False, _preload_content=False)
    resp.run_forever(timeout=20)
    status = json.loads(resp.read_channel(3))
    assert status["details"]["causes"][0] == {"reason": "ExitCode", "message": "1"}


def _read_until(
    fd: int, needle: bytes, seen: bytearray, timeout: float = 15, start: int = 0
) -> None:
    """Read into `seen` until `needle` shows up at or after `seen[start]`."""
    deadline = time.monotonic() + timeout
    while needle not in seen[start:]:
        left = deadline - time.monotonic()
        assert left > 0, f"timed out waiting for {needle!r}; got {bytes(seen)!r}"
        ready, _, _ = select.select([fd], [], [], left)
        if ready:
            try:
                chunk = os.read(fd, 4096)
            except OSError:  # EIO: the other side closed
                chunk = b""
            assert chunk, f"terminal closed before {needle!r}; got {bytes(seen)!r}"
            seen += chunk


def _set_size(fd: int, rows: int, cols: int) -> None:
    fcntl.ioctl(fd, termios.TIOCSWINSZ, struct.pack("HHHH", rows, cols, 0, 0))


@pytest.mark.kubectl
def test_kubectl_exec_tty_shell_with_resize(
    kubectl: str, kube: tuple[SimCluster, Any], tmp_path: Path
) -> None:
    """`kubectl exec -it` on a real pseudo-terminal: prompt, initial size, SIGWINCH resize."""
    sim, api = kube
    pod = make_pod(api)
    kc = one_kubeconfig(sim, tmp_path)
    master, slave = os.openpty()
    _set_size(slave, 33, 101)
    proc = subprocess.Popen(
        kubectl_argv(kubectl, kc, "exec", "-it", pod, "--", "bash"),
        stdin=slave,
        stdout=slave,
        stderr=slave,
        start_new_session=True,
    )
    os.close(slave)
    seen = bytearray()
    try:
        prompt = f"root@{pod}:/# ".encode()
        _read_until(master, prompt, seen)

        def ask_until(command: bytes, answer: bytes) -> None:
            # kubectl sends sizes on their own stream, unordered with stdin (the first one
            # too, which may trail the prompt under load): ask again until the shell has
            # seen it (bounded), instead of guessing how long kubectl takes.
            deadline = time.monotonic() + 15
            while True:
                mark = len(seen)
                os.write(master, command + b"\r")
                _read_until(master, command, seen, start=mark)
                mark = seen.index(command, mark)
                _read_until(master, prompt, seen, start=mark)
                if answer in seen[mark:]:
                    return
                assert time.monotonic() < deadline, f"never saw {answer!r}; got {bytes(seen)!r}"
                time.sleep(0.1)

        ask_until(b"stty size", b"\r\n33 101\r\n")
        _set_size(master, 50, 160)
        proc.send_signal(signal.SIGWINCH)
        ask_until(b"tput cols", b"\r\n160\r\n")
        os.write(master, b"exit 5\r")
        assert proc.wait(timeout=20) == 5
    finally:
        if proc.poll() is None:
            proc.kill()
            proc.wait(timeout=10)
        os.close(master)


@pytest.mark.kubectl
def test_kubectl_attach_sees_main_process(
    kubectl: str, kube: tuple[SimCluster, Any], tmp_path: Path
) -> None:
    sim, api = kube
    pod = make_pod(api)
    kc = one_kubeconfig(sim, tmp_path)

    def first_tick() -> int:
        proc = subprocess.Popen(
            kubectl_argv(kubectl, kc, "attach", pod),
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
        )
        assert proc.stdout is not None
        seen = bytearray()
        try:
            _read_until(proc.stdout.fileno(), b"\n", seen)
        finally:
            proc.terminate()
            proc.wait(timeout=10)
        line = bytes(seen).split(b"\n")[0].decode()
        assert line.startswith("[app] main process tick "), line
        return int(line.rsplit(" ", 1)[1])

    # Detaching leaves the main process running: a later attach sees later ticks.
    assert first_tick() < first_tick()


@pytest.mark.kubectl
def test_kubectl_cp_both_ways(kubectl: str, kube: tuple[SimCluster, Any], tmp_path: Path) -> None:
    """kubectl cp runs tar over exec; the simulated tar works on the fake filesystem."""
    sim, api = kube
    pod = make_pod(api)
    kc = one_kubeconfig(sim, tmp_path)
    local = tmp_path / "hostname.txt"
    done = kubectl_run(kubectl, kc, "cp", f"{pod}:/etc/hostname", str(local))
    assert done.returncode == 0, done.stderr.decode()
    assert local.read_text() == f"{pod}\n"
    upload = tmp_path / "upload.txt"
    upload.write_text("sent by kubectl cp\n")
    done = kubectl_run(kubectl, kc, "cp", str(upload), f"{pod}:/tmp/upload.txt")
    assert done.returncode == 0, done.stderr.decode()
    done = kubectl_run(kubectl, kc, "exec", pod, "--", "cat", "/tmp/upload.txt")
    assert done.stdout == b"sent by kubectl cp\n"
