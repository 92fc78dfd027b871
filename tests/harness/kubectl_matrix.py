"""The kubectl matrix: every streaming operation a user runs, with one real kubectl binary
of a given minor version, against one cluster (the simulator directly, or kubelantern).

Each operation is run to its end and checked; a cell returns {operation: problem} for the
ones that failed, so a report shows the whole row at once. The versioned binaries live
beside the `kubectl` dispatcher (`kubectl.1.27` ... `kubectl.1.33`); a missing one is a
test failure that says so, never a silent skip.
"""

from __future__ import annotations

import fcntl
import json
import os
import re
import select
import signal
import socket
import struct
import subprocess
import termios
import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest

KUBECTL_DIR = Path(os.environ.get("KUBECTL_VERSIONS_DIR", "/usr/lib/google-cloud-sdk/bin"))
PAYLOAD_SIZE = 1 << 20
OPERATIONS = (
    "exec",
    "exit-code",
    "exec-stdin",
    "exec-tty-resize",
    "cp",
    "port-forward",
    "logs-follow",
    "attach",
)


def kubectl_binary(minor: str) -> str:
    """Path of `kubectl.<minor>`; fails the test with what is missing and where."""
    path = KUBECTL_DIR / f"kubectl.{minor}"
    if not os.access(path, os.X_OK):
        pytest.fail(
            f"kubectl.{minor} is missing from {KUBECTL_DIR}: the kubectl matrix needs the real "
            f"binary (install it there, or point KUBECTL_VERSIONS_DIR at a folder holding "
            f"kubectl.{minor})",
            pytrace=False,
        )
    return str(path)


@dataclass(frozen=True)
class Target:
    """How to point kubectl at one cluster: extra argv (e.g. --kubeconfig/--context or
    --server) and the environment (HOME keeps the discovery cache in the test folder)."""

    args: tuple[str, ...]
    env: dict[str, str]
    folder: Path


@dataclass(frozen=True)
class Pods:
    namespace: str
    pod: str
    container: str
    echo_namespace: str
    echo_pod: str
    echo_port: int


def _argv(kubectl: str, target: Target, *args: str) -> list[str]:
    return [kubectl, *target.args, *args]


def run(
    kubectl: str, target: Target, *args: str, stdin: bytes | None = None, timeout: float = 30
) -> subprocess.CompletedProcess[bytes]:
    return subprocess.run(
        _argv(kubectl, target, *args),
        input=stdin,
        capture_output=True,
        env=target.env,
        timeout=timeout,
        check=False,
    )


def find_pods(kubectl: str, target: Target) -> Pods:
    """A running pod with a shell and one with an echo port (any declared non-HTTP port)."""
    done = run(kubectl, target, "get", "pods", "-A", "-o", "json")
    assert done.returncode == 0, done.stderr.decode()
    shell: tuple[str, str, str] | None = None
    echo: tuple[str, str, int] | None = None
    for item in json.loads(done.stdout)["items"]:
        if (item.get("status") or {}).get("phase") != "Running":
            continue
        meta, containers = item["metadata"], item["spec"]["containers"]
        image = containers[0].get("image", "")
        if shell is None and not any(x in image for x in ("distroless", "scratch", "pause")):
            shell = (meta["namespace"], meta["name"], containers[0]["name"])
        for c in containers:
            for port in c.get("ports") or []:
                if (
                    echo is None
                    and port["containerPort"] not in (80, 8080)
                    and not str(port.get("name", "")).startswith("http")
                ):
                    echo = (meta["namespace"], meta["name"], port["containerPort"])
    assert shell is not None and echo is not None, "no running shell pod or echo port"
    return Pods(*shell, *echo)


def _check(done: subprocess.CompletedProcess[bytes], code: int = 0) -> None:
    assert done.returncode == code, (
        f"exit {done.returncode} (wanted {code}): {done.stderr.decode(errors='replace')[-400:]}"
    )


def op_exec(kubectl: str, t: Target, p: Pods) -> None:
    done = run(
        kubectl,
        t,
        "exec",
        "-n",
        p.namespace,
        p.pod,
        "-c",
        p.container,
        "--",
        "echo",
        "hello",
        "matrix",
    )
    _check(done)
    assert done.stdout == b"hello matrix\n", done.stdout


def op_exit_code(kubectl: str, t: Target, p: Pods) -> None:
    done = run(
        kubectl,
        t,
        "exec",
        "-n",
        p.namespace,
        p.pod,
        "-c",
        p.container,
        "--",
        "sh",
        "-c",
        "echo bye; exit 3",
    )
    _check(done, 3)
    assert done.stdout == b"bye\n", done.stdout


def op_exec_stdin(kubectl: str, t: Target, p: Pods) -> None:
    data = b"first line\nsecond line\n" * 100
    done = run(
        kubectl,
        t,
        "exec",
        "-i",
        "-n",
        p.namespace,
        p.pod,
        "-c",
        p.container,
        "--",
        "cat",
        stdin=data,
    )
    _check(done)
    assert done.stdout == data, f"{len(done.stdout)} bytes back of {len(data)}"


def _read_until(fd: int, needle: bytes, seen: bytearray, deadline: float) -> None:
    while needle not in seen:
        left = deadline - time.monotonic()
        assert left > 0, f"timed out waiting for {needle!r}; got {bytes(seen[-300:])!r}"
        ready, _, _ = select.select([fd], [], [], left)
        if ready:
            try:
                chunk = os.read(fd, 4096)
            except OSError:
                chunk = b""
            assert chunk, f"the terminal closed before {needle!r}; got {bytes(seen[-300:])!r}"
            seen += chunk


def _read_more(fd: int, seen: bytearray, deadline: float) -> None:
    left = deadline - time.monotonic()
    assert left > 0, f"timed out; got {bytes(seen[-300:])!r}"
    ready, _, _ = select.select([fd], [], [], left)
    if ready:
        try:
            chunk = os.read(fd, 4096)
        except OSError:
            chunk = b""
        assert chunk, f"the terminal closed; got {bytes(seen[-300:])!r}"
        seen += chunk


def _set_size(fd: int, rows: int, cols: int) -> None:
    fcntl.ioctl(fd, termios.TIOCSWINSZ, struct.pack("HHHH", rows, cols, 0, 0))


def _wait_for_size(fd: int, size: bytes, seen: bytearray, deadline: float) -> None:
    """`stty size` at the prompt until it prints `size` (each try waits for its prompt)."""
    while True:
        start = len(seen)
        os.write(fd, b"stty size\n")
        # The answer is complete when a fresh prompt follows a newline.
        while not (b"\n" in seen[start:] and seen.endswith(b"# ")):
            _read_more(fd, seen, deadline)
        if size in seen[start:]:
            return
        assert time.monotonic() < deadline, (
            f"the terminal never reported {size!r}: {bytes(seen[-300:])!r}"
        )
        time.sleep(0.2)


def op_exec_tty_resize(
    kubectl: str,
    t: Target,
    p: Pods,
    typed: tuple[tuple[bytes, bytes], ...] = (),
    limit: float = 30,
) -> bytes:
    """`exec -it sh` in a pty: the first size, the lines in `typed` (each sent once the first
    size is seen, until its expected output), a resize, `exit 5`. Returns what the terminal
    showed."""
    master, slave = os.openpty()
    _set_size(slave, 30, 100)
    proc = subprocess.Popen(
        _argv(kubectl, t, "exec", "-it", "-n", p.namespace, p.pod, "-c", p.container, "--", "sh"),
        stdin=slave,
        stdout=slave,
        stderr=slave,
        env=t.env,
        start_new_session=True,
    )
    os.close(slave)
    seen = bytearray()
    deadline = time.monotonic() + limit
    try:
        # Type only at the prompt, like a person. The first size travels on its own stream
        # and may land after the prompt under load: ask again until it has arrived.
        _read_until(master, b"# ", seen, deadline)
        _wait_for_size(master, b"30 100", seen, deadline)
        for line, expected in typed:
            os.write(master, line)
            _read_until(master, expected, seen, deadline)
        _set_size(master, 40, 132)
        proc.send_signal(signal.SIGWINCH)
        _wait_for_size(master, b"40 132", seen, deadline)
        os.write(master, b"exit 5\n")
        code = proc.wait(timeout=max(1.0, deadline - time.monotonic()))
        assert code == 5, f"exit {code} (wanted 5); terminal: {bytes(seen[-300:])!r}"
    finally:
        if proc.poll() is None:
            proc.kill()
            proc.wait()
        os.close(master)
    return bytes(seen)


def op_cp(kubectl: str, t: Target, p: Pods) -> None:
    up = t.folder / "cp-up.bin"
    down = t.folder / "cp-down.bin"
    up.write_bytes(os.urandom(200_000))
    remote = f"/tmp/matrix-{os.getpid()}-{time.monotonic_ns()}.bin"
    _check(run(kubectl, t, "cp", "-c", p.container, str(up), f"{p.namespace}/{p.pod}:{remote}"))
    _check(run(kubectl, t, "cp", "-c", p.container, f"{p.namespace}/{p.pod}:{remote}", str(down)))
    assert down.read_bytes() == up.read_bytes(), "the file came back different"


def _start(kubectl: str, t: Target, *args: str) -> subprocess.Popen[bytes]:
    return subprocess.Popen(
        _argv(kubectl, t, *args),
        stdin=subprocess.PIPE,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        env=t.env,
    )


def _stop(proc: subprocess.Popen[bytes]) -> bytes:
    if proc.poll() is None:
        proc.terminate()
    try:
        _, err = proc.communicate(timeout=10)
    except subprocess.TimeoutExpired:
        proc.kill()
        _, err = proc.communicate()
    return err


def _line_with(proc: subprocess.Popen[bytes], needle: bytes, within: float = 20) -> bytes:
    assert proc.stdout is not None
    fd = proc.stdout.fileno()
    seen = bytearray()
    _read_until(fd, needle, seen, time.monotonic() + within)
    return bytes(seen)


def op_port_forward(kubectl: str, t: Target, p: Pods) -> None:
    proc = _start(kubectl, t, "port-forward", "-n", p.echo_namespace, p.echo_pod, f":{p.echo_port}")
    try:
        try:
            first = _line_with(proc, b"\n")
        except AssertionError:
            raise AssertionError(
                f"no listener: {_stop(proc).decode(errors='replace')[-400:]}"
            ) from None
        match = re.search(rb"127\.0\.0\.1:(\d+)", first)
        assert match, f"unexpected output {first!r}"
        payload = os.urandom(PAYLOAD_SIZE)
        with socket.create_connection(("127.0.0.1", int(match.group(1))), timeout=30) as s:
            s.sendall(payload)
            s.shutdown(socket.SHUT_WR)
            got = bytearray()
            while chunk := s.recv(1 << 16):
                got += chunk
        assert got == payload, f"{len(got)} bytes came back of {len(payload)}"
    finally:
        _stop(proc)


def op_logs_follow(kubectl: str, t: Target, p: Pods) -> None:
    proc = _start(
        kubectl, t, "logs", "-f", "--tail", "2", "-n", p.namespace, p.pod, "-c", p.container
    )
    try:
        _line_with(proc, b"\n")
        assert proc.poll() is None, "logs -f ended by itself"
    finally:
        _stop(proc)


def op_attach(kubectl: str, t: Target, p: Pods) -> None:
    proc = _start(kubectl, t, "attach", "-i", "-n", p.namespace, p.pod, "-c", p.container)
    try:
        _line_with(proc, b"main process tick")
        assert proc.stdin is not None
        proc.stdin.write(b"hello attach\n")
        proc.stdin.flush()
        _line_with(proc, b"got: hello attach")
    finally:
        _stop(proc)


OPS: dict[str, Callable[[str, Target, Pods], None]] = {
    "exec": op_exec,
    "exit-code": op_exit_code,
    "exec-stdin": op_exec_stdin,
    "exec-tty-resize": op_exec_tty_resize,
    "cp": op_cp,
    "port-forward": op_port_forward,
    "logs-follow": op_logs_follow,
    "attach": op_attach,
}
assert tuple(OPS) == OPERATIONS


def run_cell(kubectl: str, target: Target, ops: tuple[str, ...] = OPERATIONS) -> dict[str, str]:
    """Run `ops`; {operation: problem} for each that failed (empty: the cell passed)."""
    try:
        pods = find_pods(kubectl, target)
    except (AssertionError, subprocess.TimeoutExpired) as exc:
        return {op: f"finding pods failed: {exc}" for op in ops}
    problems: dict[str, str] = {}
    for op in ops:
        try:
            OPS[op](kubectl, target, pods)
        except (AssertionError, subprocess.TimeoutExpired, OSError) as exc:
            problems[op] = str(exc) or type(exc).__name__
    return problems


def describe(problems: dict[str, Any]) -> str:
    return "\n".join(f"  {op}: {why}" for op, why in problems.items())
