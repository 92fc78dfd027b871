"""SPDY/3.1 throughput: exec stdout and a port-forward bulk transfer, direct vs `kubectl
proxy` vs kubelantern, same simulator, same run (issue 8's "Measure").

- exec: `firehose SIZE` read to the end on the stdout stream (protocol v4.channel.k8s.io);
- port-forward: PF_MB sent through the pod's echo port while the echo is read back, on
  one data/error stream pair (PF_MB each way).

A target that refuses the SPDY upgrade (kubelantern before its upgrade tunnel) is
reported with its status instead of a number. Best of ROUNDS interleaved rounds.

    python -m bench spdy_throughput          # or: make bench
    KL_BENCH_MB=256 KL_BENCH_PF_MB=400 python -m bench spdy_throughput
"""

from __future__ import annotations

import asyncio
import os
import time
from urllib.parse import urlencode

import aiohttp
from tests.harness.spdyclient import spdy_upgrade

from bench._stack import Target, cpu_seconds, stack

SIZE_MB = int(os.environ.get("KL_BENCH_MB", "128"))
PF_MB = int(os.environ.get("KL_BENCH_PF_MB", "200"))
ROUNDS = int(os.environ.get("KL_BENCH_ROUNDS", "3"))
CHUNK = 32 * 1024


class Refused(Exception):
    pass


async def _pods(
    session: aiohttp.ClientSession, t: Target
) -> tuple[tuple[str, str], tuple[str, str, int]]:
    async with session.get(f"{t.base}/api/v1/pods", headers=t.headers, ssl=t.ssl) as resp:
        items = (await resp.json())["items"]
    shell: tuple[str, str] | None = None
    echo: tuple[str, str, int] | None = None
    for pod in items:
        if pod["status"].get("phase") != "Running":
            continue
        meta, first = pod["metadata"], pod["spec"]["containers"][0]
        if shell is None and "distroless" not in first["image"] and first["name"] != "firehose":
            shell = (meta["namespace"], meta["name"])
        for c in pod["spec"]["containers"]:
            for port in c.get("ports") or []:
                if (
                    echo is None
                    and port["containerPort"] not in (80, 8080)
                    and port.get("name") != "http"
                ):
                    echo = (meta["namespace"], meta["name"], port["containerPort"])
    if shell is None or echo is None:
        raise RuntimeError(f"{t.label}: no shell pod or echo port")
    return shell, echo


def _token(t: Target) -> str | None:
    auth = t.headers.get("Authorization", "")
    return auth.removeprefix("Bearer ") or None


async def exec_bytes(t: Target, path: str) -> int:
    ssl = t.ssl if not isinstance(t.ssl, bool) else None
    up = await spdy_upgrade(
        t.base + path, protocols=["v4.channel.k8s.io"], token=_token(t), ssl_context=ssl
    )
    if up.status != 101 or up.conn is None:
        raise Refused(f"{up.status} {up.body[:120]!r}")
    try:
        await up.conn.open((("streamtype", "error"),))
        stdout = await up.conn.open((("streamtype", "stdout"),))
        got = 0
        while chunk := await stdout.read():
            got += len(chunk)
    finally:
        await up.aclose()
    if got != SIZE_MB * 1024 * 1024:
        raise RuntimeError(f"{t.label}: got {got} bytes, expected {SIZE_MB} MiB")
    return got


async def forward_bytes(t: Target, path: str, port: int) -> int:
    ssl = t.ssl if not isinstance(t.ssl, bool) else None
    up = await spdy_upgrade(
        t.base + path, protocols=["portforward.k8s.io"], token=_token(t), ssl_context=ssl
    )
    if up.status != 101 or up.conn is None:
        raise Refused(f"{up.status} {up.body[:120]!r}")
    total = PF_MB * 1024 * 1024
    try:
        headers = (("port", str(port)), ("requestid", "0"))
        error = await up.conn.open((("streamtype", "error"), *headers))
        await error.close()
        data = await up.conn.open((("streamtype", "data"), *headers))
        block = os.urandom(CHUNK)

        async def send() -> None:
            for _ in range(total // CHUNK):
                await data.write(block)
            await data.close()

        sender = asyncio.ensure_future(send())
        got = 0
        while chunk := await data.read():
            got += len(chunk)
        await sender
    finally:
        await up.aclose()
    if got != total:
        raise RuntimeError(f"{t.label}: echoed {got} bytes of {total}")
    return got


async def main_async(targets: list[Target]) -> None:
    async with aiohttp.ClientSession() as session:
        (ns, pod), (ens, epod, eport) = await _pods(session, targets[0])
    exec_path = f"/api/v1/namespaces/{ns}/pods/{pod}/exec?" + urlencode(
        [("command", "firehose"), ("command", f"{SIZE_MB}M"), ("stdout", "true")]
    )
    pf_path = f"/api/v1/namespaces/{ens}/pods/{epod}/portforward"
    for title, run in (
        (f"SPDY exec stdout ({SIZE_MB} MiB)", lambda t: exec_bytes(t, exec_path)),
        (
            f"SPDY port-forward echo ({PF_MB} MiB each way)",
            lambda t: forward_bytes(t, pf_path, eport),
        ),
    ):
        best: dict[str, float] = {}
        cpu: dict[str, float] = {}
        moved_total: dict[str, int] = {}
        refused: dict[str, str] = {}
        for _ in range(ROUNDS):
            for t in targets:
                if t.label in refused:
                    continue
                started = time.perf_counter()
                cpu_before = cpu_seconds(t.pid) if t.pid else 0.0
                try:
                    moved = await run(t)
                except Refused as exc:
                    refused[t.label] = str(exc)
                    continue
                except Exception as exc:
                    raise RuntimeError(f"{t.label}: {exc!r}") from exc
                rate = moved / (time.perf_counter() - started) / 1e6
                best[t.label] = max(best.get(t.label, 0.0), rate)
                if t.pid:
                    cpu[t.label] = cpu.get(t.label, 0.0) + cpu_seconds(t.pid) - cpu_before
                    moved_total[t.label] = moved_total.get(t.label, 0) + moved
        print(f"{title}, best of {ROUNDS}, MB/s:")
        for label, value in best.items():
            print(f"  {label:<24} {value:10.2f} MB/s")
        for label, why in refused.items():
            print(f"  {label:<24} refused the SPDY upgrade: {why}")
        for base in ("kubectl proxy", "direct"):
            if "kubelantern" in best and base in best:
                print(f"  kubelantern / {base:<13} = {best['kubelantern'] / best[base]:.2f}")
        print("  proxy CPU per GB moved (s/GB; lower is better):")
        for label, seconds in cpu.items():
            print(f"  {label:<24} {seconds / (moved_total[label] / 1e9):10.2f} s/GB")


def main() -> None:
    with stack() as targets:
        asyncio.run(main_async(targets))


if __name__ == "__main__":
    main()
