"""HTTP log streaming throughput and small-request latency: kubelantern vs direct vs
`kubectl proxy`, same simulator, same run.

- Throughput: `GET .../pods/bulk/log?container=firehose` on the simulator's benchmark pod,
  which streams `firehose_bytes` of log lines as fast as the socket takes them (chunked
  text/plain, like kube-apiserver); best of ROUNDS, MB/s.
- Latency: sequential `GET /api/v1/namespaces/default/pods` (JSON list), median ms.

    python -m bench http_throughput      # or: make bench
"""

from __future__ import annotations

import asyncio
import os
import statistics
import time
from ssl import SSLContext

import aiohttp

from bench._stack import Stack, report, stack

ROUNDS = int(os.environ.get("KL_BENCH_ROUNDS", "3"))
REQUESTS = int(os.environ.get("KL_BENCH_REQUESTS", "300"))
LOG_PATH = "/api/v1/namespaces/bench/pods/bulk/log?container=firehose"
LIST_PATH = "/api/v1/namespaces/default/pods"


async def _throughput(base: str, headers: dict[str, str], ssl: SSLContext | bool) -> float:
    best = 0.0
    async with aiohttp.ClientSession(auto_decompress=False) as session:
        for _ in range(ROUNDS):
            got = 0
            started = time.perf_counter()
            async with session.get(base + LOG_PATH, headers=headers, ssl=ssl) as resp:
                resp.raise_for_status()
                async for chunk in resp.content.iter_any():
                    got += len(chunk)
            seconds = time.perf_counter() - started
            if got < 1_000_000:
                raise RuntimeError(f"{base}: only {got} bytes of firehose log")
            best = max(best, got / seconds / 1e6)
    return best


async def _latency(base: str, headers: dict[str, str], ssl: SSLContext | bool) -> float:
    samples = []
    async with aiohttp.ClientSession() as session:
        for _ in range(REQUESTS):
            started = time.perf_counter()
            async with session.get(base + LIST_PATH, headers=headers, ssl=ssl) as resp:
                resp.raise_for_status()
                await resp.read()
            samples.append((time.perf_counter() - started) * 1000)
    return statistics.median(samples)


def _paths(s: Stack) -> dict[str, tuple[str, dict[str, str], SSLContext | bool]]:
    paths: dict[str, tuple[str, dict[str, str], SSLContext | bool]] = {
        "direct": (s.direct, s.direct_headers, s.direct_ssl),
        "kubelantern": (s.lantern, {}, True),
    }
    if s.kubectl_proxy:
        paths["kubectl proxy"] = (s.kubectl_proxy, {}, True)
    return paths


def main() -> None:
    with stack() as s:
        paths = _paths(s)

        async def run() -> tuple[dict[str, float], dict[str, float]]:
            mbps = {name: await _throughput(*p) for name, p in paths.items()}
            ms = {name: await _latency(*p) for name, p in paths.items()}
            return mbps, ms

        mbps, ms = asyncio.run(run())
    print(f"log stream throughput (best of {ROUNDS}, MB/s):")
    report(mbps, "MB/s")
    print(f"pod list latency (median of {REQUESTS}, ms; lower is better):")
    report(ms, "ms")


if __name__ == "__main__":
    main()
