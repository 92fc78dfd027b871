"""The bench's noise accounting (bench/_procs.py) on synthetic /proc/stat samples: what is
the stack's, what is other processes', what is interrupt work, and when a transfer is noisy."""

from __future__ import annotations

import pytest
from bench._procs import CLK_TCK, CpuTimes, is_noisy, noise_between


def line(user: int, system: int, irq: int = 0, softirq: int = 0, steal: int = 0) -> str:
    """A /proc/stat `cpu` line in ticks (nice 0, idle/iowait arbitrary, guest fields 0)."""
    return f"cpu  {user} 0 {system} 900000 12 {irq} {softirq} {steal} 0 0"


def s(ticks: int) -> float:
    return ticks / CLK_TCK


def test_parse_splits_tasks_interrupts_and_steal() -> None:
    t = CpuTimes.parse("cpu  100 7 50 9999 3 2 40 5 11 0")
    assert t.tasks_s == pytest.approx(s(100 + 7 + 50))  # guest (11) is already in user
    assert t.irq_s == pytest.approx(s(2 + 40))
    assert t.steal_s == pytest.approx(s(5))
    assert t.busy_s == pytest.approx(s(157 + 42 + 5))


def test_a_quiet_loopback_transfer_is_all_the_stacks() -> None:
    # Tick accounting: the stack's processes (60 ticks, simulator included) did 40 ticks of
    # user + system and 20 of softirq (loopback receive work, run in their context).
    before, after = CpuTimes.parse(line(1000, 500)), CpuTimes.parse(line(1030, 510, 0, 20))
    got = noise_between(before, after, s(60), irq_in_tasks=True)
    assert got.others_s == pytest.approx(0.0, abs=1e-9)
    assert got.irq_s == pytest.approx(s(20))
    assert not is_noisy(got.others_s, got.steal_s, wall_s=0.3)


def test_softirq_in_the_stack_does_not_hide_another_process() -> None:
    # The same transfer with a busy process beside it (+15 ticks of user): user + system
    # alone minus the stack would read 55 - 60 < 0 and call it quiet.
    before, after = CpuTimes.parse(line(1000, 500)), CpuTimes.parse(line(1045, 510, 0, 20))
    got = noise_between(before, after, s(60), irq_in_tasks=True)
    assert got.others_s == pytest.approx(s(15))
    assert is_noisy(got.others_s, got.steal_s, wall_s=0.3)


def test_with_irq_time_accounting_interrupts_are_nobodys() -> None:
    # CONFIG_IRQ_TIME_ACCOUNTING: the stack's 40 ticks exclude the 20 of softirq.
    before, after = CpuTimes.parse(line(1000, 500)), CpuTimes.parse(line(1030, 510, 0, 20))
    got = noise_between(before, after, s(40), irq_in_tasks=False)
    assert got.others_s == pytest.approx(0.0, abs=1e-9) and got.irq_s == pytest.approx(s(20))
    busy = CpuTimes.parse(line(1045, 510, 0, 20))
    assert noise_between(before, busy, s(40), irq_in_tasks=False).others_s == pytest.approx(s(15))


def test_a_stack_process_left_out_is_noise() -> None:
    # The defect this replaces: the simulator (25 of the 60 ticks) was not in the stack,
    # so every transfer read as 0.8 core of "others".
    before, after = CpuTimes.parse(line(1000, 500)), CpuTimes.parse(line(1030, 510, 0, 20))
    got = noise_between(before, after, s(60 - 25), irq_in_tasks=True)
    assert got.others_s == pytest.approx(s(25))
    assert is_noisy(got.others_s, got.steal_s, wall_s=0.3)


def test_tick_sampling_error_is_not_noise_but_a_quarter_core_is() -> None:
    wall = 0.3
    assert not is_noisy(0.25 * wall + 0.02, 0.0, wall, slack_s=0.03)
    assert is_noisy(0.25 * wall + 0.04, 0.0, wall, slack_s=0.03)
    # A short transfer cannot be judged finer than the ticks: 2 ticks over 60 ms is sampling.
    assert not is_noisy(0.02, 0.0, 0.06, slack_s=0.03)


def test_steal_counts_as_noise() -> None:
    before = CpuTimes.parse(line(1000, 500))
    after = CpuTimes.parse(line(1030, 510, 0, 20, steal=15))
    got = noise_between(before, after, s(60), irq_in_tasks=True)
    assert got.others_s == pytest.approx(0.0, abs=1e-9) and got.steal_s == pytest.approx(s(15))
    assert is_noisy(got.others_s, got.steal_s, wall_s=0.3)
