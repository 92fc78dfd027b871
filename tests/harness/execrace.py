"""Many one-shot `kubectl exec` runs through kubelantern, counting the ones whose output went
missing: client-go before 1.34 starts its WebSocket reader before it has made its streams,
and a data frame that arrives in that window is dropped ("Unknown stream id 1, discarding
message"); kubelantern, which forwards upstream bytes right behind its 101, hits the window
more often than an API server does (`proxy/ws/handover.py`).

Used by `tests/integration/test_kubectl_exec_race.py` and, for the numbers in the
commit messages, as a script:

    .venv/bin/python -m tests.harness.execrace --minors 1.30,1.31,1.32,1.33 -n 800 -j 4

or paired, two `kubelantern serve` processes (one on another source tree, e.g. `git
archive main src | tar -x -C /tmp/old`) in alternating rounds against one simulator:

    .venv/bin/python -m tests.harness.execrace --before /tmp/old/src -n 1000 --rounds 10
"""

from __future__ import annotations

import argparse
import json
import statistics
import subprocess
import sys
import tempfile
import time
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from pathlib import Path

from tests.harness.kubectl import kubectl_command, kubectl_env


@dataclass
class Outcome:
    minor: str
    runs: int = 0
    lost: int = 0  # the output went missing: the race (see `one_exec`)
    failed: int = 0  # anything else (another non-zero exit, a timeout)
    seconds: list[float] = field(default_factory=list)
    examples: list[str] = field(default_factory=list)

    def summary(self) -> dict[str, object]:
        s = sorted(self.seconds)
        return {
            "minor": self.minor,
            "runs": self.runs,
            "lost": self.lost,
            "failed": self.failed,
            "median_ms": round(statistics.median(s) * 1000, 1) if s else None,
            "p10_ms": round(s[len(s) // 10] * 1000, 1) if s else None,
            "p90_ms": round(s[len(s) * 9 // 10] * 1000, 1) if s else None,
        }


def one_exec(
    kubectl: str, server: str, folder: Path, pod: tuple[str, str, str], word: str
) -> tuple[str, float, str]:
    """("ok" | "lost" | "failed", seconds, detail) of `kubectl exec POD -- echo WORD`.

    The race shows two ways: stdout missing with exit 0 (only the data frames came early),
    or exit 1 "closed all streams" after "Unknown stream id" (the whole exec, its status
    and Close included, arrived before kubectl had made its streams)."""
    ns, name, container = pod
    argv = [*kubectl_command(kubectl, server, folder), "exec", "-n", ns, name, "-c", container]
    started = time.monotonic()
    try:
        done = subprocess.run(
            [*argv, "--", "echo", word],
            capture_output=True,
            env=kubectl_env(folder),
            timeout=30,
            check=False,
        )
    except subprocess.TimeoutExpired:
        return "failed", time.monotonic() - started, "timeout"
    took = time.monotonic() - started
    if b"Unknown stream id" in done.stderr:
        return "lost", took, f"exit {done.returncode}: {done.stderr.decode()[-300:]}"
    if done.returncode != 0:
        return "failed", took, f"exit {done.returncode}: {done.stderr.decode()[-300:]}"
    if done.stdout != f"{word}\n".encode():
        return "lost", took, f"stdout={done.stdout!r} stderr={done.stderr.decode()[-300:]!r}"
    return "ok", took, ""


def run_execs(
    kubectl: str,
    minor: str,
    server: str,
    folder: Path,
    pod: tuple[str, str, str],
    *,
    count: int,
    parallel: int,
    budget: float,
) -> Outcome:
    """Up to `count` execs, `parallel` at a time, stopping after `budget` seconds."""
    outcome = Outcome(minor)
    deadline = time.monotonic() + budget
    folder.mkdir(parents=True, exist_ok=True)
    # Warm kubectl's discovery cache once, so every counted run does the same work.
    one_exec(kubectl, server, folder, pod, "warm")

    def worker(start: int) -> None:
        for i in range(start, count, parallel):
            if time.monotonic() > deadline:
                return
            verdict, took, detail = one_exec(kubectl, server, folder, pod, f"hi-{minor}-{i}")
            outcome.runs += 1
            outcome.seconds.append(took)
            if verdict == "lost":
                outcome.lost += 1
            elif verdict == "failed":
                outcome.failed += 1
            if detail and len(outcome.examples) < 3:
                outcome.examples.append(detail)

    with ThreadPoolExecutor(parallel) as pool:
        list(pool.map(worker, range(parallel)))
    return outcome


def paired(args: argparse.Namespace, root: Path, kubeconfig: Path) -> None:
    """Rounds alternating (and rotating which goes first) between kubelantern on
    `args.before` and on this tree; per minor and side, the totals and latency."""
    from tests.harness.kubectl_matrix import KUBECTL_DIR
    from tests.harness.serveproc import ServeProcess
    from tests.harness.stack import CONTEXT_NAMES

    sides = {
        "before": ServeProcess(
            ["--no-token", "--kubeconfig", str(kubeconfig)], env={"PYTHONPATH": args.before}
        ).start(),
        "after": ServeProcess(["--no-token", "--kubeconfig", str(kubeconfig)]).start(),
    }
    try:
        name = CONTEXT_NAMES["kubernetes"]
        pod = _pod(f"{sides['after'].url}/clusters/{name}")
        minors = args.minors.split(",")
        per_round = max(1, args.count // args.rounds)
        totals = {(m, side): Outcome(m) for m in minors for side in sides}
        deltas: dict[str, list[float]] = {m: [] for m in minors}  # per round, after - before
        for r in range(args.rounds):
            order = list(sides) if r % 2 == 0 else list(reversed(sides))
            for minor in minors:
                medians = {}
                for side in order:
                    got = run_execs(
                        str(KUBECTL_DIR / f"kubectl.{minor}"),
                        minor,
                        f"{sides[side].url}/clusters/{name}",
                        root / side / minor,
                        pod,
                        count=per_round,
                        parallel=args.parallel,
                        budget=args.budget,
                    )
                    total = totals[(minor, side)]
                    total.runs += got.runs
                    total.lost += got.lost
                    total.failed += got.failed
                    total.seconds += got.seconds
                    total.examples = (total.examples + got.examples)[:3]
                    medians[side] = statistics.median(got.seconds)
                deltas[minor].append(medians["after"] - medians["before"])
            print(f"round {r + 1}/{args.rounds} done", file=sys.stderr, flush=True)
        for (_, side), total in totals.items():
            print(json.dumps({"side": side, **total.summary(), "examples": total.examples}))
        for minor, values in deltas.items():
            ms = sorted(round(v * 1000, 1) for v in values)
            print(
                json.dumps(
                    {
                        "minor": minor,
                        "added_ms_median": statistics.median(ms),
                        "added_ms_min": ms[0],
                        "added_ms_max": ms[-1],
                        "rounds": ms,
                    }
                )
            )
    finally:
        for proc in sides.values():
            proc.stop()


def _pod(base: str) -> tuple[str, str, str]:
    import urllib.request

    from tests.harness.proxy import _shell_pod

    with urllib.request.urlopen(base + "/api/v1/pods", timeout=10) as resp:
        found = _shell_pod(json.load(resp)["items"])
    assert found is not None
    return found


def main(argv: list[str] | None = None) -> int:
    from kubelantern.settings import Settings
    from tests.harness.kubeconfig import write_kubeconfig
    from tests.harness.kubectl_matrix import KUBECTL_DIR
    from tests.harness.pki import make_pki
    from tests.harness.proxy import cluster_base, running_pod
    from tests.harness.stack import start_kubelantern, start_sim

    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--minors", default="1.30,1.31,1.32,1.33")
    parser.add_argument("-n", "--count", type=int, default=800, help="execs per minor")
    parser.add_argument("-j", "--parallel", type=int, default=4)
    parser.add_argument("--budget", type=float, default=900, help="seconds per minor")
    parser.add_argument("--before", help="another tree's src/ to compare with (paired)")
    parser.add_argument("--rounds", type=int, default=10, help="paired: alternating rounds")
    args = parser.parse_args(argv)
    with tempfile.TemporaryDirectory() as tmp:
        root = Path(tmp)
        (root / "pki").mkdir()
        pki = make_pki(root / "pki")
        sim = start_sim(pki, "kubernetes")
        kubeconfig = write_kubeconfig(root / "config", [sim.context])
        if args.before:
            try:
                paired(args, root, kubeconfig)
            finally:
                sim.server.stop()
            return 0
        lantern = start_kubelantern(Settings(kubeconfigs=(kubeconfig,), launch_token=None))
        try:
            pod = running_pod(lantern, "kubernetes")
            server = cluster_base(lantern, "kubernetes")
            for minor in args.minors.split(","):
                kubectl = str(KUBECTL_DIR / f"kubectl.{minor}")
                outcome = run_execs(
                    kubectl,
                    minor,
                    server,
                    root / minor,
                    pod,
                    count=args.count,
                    parallel=args.parallel,
                    budget=args.budget,
                )
                print(json.dumps({**outcome.summary(), "examples": outcome.examples}), flush=True)
        finally:
            lantern.stop()
            sim.server.stop()
    return 0


if __name__ == "__main__":
    sys.exit(main())
