"""Exec/attach over SPDY/3.1 on the record (issue 10 §2): real kubectl told to use SPDY
(`KUBECTL_REMOTE_COMMAND_WEBSOCKETS=false`, what kubectl before 1.30 always does) through
`serve --record-sessions`. The upgrade tunnel passes the
bytes untouched and its observer writes the asciicast: header, output, resizes, input
only with --record-input, the exit code from the error stream's Status; 0600 in 0700 and
no token inside."""

from __future__ import annotations

import asyncio
import json
import os
import signal
import stat
import subprocess
import time
import urllib.request
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest

from kubelantern.settings import Settings
from tests.harness.kubectl import kubectl_command, kubectl_env
from tests.harness.kubectl_matrix import (
    Target,
    _read_until,
    _set_size,
    _wait_for_size,
    find_pods,
    kubectl_binary,
    op_cp,
    op_port_forward,
)
from tests.harness.proxy import cluster_base, eventually, running_pod
from tests.harness.servers import ServerThread
from tests.harness.stack import KUBE_TOKEN

pytestmark = pytest.mark.kubectl


@pytest.fixture
def served(
    lantern_factory: Callable[..., ServerThread], kubeconfig: Any
) -> Callable[..., ServerThread]:
    def make(**changes: Any) -> ServerThread:
        # No launch token: kubectl sends no bearer over plain http (the TLS port's
        # kubeconfig is the matrix's business); the cluster's token must stay out anyway.
        return lantern_factory(Settings(kubeconfigs=(kubeconfig,), launch_token=None), **changes)

    return make


def argv(kubectl: str, lantern: ServerThread, folder: Path, *args: str) -> list[str]:
    server = cluster_base(lantern, "kubernetes")
    return [*kubectl_command(kubectl, server, folder), *args]


def spdy_env(folder: Path) -> dict[str, str]:
    return {**kubectl_env(folder), "KUBECTL_REMOTE_COMMAND_WEBSOCKETS": "false"}


def casts(root: Path) -> list[Path]:
    return sorted(root.rglob("*.cast"))


def read_cast(path: Path) -> tuple[dict[str, Any], list[list[Any]]]:
    # Lines end at \n only: str.splitlines would also split at U+0085, U+2028, ... which
    # JSON strings may hold raw (binary output, as kubectl cp's tar).
    lines = path.read_text().split("\n")[:-1]
    return json.loads(lines[0]), [json.loads(line) for line in lines[1:]]


def one_closed_cast(root: Path, last: str = '"m"') -> Path:
    def ready() -> bool:
        found = casts(root)
        return len(found) == 1 and last in found[0].read_text().splitlines()[-1]

    asyncio.run(eventually(ready, limit=30))
    return casts(root)[0]


def tunnelled(lantern: ServerThread) -> int:
    """Bytes the SPDY tunnel carried back to clients (proof kubectl did not use WebSocket)."""
    req = urllib.request.Request(f"{lantern.url}/metrics")
    with urllib.request.urlopen(req, timeout=10) as r:
        text = r.read().decode()
    return sum(
        int(line.rsplit(" ", 1)[1])
        for line in text.splitlines()
        if line.startswith("kubelantern_tunnel_bytes_total{") and 'direction="down"' in line
    )


def went_through_the_tunnel(lantern: ServerThread) -> None:
    """The tunnel counts its bytes when it ends, a moment after kubectl did: wait for it."""
    asyncio.run(eventually(lambda: tunnelled(lantern) > 0, limit=30))


def no_secrets(path: Path) -> None:
    assert KUBE_TOKEN not in path.read_text()


def test_kubectl_exec_tty_over_spdy_is_recorded(
    served: Callable[..., ServerThread], kubectl: str, tmp_path: Path
) -> None:
    root = tmp_path / "rec"
    lantern = served(record_sessions=root)
    ns, pod, container = running_pod(lantern, "kubernetes")
    master, slave = os.openpty()
    _set_size(slave, 30, 100)
    proc = subprocess.Popen(
        argv(kubectl, lantern, tmp_path, "exec", "-it", "-n", ns, pod, "-c", container, "--", "sh"),
        stdin=slave,
        stdout=slave,
        stderr=slave,
        env=spdy_env(tmp_path),
        start_new_session=True,
    )
    os.close(slave)
    seen = bytearray()
    deadline = time.monotonic() + 60
    try:
        _read_until(master, b"# ", seen, deadline)
        _wait_for_size(master, b"30 100", seen, deadline)
        os.write(master, b"echo typed-'in'-quotes\n")  # output differs from the echo
        _read_until(master, b"typed-in-quotes", seen, deadline)
        _set_size(master, 40, 132)
        proc.send_signal(signal.SIGWINCH)
        _wait_for_size(master, b"40 132", seen, deadline)
        os.write(master, b"exit 5\n")
        code = proc.wait(timeout=max(1.0, deadline - time.monotonic()))
        assert code == 5, f"exit {code}; terminal: {bytes(seen[-300:])!r}"
    finally:
        if proc.poll() is None:
            proc.kill()
            proc.wait()
        os.close(master)
    went_through_the_tunnel(lantern)
    path = one_closed_cast(root)
    assert path.parent.parent.parent == root and path.parent.parent.name == "kind-dev"
    assert stat.S_IMODE(path.stat().st_mode) == 0o600
    assert stat.S_IMODE(path.parent.stat().st_mode) == 0o700
    assert stat.S_IMODE(path.parent.parent.stat().st_mode) == 0o700
    header, events = read_cast(path)
    assert header["version"] == 2 and isinstance(header["timestamp"], int)
    assert (header["width"], header["height"]) == (100, 30)
    assert header["kubelantern"] == {
        "cluster": "kind-dev",
        "namespace": ns,
        "pod": pod,
        "container": container,
        "command": ["sh"],
        "user": "local",
        "client": "127.0.0.1",
        "kind": "exec",
        "tty": True,
    }
    output = "".join(e[2] for e in events if e[1] == "o")
    assert "typed-in-quotes" in output and "40 132" in output
    sizes = [e[2] for e in events if e[1] == "r"]
    assert sizes[0] == "100x30" and sizes[-1] == "132x40"
    assert not [e for e in events if e[1] == "i"]  # typed, but input only with --record-input
    assert events[-1][1:] == ["m", "exit 5"]
    times = [e[0] for e in events]
    assert times == sorted(times)
    no_secrets(path)


@pytest.mark.parametrize("minor", ["default", "1.27"])
def test_kubectl_exec_stdin_over_spdy_records_input_when_asked(
    served: Callable[..., ServerThread], kubectl: str, tmp_path: Path, minor: str
) -> None:
    # kubectl 1.27 speaks SPDY without being told (and offers v4 at most).
    kubectl = kubectl if minor == "default" else kubectl_binary(minor)
    root = tmp_path / "rec"
    lantern = served(record_sessions=root, record_input=True)
    ns, pod, container = running_pod(lantern, "kubernetes")
    command = ["sh", "-c", "cat; echo to-stderr >&2; exit 0"]
    done = subprocess.run(
        argv(
            kubectl, lantern, tmp_path, "exec", "-i", "-n", ns, pod, "-c", container, "--", *command
        ),
        input=b"line one\nline two\n",
        capture_output=True,
        env=spdy_env(tmp_path),
        timeout=60,
        check=False,
    )
    assert done.returncode == 0, done.stderr.decode()[:3000]
    assert done.stdout == b"line one\nline two\n"
    went_through_the_tunnel(lantern)
    path = one_closed_cast(root)
    header, events = read_cast(path)
    assert header["kubelantern"]["command"] == command
    assert header["kubelantern"]["tty"] is False
    assert (header["width"], header["height"]) == (80, 24)  # no tty: no size was ever sent
    assert "".join(e[2] for e in events if e[1] == "i") == "line one\nline two\n"
    output = "".join(e[2] for e in events if e[1] == "o")
    assert "line one\nline two\n" in output and "to-stderr\n" in output
    assert events[-1][1:] == ["m", "exit 0"]
    no_secrets(path)


def test_kubectl_attach_over_spdy_is_recorded(
    served: Callable[..., ServerThread], kubectl: str, tmp_path: Path
) -> None:
    root = tmp_path / "rec"
    lantern = served(record_sessions=root)
    ns, pod, container = running_pod(lantern, "kubernetes")
    proc = subprocess.Popen(
        argv(kubectl, lantern, tmp_path, "attach", "-i", "-n", ns, pod, "-c", container),
        stdin=subprocess.PIPE,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        env=spdy_env(tmp_path),
    )
    assert proc.stdin is not None and proc.stdout is not None
    try:
        seen = bytearray()
        deadline = time.monotonic() + 60
        _read_until(proc.stdout.fileno(), b"main process tick", seen, deadline)
        proc.stdin.write(b"hello attach\n")
        proc.stdin.flush()
        _read_until(proc.stdout.fileno(), b"got: hello attach", seen, deadline)
        # Written while the session runs (a crash loses at most a second).
        asyncio.run(
            eventually(
                lambda: bool(casts(root)) and "got: hello attach" in casts(root)[0].read_text(),
                limit=30,
            )
        )
    finally:
        proc.terminate()
        proc.communicate(timeout=30)
    went_through_the_tunnel(lantern)
    path = one_closed_cast(root, last="")
    header, events = read_cast(path)
    meta = header["kubelantern"]
    assert (meta["kind"], meta["pod"], meta["command"]) == ("attach", pod, [])
    assert "got: hello attach" in "".join(e[2] for e in events if e[1] == "o")
    assert not [e for e in events if e[1] == "i"]
    no_secrets(path)


def test_port_forward_with_recording_on_is_spliced_unrecorded(
    served: Callable[..., ServerThread], kubectl: str, tmp_path: Path
) -> None:
    """Only a pod's exec/attach is watched: a SPDY port-forward keeps the plain splice."""
    root = tmp_path / "rec"
    lantern = served(record_sessions=root)
    server = cluster_base(lantern, "kubernetes")
    target = Target(
        tuple(kubectl_command(kubectl, server, tmp_path)[1:]),
        {**spdy_env(tmp_path), "KUBECTL_PORT_FORWARD_WEBSOCKETS": "false"},
        tmp_path,
    )
    op_port_forward(kubectl, target, find_pods(kubectl, target))
    went_through_the_tunnel(lantern)
    assert casts(root) == []


def test_kubectl_cp_through_a_recorded_tunnel_round_trips(
    served: Callable[..., ServerThread], kubectl: str, tmp_path: Path
) -> None:
    """cp is an exec of tar: recorded (binary output and all), and its bytes pass unchanged."""
    root = tmp_path / "rec"
    lantern = served(record_sessions=root)
    server = cluster_base(lantern, "kubernetes")
    target = Target(
        tuple(kubectl_command(kubectl, server, tmp_path)[1:]), spdy_env(tmp_path), tmp_path
    )
    op_cp(kubectl, target, find_pods(kubectl, target))  # 200 KB up, back, compared
    went_through_the_tunnel(lantern)
    asyncio.run(eventually(lambda: len(casts(root)) >= 2, limit=30))
    commands = [read_cast(p)[0]["kubelantern"]["command"] for p in casts(root)]
    assert sum(c[:1] == ["tar"] for c in commands) == 2, commands
