"""Running an exec credential plugin as a bounded child process (issue 10, defect 6).

A plugin is a program we do not control. It may fork a helper that keeps our pipes open after
the plugin itself is gone (so reading to EOF never ends), hang, or print without end. So:
- it runs in its own process group (a new session), and on timeout or overflow the whole
  group gets SIGTERM, then SIGKILL after a short grace; the plugin itself is always reaped;
- the timeout covers the whole run, pipes included: once the plugin has exited, a helper
  still holding its pipes gets PIPE_GRACE seconds before the group is killed;
- stdout is bounded (beyond STDOUT_LIMIT the group is killed and the run fails), stderr is
  drained but only its first STDERR_KEEP bytes are kept.
"""

from __future__ import annotations

import asyncio
import contextlib
import os
import signal
from collections.abc import Mapping, Sequence
from dataclasses import dataclass

STDOUT_LIMIT = 1 << 20  # an ExecCredential is a few KiB; a certificate chain tens of KiB
STDERR_KEEP = 64 << 10  # bytes of stderr kept (the rest is read and dropped)
KILL_GRACE = 0.5  # seconds between SIGTERM and SIGKILL to the plugin's group
PIPE_GRACE = 1.0  # seconds a plugin's leftover child may hold the pipes after it exited
CHUNK = 64 << 10
POLL = 0.05  # seconds between looks at whether the plugin has exited


class PluginTimeout(Exception):
    """The plugin (or a child holding its pipes) did not finish in time; the group is killed."""


class PluginOverflow(Exception):
    """The plugin printed more than the stdout limit; the group is killed."""


@dataclass(frozen=True)
class PluginRun:
    returncode: int
    stdout: bytes
    stderr: bytes  # at most STDERR_KEEP bytes


async def _read_bounded(stream: asyncio.StreamReader, limit: int, *, strict: bool) -> bytes:
    """Read to EOF; past `limit` raise PluginOverflow (strict) or keep reading and drop."""
    buf = bytearray()
    while chunk := await stream.read(CHUNK):
        if len(buf) + len(chunk) > limit:
            if strict:
                raise PluginOverflow
            buf += chunk[: max(0, limit - len(buf))]
            continue
        buf += chunk
    return bytes(buf)


def _signal_group(pgid: int, sig: signal.Signals) -> None:
    with contextlib.suppress(ProcessLookupError, PermissionError):
        os.killpg(pgid, sig)


def _group_alive(pgid: int) -> bool:
    try:
        os.killpg(pgid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    return True


async def _kill_group(proc: asyncio.subprocess.Process) -> None:
    """SIGTERM the plugin's process group, SIGKILL what is left after KILL_GRACE, reap."""
    pgid = proc.pid  # start_new_session: the plugin leads its own group
    _signal_group(pgid, signal.SIGTERM)
    loop = asyncio.get_running_loop()
    deadline = loop.time() + KILL_GRACE
    # Polling: the other members of the group are not our children, so no event says so.
    while loop.time() < deadline and (proc.returncode is None or _group_alive(pgid)):  # noqa: ASYNC110
        await asyncio.sleep(0.05)
    _signal_group(pgid, signal.SIGKILL)
    if proc.returncode is None:
        proc.kill()
    # Reaped by asyncio's child watcher; not proc.wait(), which also waits for the pipes
    # (a member that left the group with setsid may still hold them).
    async with asyncio.timeout(5):
        while proc.returncode is None:  # noqa: ASYNC110 - see above
            await asyncio.sleep(POLL)


async def run_plugin(
    argv: Sequence[str],
    env: Mapping[str, str],
    seconds: float,
    *,
    stdout_limit: int = STDOUT_LIMIT,
) -> PluginRun:
    """Run one plugin to completion within `seconds` (pipes included).

    Raises PluginTimeout, PluginOverflow, or OSError from starting it (not found, not
    executable). The plugin's group is gone when this returns or raises.
    """
    proc = await asyncio.create_subprocess_exec(
        *argv,
        stdin=asyncio.subprocess.DEVNULL,
        stdout=asyncio.subprocess.PIPE,
        stderr=asyncio.subprocess.PIPE,
        env=dict(env),
        start_new_session=True,
    )
    assert proc.stdout is not None and proc.stderr is not None
    loop = asyncio.get_running_loop()
    deadline = loop.time() + seconds
    out_task = asyncio.ensure_future(_read_bounded(proc.stdout, stdout_limit, strict=True))
    err_task = asyncio.ensure_future(_read_bounded(proc.stderr, STDERR_KEEP, strict=False))
    pipes = asyncio.gather(out_task, err_task)
    clean = False
    try:
        # Until the plugin exits, the deadline passes, or stdout overflows. Polled: asyncio's
        # proc.wait() also waits for the pipes, which a leftover child may hold forever.
        while proc.returncode is None:
            left = deadline - loop.time()
            if left <= 0:
                raise PluginTimeout
            await asyncio.wait((out_task,), timeout=min(left, POLL))
            if out_task.done() and out_task.exception() is not None:
                raise PluginOverflow
        # The plugin is done; a child it left behind may still hold the pipes.
        try:
            async with asyncio.timeout_at(min(deadline, loop.time() + PIPE_GRACE)):
                stdout, stderr = await asyncio.shield(pipes)
        except TimeoutError:
            await _kill_group(proc)
            try:
                async with asyncio.timeout(5):  # the pipes close with the group
                    stdout, stderr = await asyncio.shield(pipes)
            except TimeoutError:  # held by a process that left the group
                raise PluginTimeout from None
        clean = True
    finally:
        if not clean:
            await _kill_group(proc)
            pipes.cancel()
            await asyncio.gather(pipes, return_exceptions=True)
    assert proc.returncode is not None
    return PluginRun(proc.returncode, stdout, stderr)
