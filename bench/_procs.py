"""What the processes did, from /proc: CPU of every thread, minor page faults, RSS, and how
busy the rest of the machine was meanwhile (the machine is shared: that is the noise)."""

from __future__ import annotations

import gzip
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
    return cpu_times().busy_s


@dataclass(frozen=True)
class CpuTimes:
    """The machine's /proc/stat `cpu` line, in seconds since boot."""

    tasks_s: float  # user + nice + system (guest time is in user)
    irq_s: float  # irq + softirq: interrupts and the kernel's network work (loopback too)
    steal_s: float  # the hypervisor ran someone else on our cores

    @property
    def busy_s(self) -> float:
        return self.tasks_s + self.irq_s + self.steal_s

    @classmethod
    def parse(cls, line: str) -> CpuTimes:
        values = [int(v) for v in line.split()[1:9]]
        user, nice, system, _idle, _iowait, irq, softirq, steal = values
        return cls((user + nice + system) / CLK_TCK, (irq + softirq) / CLK_TCK, steal / CLK_TCK)


def cpu_times() -> CpuTimes:
    with open("/proc/stat") as f:
        return CpuTimes.parse(f.readline())


def _irq_time_accounting() -> bool:
    """Whether this kernel keeps interrupt time out of the processes' times
    (CONFIG_IRQ_TIME_ACCOUNTING). Without it (tick accounting, e.g. this project's machine),
    softirq work done while a process runs - loopback TCP's receive path, mostly - is in that
    process's stime as well as in /proc/stat's softirq: the stack's own network work is
    then subtracted with the stack. Unknown config: assume tick accounting."""
    release = os.uname().release
    for path in (f"/boot/config-{release}", "/proc/config.gz"):
        try:
            if path.endswith(".gz"):
                text = gzip.decompress(Path(path).read_bytes()).decode()
            else:
                text = Path(path).read_text()
        except OSError:
            continue
        return "CONFIG_IRQ_TIME_ACCOUNTING=y" in text
    return False


IRQ_TIME_ACCOUNTING = _irq_time_accounting()


@dataclass(frozen=True)
class Noise:
    """CPU seconds spent during a stretch outside the stack: by other processes (the noise
    that is flagged), in interrupts (reported, its own figure) and stolen by the host."""

    others_s: float
    irq_s: float
    steal_s: float


def noise_between(
    before: CpuTimes, after: CpuTimes, stack_s: float, *, irq_in_tasks: bool
) -> Noise:
    """Everything but the stack's own CPU (`stack_s`: its processes' utime + stime).

    `irq_in_tasks` (tick accounting): the processes' times include the interrupt work done
    while they ran, so that work is subtracted from tasks + irq together; measured on this
    machine, the stack's loopback softirq is 0.1-0.4 core of a WS transfer, and counting
    user + system alone would hide that much of other processes' CPU. Otherwise
    (CONFIG_IRQ_TIME_ACCOUNTING) interrupts are in nobody's time: tasks alone."""
    tasks = after.tasks_s - before.tasks_s
    irq = after.irq_s - before.irq_s
    pool = tasks + irq if irq_in_tasks else tasks
    return Noise(max(0.0, pool - stack_s), irq, after.steal_s - before.steal_s)


# /proc/stat samples each core once a tick: over a stretch, the machine's busy time is off by
# up to about a tick per core at either end (residuals up to 0.03 s measured on quiet
# transfers of 0.25-0.35 s). Noise below that cannot be told from sampling.
TICK_SLACK_S = ((os.cpu_count() or 1) + 1) / CLK_TCK


def is_noisy(others_s: float, steal_s: float, wall_s: float, slack_s: float = TICK_SLACK_S) -> bool:
    """More than NOISE_CORES of other processes' (or the host's) CPU, beyond sampling error."""
    return others_s + steal_s > NOISE_CORES * wall_s + slack_s


@dataclass
class Usage:
    """One measured stretch: the proxy's CPU and faults, the stack's CPU, everyone else's."""

    wall_s: float = 0.0
    cpu_s: float = 0.0  # the measured process, all threads
    minflt: int = 0
    stack_cpu_s: float = 0.0  # every process of the stack (simulator too) and the client
    others_cpu_s: float = 0.0  # other processes on the machine
    irq_cpu_s: float = 0.0  # interrupts and softirq (the loopback's network work among them)
    steal_cpu_s: float = 0.0
    peak_rss: int = 0
    extra: dict[str, float] = field(default_factory=dict)

    def _cores(self, seconds: float) -> float:
        return seconds / self.wall_s if self.wall_s > 0 else 0.0

    @property
    def others_cores(self) -> float:
        return self._cores(self.others_cpu_s)

    @property
    def irq_cores(self) -> float:
        return self._cores(self.irq_cpu_s)

    @property
    def steal_cores(self) -> float:
        return self._cores(self.steal_cpu_s)

    @property
    def noisy(self) -> bool:
        return is_noisy(self.others_cpu_s, self.steal_cpu_s, self.wall_s)


@contextmanager
def measure(pid: int | None, stack_pids: Iterable[int]) -> Iterator[Usage]:
    """Measure the block: `pid`'s CPU/faults (None: nothing, e.g. direct) and the noise."""
    pids = sorted({*stack_pids, os.getpid()})
    usage = Usage()
    before = {p: sample(p) for p in pids}
    first = sample(pid) if pid is not None else None
    times0 = cpu_times()
    t0 = time.perf_counter()
    try:
        yield usage
    finally:
        usage.wall_s = time.perf_counter() - t0
        times1 = cpu_times()
        after = {p: sample(p) for p in pids}
        if pid is not None and first is not None:
            last = sample(pid)
            usage.cpu_s = cpu_between(first, last)
            usage.minflt = last.minflt - first.minflt
            usage.peak_rss = max(usage.peak_rss, last.rss)
        # /proc/stat counts in ticks: compare it with the stack's ticks, not schedstat.
        usage.stack_cpu_s = sum(after[p].ticks_s - before[p].ticks_s for p in pids)
        got = noise_between(times0, times1, usage.stack_cpu_s, irq_in_tasks=not IRQ_TIME_ACCOUNTING)
        usage.others_cpu_s, usage.irq_cpu_s, usage.steal_cpu_s = (
            got.others_s,
            got.irq_s,
            got.steal_s,
        )


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
