"""CoarseDeadlines: the answer deadline of proxied HTTP requests without a timer each."""

from __future__ import annotations

import asyncio

import pytest

from kubelantern.proxy.deadline import CoarseDeadlines


async def test_a_block_done_in_time_leaves_nothing_behind() -> None:
    deadlines = CoarseDeadlines(tick=0.01)
    for _ in range(100):
        async with deadlines.within(30):
            await asyncio.sleep(0)
    assert not deadlines._pending
    await asyncio.sleep(0.1)  # a few ticks: the sweeper stops once nothing is pending
    assert deadlines._timer is None


async def test_a_late_block_raises_timeout_error_after_its_deadline() -> None:
    deadlines = CoarseDeadlines(tick=0.02)
    loop = asyncio.get_running_loop()
    started = loop.time()
    with pytest.raises(TimeoutError):
        async with asyncio.timeout(30):  # the test's own bound, far away
            async with deadlines.within(0.1):
                await asyncio.sleep(60)
    assert 0.1 <= loop.time() - started < 20  # the deadline's, not the test's bound
    assert not deadlines._pending
    # The task is usable afterwards: the deadline's cancel was taken back.
    task = asyncio.current_task()
    assert task is not None and task.cancelling() == 0
    await asyncio.sleep(0)


async def test_a_cancel_from_elsewhere_is_not_turned_into_a_timeout() -> None:
    deadlines = CoarseDeadlines(tick=0.01)
    entered = asyncio.Event()

    async def work() -> None:
        async with deadlines.within(30):
            entered.set()
            await asyncio.sleep(60)

    task = asyncio.ensure_future(work())
    await entered.wait()
    task.cancel()
    with pytest.raises(asyncio.CancelledError):
        await task
    assert not deadlines._pending


async def test_a_cancel_from_elsewhere_wins_over_an_expired_deadline() -> None:
    deadlines = CoarseDeadlines(tick=60)  # swept by hand below
    entered = asyncio.Event()

    async def work() -> None:
        async with deadlines.within(0):
            entered.set()
            await asyncio.sleep(60)

    task = asyncio.ensure_future(work())
    await entered.wait()
    task.cancel()  # the caller gives up ...
    deadlines._sweep(asyncio.get_running_loop())  # ... and the deadline passes too
    with pytest.raises(asyncio.CancelledError):
        await task


async def test_deadlines_in_many_tasks_expire_only_the_late_ones() -> None:
    deadlines = CoarseDeadlines(tick=0.02)

    async def one(seconds: float, work: float) -> str:
        try:
            async with deadlines.within(seconds):
                await asyncio.sleep(work)
        except TimeoutError:
            return "late"
        return "done"

    async with asyncio.timeout(30):
        late = [one(0.1, 60) for _ in range(5)]
        got = await asyncio.gather(*late, *(one(30, 0) for _ in range(5)))
    assert got == ["late"] * 5 + ["done"] * 5
