"""HTTP log streaming throughput and small-request latency: kubelantern vs direct vs
`kubectl proxy`, same simulator, same run.

- Throughput: `GET .../pods/bulk/log?container=firehose` on the simulator's benchmark pod,
  which streams `firehose_bytes` of log lines as fast as the socket takes them (chunked
  text/plain, like kube-apiserver); best of ROUNDS, MB/s.
- CPU: seconds of the proxy process's CPU time per GB streamed (less noisy than MB/s
  on a shared 2-core machine).
- Latency: `GET /api/v1/namespaces/default/pods` (JSON list) REQUESTS times in a row;
  best median of ROUNDS, ms.

    python -m bench http_throughput      # or: make bench
"""

from __future__ import annotations

import asyncio
import os
import statistics
import time

import aiohttp

from bench._stack import Target, best_of, cpu_per_gb, report, stack

ROUNDS = int(os.environ.get("KL_BENCH_ROUNDS", "3"))
REQUESTS = int(os.environ.get("KL_BENCH_REQUESTS", "200"))
LOG_PATH = "/api/v1/namespaces/bench/pods/bulk/log?container=firehose"
LIST_PATH = "/api/v1/namespaces/default/pods"


async def main_async(targets: list[Target]) -> None:
    async with aiohttp.ClientSession(auto_decompress=False) as session:

        async def stream(t: Target) -> int:
            got = 0
            async with session.get(t.base + LOG_PATH, headers=t.headers, ssl=t.ssl) as resp:
                resp.raise_for_status()
                async for chunk in resp.content.iter_any():
                    got += len(chunk)
            if got < 1_000_000:
                raise RuntimeError(f"{t.label}: only {got} bytes of firehose log")
            return got

        async def throughput(t: Target) -> float:
            started = time.perf_counter()
            got = await stream(t)
            return got / (time.perf_counter() - started) / 1e6

        async def latency(t: Target) -> float:
            samples = []
            for _ in range(REQUESTS):
                started = time.perf_counter()
                async with session.get(t.base + LIST_PATH, headers=t.headers, ssl=t.ssl) as resp:
                    resp.raise_for_status()
                    await resp.read()
                samples.append((time.perf_counter() - started) * 1000)
            return statistics.median(samples)

        mbps = await best_of(targets, ROUNDS, throughput, low=False)
        cpu = await cpu_per_gb(targets, ROUNDS, stream)
        ms = await best_of(targets, ROUNDS, latency, low=True)
    report(f"log stream throughput (best of {ROUNDS}, MB/s; higher is better):", mbps, "MB/s")
    report("proxy CPU per GB of log stream (s/GB; lower is better):", cpu, "s/GB")
    report(f"pod list latency (median of {REQUESTS}, ms; lower is better):", ms, "ms")


def main() -> None:
    with stack() as targets:
        asyncio.run(main_async(targets))


if __name__ == "__main__":
    main()
