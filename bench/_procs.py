"""What the processes did, from /proc: CPU of every thread, minor page faults, RSS, and how
busy the rest of the machine was meanwhile (the machine is shared: that is the noise)."""

from __future__ import annotations

import os
import time
from collections.abc import Iterable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path

CLK_TCK = os.sysconf("SC_CLK_TCK")
PAGE = os.sysconf("SC_PAGE_SIZE")
# A transfer is noisy when processes outside the stack used more than this many cores.
NOISE_CORES = 0.25


@dataclass(frozen=True)
class ProcSample:
    sched_s: float  # run time of the live threads (ns resolution, /proc/PID/task/*/schedstat)
    ticks_s: float  # utime + stime of the whole process, dead threads included (10 ms ticks)
    minflt: int
    rss: int  # bytes


def sample(pid: int) -> ProcSample:
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    ns = 0
    for task in os.scandir(f"/proc/{pid}/task"):
        try:
            ns += int(Path(task.path, "schedstat").read_text().split()[0])
        except (FileNotFoundError, ProcessLookupError):
            pass  # a thread that just ended
    return ProcSample(
        sched_s=ns / 1e9,
        ticks_s=(int(fields[11]) + int(fields[12])) / CLK_TCK,
        minflt=int(fields[7]),
        rss=int(fields[21]) * PAGE,
    )


def rss(pid: int) -> int:
    return sample(pid).rss


def cpu_between(a: ProcSample, b: ProcSample) -> float:
    """CPU seconds between two samples: the precise per-thread clock, unless a thread ended
    in between (then its time is only in the coarse process-wide ticks)."""
    sched, ticks = b.sched_s - a.sched_s, b.ticks_s - a.ticks_s
    return sched if sched >= ticks - 0.02 else ticks


def machine_busy_s() -> float:
    """CPU seconds all cores have been busy since boot (/proc/stat, guest time is in user)."""
    with open("/proc/stat") as f:
        values = [int(v) for v in f.readline().split()[1:9]]
    user, nice, system, _idle, _iowait, irq, softirq, steal = values
    return (user + nice + system + irq + softirq + steal) / CLK_TCK


@dataclass
class Usage:
    """One measured stretch: the proxy's CPU and faults, the stack's CPU, everyone else's."""

    wall_s: float = 0.0
    cpu_s: float = 0.0  # the measured process, all threads
    minflt: int = 0
    stack_cpu_s: float = 0.0  # every process of the stack and the client (this process)
    others_cpu_s: float = 0.0  # the rest of the machine
    peak_rss: int = 0
    extra: dict[str, float] = field(default_factory=dict)

    @property
    def others_cores(self) -> float:
        return self.others_cpu_s / self.wall_s if self.wall_s > 0 else 0.0

    @property
    def noisy(self) -> bool:
        return self.others_cores > NOISE_CORES


@contextmanager
def measure(pid: int | None, stack_pids: Iterable[int]) -> Iterator[Usage]:
    """Measure the block: `pid`'s CPU/faults (None: nothing, e.g. direct) and the noise."""
    pids = sorted({*stack_pids, os.getpid()})
    usage = Usage()
    before = {p: sample(p) for p in pids}
    first = sample(pid) if pid is not None else None
    busy0 = machine_busy_s()
    t0 = time.perf_counter()
    try:
        yield usage
    finally:
        usage.wall_s = time.perf_counter() - t0
        busy1 = machine_busy_s()
        after = {p: sample(p) for p in pids}
        if pid is not None and first is not None:
            last = sample(pid)
            usage.cpu_s = cpu_between(first, last)
            usage.minflt = last.minflt - first.minflt
            usage.peak_rss = max(usage.peak_rss, last.rss)
        # /proc/stat counts in ticks: compare it with the stack's ticks, not schedstat.
        usage.stack_cpu_s = sum(after[p].ticks_s - before[p].ticks_s for p in pids)
        usage.others_cpu_s = max(0.0, busy1 - busy0 - usage.stack_cpu_s)


def _stat_fields(pid: int) -> list[str] | None:
    try:
        return Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    except (FileNotFoundError, ProcessLookupError, PermissionError):
        return None


def tree_cpu_s(root: int) -> float:
    """CPU seconds of `root` and every descendant, including children that already ended and
    were reaped (their time is in the parent's cutime/cstime): a browser's renderers come and
    go within one measured stretch, and would otherwise be counted as the machine's noise."""
    stats: dict[int, list[str]] = {}
    for entry in os.scandir("/proc"):
        if entry.name.isdigit():
            f = _stat_fields(int(entry.name))
            if f is not None:
                stats[int(entry.name)] = f
    children: dict[int, list[int]] = {}
    for pid, f in stats.items():
        children.setdefault(int(f[1]), []).append(pid)
    total, todo = 0, [root]
    while todo:
        pid = todo.pop()
        f = stats.get(pid)
        if f is None:
            continue
        total += int(f[11]) + int(f[12]) + int(f[13]) + int(f[14])
        todo.extend(children.get(pid, []))
    return total / CLK_TCK
