"""What `kubelantern doctor` found, the verdict, and its rendering (pure: no IO).

The verdict logic and the table live here so they are tested without clusters; the
probing is in `doctor/checks.py`.
"""

from __future__ import annotations

import json
from dataclasses import asdict, dataclass, field
from typing import Any

from kubelantern.observe.logfilter import redact_text

WIDTH = 100  # the table stays readable in a 100-column terminal


@dataclass
class StrategyResult:
    strategy: str
    exec_ok: bool | None = None  # None: not tested
    logs_ok: bool | None = None
    exec_status: int | None = None  # 101, the refusal status, or None (no answer)
    logs_status: int | None = None
    latency_ms: float | None = None  # exec: handshake to close
    detail: str = ""  # why it failed, in a few words (never a token)
    in_profile: bool = True  # False: tested for information, not used for this profile

    @property
    def works(self) -> bool:
        tested = [r for r in (self.exec_ok, self.logs_ok) if r is not None]
        return bool(tested) and all(tested)


@dataclass
class ClusterReport:
    cluster: str
    server: str
    reachable: bool = False
    error: str | None = None  # reachability / auth problem, as the probe said it
    auth_status: int | None = None
    auth_latency_ms: float | None = None
    credentials: str = ""  # how kubelantern authenticates (describe(); never a secret)
    version: str | None = None
    profile: str = "kubernetes"
    profile_reason: str = ""
    pod: str | None = None  # namespace/name (container)
    pod_note: str | None = None  # why no pod was tested
    strategies: list[StrategyResult] = field(default_factory=list)
    ok: bool = False
    verdict: str = ""
    advice: list[str] = field(default_factory=list)

    def to_json(self) -> dict[str, Any]:
        return asdict(self)


def judge(report: ClusterReport, *, uses_exec_plugin: bool = False) -> ClusterReport:
    """Fill `ok`, `verdict` and `advice` from the findings."""
    advice: list[str] = []
    name = report.cluster
    if not report.reachable:
        report.ok = False
        report.verdict = f"cluster unreachable: {report.error or 'no answer'}"
        advice.append(
            "check the VPN, the server URL, the kubeconfig's proxy-url (or HTTPS_PROXY), "
            "and that the API server is up"
        )
        report.advice = advice
        return report
    if report.auth_status == 401:
        report.ok = False
        report.verdict = f"401 with kubeconfig credentials ({report.credentials or 'none'})"
        if uses_exec_plugin:
            advice.append(
                "the exec plugin's token was refused: log in again with your cloud CLI "
                "(`aws sso login` then `aws eks update-kubeconfig`, `gcloud auth login`, "
                "`az login` / `kubelogin`)"
            )
        else:
            advice.append(
                "your token expired or was revoked: get a fresh kubeconfig (for Rancher: "
                "download it again from the cluster page) or run `kubectl login`"
            )
        report.advice = advice
        return report
    if report.error and report.auth_status is None:
        report.ok = False
        report.verdict = report.error
        report.advice = advice
        return report
    if report.pod is None:
        report.ok = False
        report.verdict = f"no running pod to test exec and logs ({report.pod_note or 'none found'})"
        advice.append("start any pod (e.g. `kubectl run doctor --image=busybox -- sleep 600`)")
        report.advice = advice
        return report

    used = [s for s in report.strategies if s.in_profile]
    working = [s for s in used if s.works]
    failing = [s for s in used if not s.works]
    extras_failing = [s for s in report.strategies if not s.in_profile and not s.works]
    if not working:
        report.ok = False
        codes = ", ".join(f"{s.strategy}: {_codes(s)}" for s in used)
        report.verdict = f"no WebSocket strategy works ({codes})"
        statuses = {s.exec_status for s in used} | {s.logs_status for s in used}
        if 403 in statuses:
            advice.append(
                "the upstream forbids the upgrade: check RBAC for pods/exec and pods/log "
                "(`kubectl auth can-i create pods/exec`), or a proxy in front of the cluster"
            )
        if 401 in statuses:
            advice.append("the credentials are refused on WebSocket upgrades: refresh them")
        if not advice:
            advice.append(
                "look for an HTTP proxy or load balancer in front of the API server that "
                "does not pass WebSocket upgrades"
            )
        report.advice = advice
        return report

    report.ok = True
    first = working[0].strategy
    if failing:
        notes = []
        for s in failing:
            notes.append(f"{s.strategy} ({_codes(s)}{': ' + s.detail if s.detail else ''})")
        report.verdict = f"ok: exec and logs work with '{first}'; refused: " + "; ".join(notes)
        if not used[0].works:
            advice.append(
                f"the profile's default strategy fails here: pin the working one with "
                f"`--strategy {name}={first}` (auto mode also finds it after one retry)"
            )
    else:
        report.verdict = (
            f"ok: exec and logs work with every strategy of the profile ('{first}' first)"
        )
    sub_401 = [
        s
        for s in [*failing, *extras_failing]
        if s.strategy in ("subprotocol", "passthrough") and 401 in (s.exec_status, s.logs_status)
    ]
    if sub_401:
        who = "Rancher" if report.profile == "rancher" else "this cluster"
        advice.append(
            f"{who} refuses the bearer subprotocol (401): kubelantern uses the "
            f"'{first}' strategy automatically"
        )
    report.advice = advice
    return report


def _codes(s: StrategyResult) -> str:
    def one(v: int | None) -> str:
        return "-" if v is None else str(v)

    return f"{one(s.exec_status)}/{one(s.logs_status)}"


def _mark(v: bool | None) -> str:
    return "-" if v is None else ("ok" if v else "FAIL")


def _wrap(label: str, text: str, width: int = WIDTH) -> list[str]:
    """`label` then `text`, wrapped to `width` with a hanging indent."""
    indent = " " * 14
    words = text.split()
    lines: list[str] = []
    current = f"  {label:<12}"
    for word in words:
        if len(current) + 1 + len(word) > width and current.strip() != label:
            lines.append(current.rstrip())
            current = indent
        current += (" " if not current.endswith(" ") else "") + word
    lines.append(current.rstrip())
    return lines


def render_table(reports: list[ClusterReport]) -> str:
    out: list[str] = []
    for r in reports:
        out.append(f"cluster {r.cluster}")
        out.extend(_wrap("server", r.server))
        if r.reachable:
            auth = f"HTTP {r.auth_status}" if r.auth_status is not None else "?"
            if r.auth_latency_ms is not None:
                auth += f" in {r.auth_latency_ms:.0f} ms"
            out.extend(_wrap("reachable", f"yes ({auth})"))
        else:
            out.extend(_wrap("reachable", f"NO: {r.error or 'no answer'}"))
        if r.credentials:
            out.extend(_wrap("credentials", r.credentials))
        if r.version:
            out.extend(_wrap("version", r.version))
        out.extend(_wrap("profile", f"{r.profile} ({r.profile_reason})"))
        if r.pod:
            out.extend(_wrap("test pod", r.pod))
        elif r.reachable:
            out.extend(_wrap("test pod", f"none: {r.pod_note or 'no running pod'}"))
        if r.strategies:
            out.append(
                f"  {'strategy':<18} {'exec':<5} {'logs':<5} {'status exec/logs':<17} latency"
            )
            for s in r.strategies:
                label = s.strategy if s.in_profile else s.strategy + "*"
                latency = f"{s.latency_ms:.0f} ms" if s.latency_ms is not None else "-"
                line = (
                    f"  {label:<18} {_mark(s.exec_ok):<5} {_mark(s.logs_ok):<5} "
                    f"{_codes(s):<17} {latency}"
                )
                if s.detail and not s.works:
                    room = WIDTH - len(line) - 3
                    if room > 10:
                        detail = s.detail if len(s.detail) <= room else s.detail[: room - 1] + "…"
                        line += f"  {detail}"
                out.append(line)
            if any(not s.in_profile for s in r.strategies):
                out.append("  * not in this profile's order; tested for information")
        out.extend(_wrap("verdict", ("OK " if r.ok else "FAIL ") + r.verdict.removeprefix("ok: ")))
        for a in r.advice:
            out.extend(_wrap("advice", a))
        out.append("")
    return "\n".join(out)


def report_json(reports: list[ClusterReport]) -> dict[str, Any]:
    """The `--json` document, also served by `POST /api/clusters/{name}/doctor`. Texts
    come from plugins' stderr and servers' bodies: redacted like the logs."""
    return {
        "ok": all(r.ok for r in reports) and bool(reports),
        "clusters": [_redacted(r.to_json()) for r in reports],
    }


def _redacted(value: Any) -> Any:
    if isinstance(value, str):
        return redact_text(value)
    if isinstance(value, list):
        return [_redacted(v) for v in value]
    if isinstance(value, dict):
        return {k: _redacted(v) for k, v in value.items()}
    return value


def render_json(reports: list[ClusterReport]) -> str:
    return json.dumps(report_json(reports), indent=2)
