"""Doctor verdicts and rendering (pure)."""

from __future__ import annotations

import json

from kubelantern.doctor.report import (
    WIDTH,
    ClusterReport,
    StrategyResult,
    judge,
    render_json,
    render_table,
)


def ok(name: str, in_profile: bool = True) -> StrategyResult:
    return StrategyResult(name, True, True, 101, 101, 12.0, in_profile=in_profile)


def refused(name: str, status: int, in_profile: bool = True) -> StrategyResult:
    return StrategyResult(
        name, False, False, status, status, 3.0, "must authenticate", in_profile=in_profile
    )


def base(**kw: object) -> ClusterReport:
    report = ClusterReport(
        "rancher/down:c-m-abc12",
        "https://rancher.example/k8s/clusters/c-m-abc12",
        reachable=True,
        auth_status=200,
        version="v1.32.4",
        profile="rancher",
        profile_reason="server URL path contains /k8s/clusters",
        pod="default/web-0 (container web)",
    )
    for k, v in kw.items():
        setattr(report, k, v)
    return report


def test_rancher_subprotocol_refusal_is_explained() -> None:
    report = judge(base(strategies=[ok("header"), ok("both"), refused("subprotocol", 401, False)]))
    assert report.ok
    assert report.verdict.startswith("ok: exec and logs work")
    assert any("Rancher refuses the bearer subprotocol (401)" in a for a in report.advice)


def test_default_failing_suggests_pinning() -> None:
    report = judge(base(profile="kubernetes", strategies=[refused("header", 403), ok("both")]))
    assert report.ok and "refused: header (403/403" in report.verdict
    assert any("--strategy rancher/down:c-m-abc12=both" in a for a in report.advice)


def test_nothing_works_fails_with_rbac_advice() -> None:
    report = judge(base(strategies=[refused("header", 403), refused("both", 403)]))
    assert not report.ok and report.verdict.startswith("no WebSocket strategy works")
    assert any("pods/exec" in a for a in report.advice)


def test_unreachable_and_expired_token() -> None:
    down = judge(base(reachable=False, error="connection refused", auth_status=None))
    assert not down.ok and down.verdict.startswith("cluster unreachable")
    assert any("VPN" in a and "proxy-url" in a for a in down.advice)
    expired = judge(base(auth_status=401), uses_exec_plugin=True)
    assert not expired.ok and expired.verdict.startswith("401 with kubeconfig credentials")
    assert any("aws eks update-kubeconfig" in a for a in expired.advice)


def test_no_running_pod_is_not_a_pass() -> None:
    report = judge(base(pod=None, pod_note="no running pod to test exec"))
    assert not report.ok and "no running pod" in report.verdict


def test_table_fits_100_columns_and_json_has_the_same_facts() -> None:
    long_detail = "x" * 300
    strategies = [ok("header"), refused("subprotocol", 401, False)]
    strategies[1].detail = long_detail
    report = judge(base(strategies=strategies))
    table = render_table([report])
    assert all(len(line) <= WIDTH for line in table.splitlines()), table
    assert "header" in table and "subprotocol*" in table and "401/401" in table
    assert "verdict" in table and "OK" in table
    data = json.loads(render_json([report]))
    assert data["ok"] is True
    (cluster,) = data["clusters"]
    assert cluster["cluster"] == "rancher/down:c-m-abc12"
    assert [s["strategy"] for s in cluster["strategies"]] == ["header", "subprotocol"]
    assert cluster["strategies"][1]["exec_status"] == 401
