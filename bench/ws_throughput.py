"""WebSocket exec throughput: kubelantern vs a direct connection vs `kubectl proxy`.

Same simulator, same run: an exec of `firehose SIZE` (the simulator's fast byte source)
read to the end over `v5.channel.k8s.io`, ROUNDS interleaved rounds per path; the best
MB/s counts. `kubectl proxy` tunnels raw bytes after the 101, the bar DESIGN §4 sets for
the bridge. `kubelantern (messages)` is the bridge with its raw fast path switched off
(`KUBELANTERN_WS_FASTPATH=0`): the message relay, for comparison.

    python -m bench ws_throughput            # or: make bench
    KL_BENCH_MB=256 python -m bench ws_throughput
"""

from __future__ import annotations

import asyncio
import os
import time
from urllib.parse import urlencode

import aiohttp

from bench._stack import Target, best_of, cpu_per_gb, report, stack

SIZE_MB = int(os.environ.get("KL_BENCH_MB", "128"))
ROUNDS = int(os.environ.get("KL_BENCH_ROUNDS", "3"))


async def _find_pod(session: aiohttp.ClientSession, t: Target) -> tuple[str, str]:
    async with session.get(f"{t.base}/api/v1/pods", headers=t.headers, ssl=t.ssl) as resp:
        items = (await resp.json())["items"]
    for pod in items:
        first = pod["spec"]["containers"][0]
        if pod["status"].get("phase") == "Running" and "distroless" not in first["image"]:
            if first["name"] != "firehose":
                return pod["metadata"]["namespace"], pod["metadata"]["name"]
    raise RuntimeError(f"{t.label}: no running pod with a shell")


async def main_async(targets: list[Target]) -> None:
    query = urlencode([("command", "firehose"), ("command", f"{SIZE_MB}M"), ("stdout", "true")])
    async with aiohttp.ClientSession() as session:
        ns, pod = await _find_pod(session, targets[0])
        path = f"/api/v1/namespaces/{ns}/pods/{pod}/exec?{query}"

        async def stream(t: Target) -> int:
            got = 0
            async with session.ws_connect(
                t.base + path,
                protocols=("v5.channel.k8s.io",),
                headers=t.headers,
                ssl=t.ssl,
                max_msg_size=0,
            ) as ws:
                async for msg in ws:
                    if msg.type is aiohttp.WSMsgType.BINARY and msg.data[:1] == b"\x01":
                        got += len(msg.data) - 1
            if got != SIZE_MB * 1024 * 1024:
                raise RuntimeError(f"{t.label}: got {got} bytes, expected {SIZE_MB} MiB")
            return got

        async def one(t: Target) -> float:
            started = time.perf_counter()
            got = await stream(t)
            return got / (time.perf_counter() - started) / 1e6

        best = await best_of(targets, ROUNDS, one, low=False)
        cpu = await cpu_per_gb(targets, ROUNDS, stream)
    report(f"exec stdout throughput ({SIZE_MB} MiB, best of {ROUNDS}, MB/s):", best, "MB/s")
    report("proxy CPU per GB of exec stdout (s/GB; lower is better):", cpu, "s/GB")


def main() -> None:
    with stack({"kubelantern (messages)": {"KUBELANTERN_WS_FASTPATH": "0"}}) as targets:
        asyncio.run(main_async(targets))


if __name__ == "__main__":
    main()
