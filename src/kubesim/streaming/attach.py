"""A container's main process, as `attach` sees it.

The process is a pure function of time since the pod started (tick N every second), so it
"keeps running" between attaches without any background task: detaching changes nothing.
It echoes stdin lines back when stdin is attached, and shows a prompt on a terminal.
"""

from __future__ import annotations

import asyncio
import contextlib
import time

from .pipes import Interrupted
from .process import Program
from .shell import IO, Context

TICK_SECONDS = 1.0


def tick_line(container: str, n: int) -> bytes:
    return f"[{container}] main process tick {n}\n".encode()


def main_process(ctx: Context, *, stdin: bool, started: float) -> Program:
    prompt = f"{ctx.info.name}> ".encode() if ctx.tty else b""

    async def ticks(io: IO) -> None:
        n = int(max(0.0, time.time() - started) / TICK_SECONDS)
        while True:
            n += 1
            delay = started + n * TICK_SECONDS - time.time()
            if delay > 0:
                await asyncio.sleep(delay)
            await io.stdout.write(tick_line(ctx.info.name, n) + prompt)

    async def echo(io: IO) -> None:
        while True:
            try:
                line = await io.stdin.readline()
            except Interrupted:
                continue
            if not line:
                return  # stdin closed; the process itself keeps going
            text = line.decode(errors="replace").rstrip("\n")
            await io.stdout.write(f"{ctx.info.name} got: {text}\n".encode() + prompt)

    async def run(io: IO) -> int:
        # Ctrl-C at an attached terminal reaches the main process, which ignores it.
        ctx.interrupt_handlers.append(lambda: None)
        if prompt:
            await io.stdout.write(prompt)
        tasks = [asyncio.ensure_future(ticks(io))]
        if stdin:
            tasks.append(asyncio.ensure_future(echo(io)))
        try:
            await asyncio.gather(*tasks)
        finally:
            for t in tasks:
                t.cancel()
            for t in tasks:
                with contextlib.suppress(asyncio.CancelledError, Exception):
                    await t
        return 0  # not reached: the main process never exits on its own

    return run
