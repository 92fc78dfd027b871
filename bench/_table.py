"""The proxy benchmark's table (artifacts/bench/proxy.txt) from its JSON result."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

from bench._stats import fmt


def _targets(section: dict[str, Any], lines: list[str]) -> Iterator[tuple[str, dict[str, Any]]]:
    """A section's measured targets (every key but `stack`); a failed one gets its FAILED line."""
    for label, t in section.items():
        if label == "stack":
            continue
        if "error" in t:
            lines.append(f"  {label:<38} FAILED: {t['error']}")
            continue
        yield label, t


def table(result: dict[str, Any]) -> str:
    cfg = result["meta"]["config"]
    lines = [
        f"kubelantern proxy benchmark {result['meta']['started']}: {cfg['mb']} MiB transfers, "
        f"{cfg['rounds']} rounds + 1 warm-up per stack, stacks: "
        + ", ".join(f"{s['id']} {s['kind']}" for s in result["stacks"]),
        "values: median [min-max] over rounds; noisy = other processes (or the host: steal) "
        f"used > {result['meta']['noise_threshold_cores']} core during the transfer, beyond "
        f"{result['meta'].get('noise_slack_s', 0)} s of /proc/stat's tick sampling; "
        "irq+softirq: the kernel's interrupt and network work, the stack's loopback included",
        "",
    ]
    for name, entry in result["throughput"].items():
        if not entry["transfers"]:
            continue
        lines.append(f"{name}: {entry['what']}")
        lines.append(f"  {'target':<38} {'CPU s/GB':<22} {'minor faults/GB':<26} "
                     f"{'MB/s':<22} {'noisy':<6} irq+softirq cores")  # fmt: skip
        for label, s in entry["summary"].items():
            lines.append(
                f"  {label:<38} {fmt(s.get('cpu_s_per_gb'), 3):<22} "
                f"{fmt(s.get('minflt_per_gb'), 0):<26} {fmt(s.get('mb_s'), 0):<22} "
                f"{s['noisy']}/{s['transfers']:<4} {fmt(s.get('irq_cores'))}"
            )
        for key, r in entry["ratios"].items():
            lines.append(
                f"  ratio {key:<60} {fmt(r['all'])} (n={r['all']['n']}); "
                f"quiet rounds {fmt(r['quiet'])} (n={r['quiet']['n']})"
            )
        lines.append("")
    for s in result["follow_latency"]:
        lines.append(f"logs -f line latency (stack {s['stack']}, {s['seconds']} s):")
        for label, t in s["targets"].items():
            added = t["added_over_direct_ms"]
            lines.append(
                f"  {label:<38} {t['lines']:>3} lines, latency ms {fmt(t['latency_ms'], 2)}"
                + (f", added over direct ms {fmt(added, 2)}" if added else "")
            )
    for s in result["concurrent_streams"]:
        lines.append(f"concurrent exec streams (stack {s['stack']}):")
        for label, t in _targets(s, lines):
            lines.append(
                f"  {label:<38} {t['complete_in_order']}/{t['streams']} whole and in order, "
                f"{t['wall_s']} s, CPU {t['cpu_s']} s, peak RSS {t['peak_rss_mb']} MB"
                + (f", errors {t['errors']}: {t['first_error']}" if t["errors"] else "")
            )
    for s in result["idle_websockets"]:
        lines.append(f"idle WebSockets (stack {s['stack']}):")
        for label, t in _targets(s, lines):
            lines.append(
                f"  {label:<38} {t['sessions']} sessions: {t['kib_per_session']} KiB each "
                f"(RSS {t['baseline_mb']} -> {t['open_mb']} MB); after close "
                f"{t['after_close_mb']} MB ({'+' if t['after_close_over_baseline_mb'] >= 0 else ''}"
                f"{t['after_close_over_baseline_mb']} MB)"
            )
    for s in result["small_requests"]:
        lines.append(
            f"small requests (stack {s['stack']}, {s['requests']} interleaved, "
            f"{s['path']}{', noisy' if s['noisy'] else ''}):"
        )
        for label, t in s["targets"].items():
            extra = ""
            if "cpu_us_per_request" in t:
                extra += f", CPU {t['cpu_us_per_request']} µs/request"
            if "added_p50_ms" in t:
                extra += f", added p50 {t['added_p50_ms']} / p99 {t['added_p99_ms']} ms"
            lines.append(f"  {label:<38} p50 {t['p50_ms']} ms, p99 {t['p99_ms']} ms{extra}")
    for s in result["startup"]:
        lines.append(
            f"start-up to first proxied answer (stack {s['stack']}, {s['clusters']} clusters, "
            f"{s['rounds']} rounds):"
        )
        for label, t in s["targets"].items():
            lines.append(f"  {label:<38} {fmt(t['ms'], 0)} ms, CPU {fmt(t['cpu_ms'], 0)} ms")
        for label, r in s["ratios"].items():
            lines.append(f"  {label:<38} {fmt(r)}")
    for e in result["errors"]:
        lines.append(f"FAILED in stack {e['stack']}: {e['load']}: {e['error']}")
    lines += ["", "targets (issue 12):"]
    for row in result["targets"]:
        mark = {True: "met", False: "MISSED", None: "not measured"}[row["met"]]
        value = row["value"]
        shown = f"{value:.3g}" if isinstance(value, float) else str(value)
        lines.append(f"  {mark:<12} {row['target']}: {shown}{row['unit']} (limit {row['limit']})")
    return "\n".join(lines)
