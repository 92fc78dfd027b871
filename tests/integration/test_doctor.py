"""`kubelantern doctor` against the simulator profiles."""

from __future__ import annotations

import io
import json
from pathlib import Path

import pytest

from kubelantern.doctor import run_doctor
from kubelantern.settings import Settings
from tests.harness.stack import CONTEXT_NAMES


@pytest.mark.parametrize("profile", ["kubernetes", "rancher", "legacy"])
async def test_doctor_table(kubeconfig: Path, profile: str) -> None:
    out = io.StringIO()
    code = await run_doctor(Settings(kubeconfigs=(kubeconfig,)), CONTEXT_NAMES[profile], False, out)
    text = out.getvalue()
    assert code == 0, text
    assert all(len(line) <= 100 for line in text.splitlines()), text
    assert f"cluster {CONTEXT_NAMES[profile]}" in text
    assert "reachable   yes (HTTP 200" in text
    lines = {line.split()[0]: line for line in text.splitlines() if line.startswith("  ")}
    assert lines["header"].split()[1:3] == ["ok", "ok"]
    assert "101/101" in lines["header"]
    if profile == "rancher":
        assert "profile     rancher (server URL path contains /k8s/clusters)" in text
        assert lines["subprotocol*"].split()[1:4] == ["FAIL", "FAIL", "401/401"]
        assert "Rancher refuses the bearer subprotocol (401)" in text
    else:
        assert "profile     kubernetes" in text
        assert lines["subprotocol"].split()[1:3] == ["ok", "ok"]
    assert "verdict     OK" in text


async def test_doctor_json_all_clusters(kubeconfig: Path) -> None:
    out = io.StringIO()
    code = await run_doctor(Settings(kubeconfigs=(kubeconfig,)), None, True, out)
    data = json.loads(out.getvalue())
    by_name = {c["cluster"]: c for c in data["clusters"]}
    for profile in ("kubernetes", "rancher", "legacy"):
        report = by_name[CONTEXT_NAMES[profile]]
        assert report["ok"] is True, report
        assert report["reachable"] is True and report["auth_status"] == 200
        assert report["version"].startswith("v1.")
        assert {s["strategy"] for s in report["strategies"]} >= {"header", "both"}
        header = next(s for s in report["strategies"] if s["strategy"] == "header")
        assert header["exec_ok"] and header["logs_ok"] and header["exec_status"] == 101
    assert by_name[CONTEXT_NAMES["rancher"]]["profile"] == "rancher"
    assert data["ok"] is (code == 0)


async def test_doctor_bad_token_and_unreachable(
    tmp_path: Path, sims: dict[str, object], pki: object
) -> None:
    from tests.harness.kubeconfig import Context, write_kubeconfig

    rancher = sims["rancher"]
    ctx = rancher.context  # type: ignore[attr-defined]
    config = write_kubeconfig(
        tmp_path / "config",
        [
            Context("expired", ctx.server, ctx.ca_pem, "token-x7k2p:wrong"),
            Context("gone", "https://127.0.0.1:1", ctx.ca_pem, "t"),
        ],
    )
    out = io.StringIO()
    code = await run_doctor(Settings(kubeconfigs=(config,)), None, False, out)
    text = out.getvalue()
    assert code == 1
    assert "401 with kubeconfig credentials" in text
    assert "cluster unreachable" in text and "proxy-url" in text
    assert "wrong" not in text  # never a token
