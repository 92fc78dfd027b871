"""glibc malloc thresholds for a long-running proxy, set once when `serve` starts.

Why: TLS read buffers and HTTP body chunks (~256 KiB) sit right at glibc's dynamic mmap
threshold. Depending on early allocations a process either serves them from the heap or
maps and unmaps each one (hundreds of thousands of minor page faults per GB streamed, ~1.8 times
the CPU per GB). Fixing the mmap threshold at 4 MiB *together with* a 64 MiB trim threshold
(the mmap threshold alone makes the heap give pages back and fault them in again) removes
that slow state. On other C libraries this is a no-op with a debug line.

`KUBELANTERN_MALLOC_TUNING=0` leaves glibc's defaults (for the benchmark's before/after).
"""

from __future__ import annotations

import asyncio
import ctypes
import logging
import os
from collections.abc import Mapping
from dataclasses import dataclass

log = logging.getLogger(__name__)

# <malloc.h>
M_TRIM_THRESHOLD = -1
M_MMAP_THRESHOLD = -3

MMAP_THRESHOLD = 4 * 1024 * 1024
TRIM_THRESHOLD = 64 * 1024 * 1024
ENV = "KUBELANTERN_MALLOC_TUNING"


@dataclass(frozen=True)
class MallocTuning:
    """What `tune_malloc` did: `applied` only when glibc accepted both thresholds."""

    applied: bool
    reason: str
    mmap_threshold: int = 0
    trim_threshold: int = 0


def _glibc() -> ctypes.CDLL | None:
    try:
        libc = ctypes.CDLL(None)
        version = libc.gnu_get_libc_version  # only glibc has it (musl's mallopt is a stub)
        version.restype = ctypes.c_char_p
    except (OSError, AttributeError):
        return None
    return libc


def tune_malloc(env: Mapping[str, str] = os.environ) -> MallocTuning:
    """Set glibc's mmap and trim thresholds; say what happened in a debug line."""
    if env.get(ENV, "1") == "0":
        result = MallocTuning(False, f"{ENV}=0")
    elif (libc := _glibc()) is None:
        result = MallocTuning(False, "not glibc")
    else:
        libc.mallopt.argtypes = (ctypes.c_int, ctypes.c_int)
        libc.mallopt.restype = ctypes.c_int
        # mallopt answers 1 when glibc took the value, 0 when it refused it.
        ok = libc.mallopt(M_MMAP_THRESHOLD, MMAP_THRESHOLD) == 1
        ok = ok and libc.mallopt(M_TRIM_THRESHOLD, TRIM_THRESHOLD) == 1
        if ok:
            result = MallocTuning(True, "glibc", MMAP_THRESHOLD, TRIM_THRESHOLD)
        else:
            result = MallocTuning(False, "glibc refused mallopt")
    if result.applied:
        log.debug(
            "malloc tuning: mmap threshold %d, trim threshold %d",
            result.mmap_threshold,
            result.trim_threshold,
        )
    else:
        log.debug("malloc tuning: not applied (%s)", result.reason)
    return result


# -- giving freed memory back ------------------------------------------------------------

RELEASE_EVERY = 10.0  # seconds between looks at the heap (mallinfo2: microseconds)
RELEASE_ABOVE = 32 * 1024 * 1024  # free heap bytes worth giving back


class _MallInfo2(ctypes.Structure):
    _fields_ = [
        (name, ctypes.c_size_t)
        for name in (
            "arena ordblks smblks hblks hblkhd usmblks fsmblks uordblks fordblks keepcost"
        ).split()
    ]


def free_heap_bytes() -> int | None:
    """Bytes free inside glibc's main heap (None where there is no mallinfo2)."""
    libc = _glibc()
    if libc is None or not hasattr(libc, "mallinfo2"):
        return None
    libc.mallinfo2.restype = _MallInfo2
    info: _MallInfo2 = libc.mallinfo2()
    return int(info.fordblks)


def release_free_memory(above: int = RELEASE_ABOVE) -> bool:
    """Give free heap pages back to the kernel when more than `above` bytes are free.

    Why: the 64 MiB trim threshold keeps streaming fast, but after a burst of connections
    closes (thousands of idle WebSockets) their memory sits free in the middle of the heap,
    where no trim threshold reaches; malloc_trim(0) returns those pages."""
    free = free_heap_bytes()
    libc = _glibc()
    if free is None or libc is None or free < above:
        return False
    libc.malloc_trim(ctypes.c_size_t(0))
    log.debug("malloc: gave back free heap pages (%d bytes were free)", free)
    return True


async def release_free_memory_periodically(every: float = RELEASE_EVERY) -> None:
    """`release_free_memory` once every `every` seconds, for the life of `serve`."""
    while True:
        await asyncio.sleep(every)
        release_free_memory()
