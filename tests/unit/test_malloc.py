"""Malloc tuning: glibc really serves 3 MiB blocks from the heap and keeps a freed 3 MiB top
chunk once `tune_malloc` ran, and does neither without it (the control that shows the probe
can fail). Each probe runs in a fresh interpreter: the thresholds are process-wide."""

from __future__ import annotations

import json
import platform
import subprocess
import sys

import pytest

from kubelantern.malloc import MallocTuning, tune_malloc

pytestmark = pytest.mark.skipif(platform.libc_ver()[0] != "glibc", reason="glibc only")

PROBE = r"""
import ctypes, json, sys
names = ("arena ordblks smblks hblks hblkhd usmblks fsmblks uordblks fordblks keepcost").split()
class MallInfo2(ctypes.Structure):
    _fields_ = [(n, ctypes.c_size_t) for n in names]
libc = ctypes.CDLL(None)
libc.mallinfo2.restype = MallInfo2
libc.malloc.restype = ctypes.c_void_p
libc.malloc.argtypes = (ctypes.c_size_t,)
libc.free.argtypes = (ctypes.c_void_p,)
if sys.argv[1] == "tune":
    from kubelantern.malloc import tune_malloc
    assert tune_malloc({}).applied
size = 3 * 1024 * 1024
before = libc.mallinfo2()
block = libc.malloc(size)
ctypes.memset(block, 1, size)
during = libc.mallinfo2()
libc.free(block)
after = libc.mallinfo2()
print(json.dumps({
    "mmapped_during": during.hblks - before.hblks,
    "heap_grew": during.arena - before.arena,
    "heap_kept_after_free": after.arena - before.arena,
}))
"""


def probe(mode: str) -> dict[str, int]:
    out = subprocess.run(
        [sys.executable, "-c", PROBE, mode], capture_output=True, text=True, timeout=60, check=True
    )
    result: dict[str, int] = json.loads(out.stdout)
    return result


def test_without_tuning_glibc_maps_a_3_mib_block_and_gives_it_back() -> None:
    got = probe("control")
    assert got["mmapped_during"] == 1
    assert got["heap_kept_after_free"] < 1024 * 1024


def test_tuned_glibc_serves_3_mib_from_the_heap_and_keeps_it_after_free() -> None:
    got = probe("tune")
    assert got["mmapped_during"] == 0  # the 4 MiB mmap threshold
    assert got["heap_grew"] >= 3 * 1024 * 1024
    assert got["heap_kept_after_free"] >= 3 * 1024 * 1024  # the 64 MiB trim threshold


def test_switched_off_by_the_environment() -> None:
    assert tune_malloc({"KUBELANTERN_MALLOC_TUNING": "0"}) == MallocTuning(
        False, "KUBELANTERN_MALLOC_TUNING=0"
    )


RELEASE_PROBE = r"""
import ctypes, json, sys
from kubelantern.malloc import free_heap_bytes, release_free_memory, tune_malloc
assert tune_malloc({}).applied
libc = ctypes.CDLL(None)
libc.malloc.restype = ctypes.c_void_p
libc.malloc.argtypes = (ctypes.c_size_t,)
libc.free.argtypes = (ctypes.c_void_p,)
def rss():
    return int(open("/proc/self/statm").read().split()[1]) * 4096
# 100 MiB of 256 KiB blocks (the heap, under the 4 MiB mmap threshold); every other one is
# freed: 50 MiB free mid-heap, between blocks that stay, where no trim threshold reaches.
blocks = []
for _ in range(400):
    p = libc.malloc(256 * 1024)
    ctypes.memset(p, 1, 256 * 1024)
    blocks.append(p)
for p in blocks[::2]:
    libc.free(p)
before = rss()
released = release_free_memory(above=int(sys.argv[1]))
print(json.dumps({"free": free_heap_bytes(), "released": released, "gained": before - rss()}))
"""


def release_probe(above: int) -> dict[str, int]:
    out = subprocess.run(
        [sys.executable, "-c", RELEASE_PROBE, str(above)],
        capture_output=True,
        text=True,
        timeout=60,
        check=True,
    )
    result: dict[str, int] = json.loads(out.stdout)
    return result


def test_freed_mid_heap_memory_goes_back_to_the_kernel() -> None:
    got = release_probe(32 * 1024 * 1024)
    assert got["released"]
    assert got["gained"] >= 40 * 1024 * 1024


def test_too_little_free_memory_is_kept() -> None:
    got = release_probe(1024 * 1024 * 1024)  # control: the same heap, a limit above it
    assert not got["released"]
    assert got["gained"] < 4 * 1024 * 1024
