"""Table output for kubectl get."""

from __future__ import annotations

import pytest

from kubesim.config import SimConfig
from kubesim.printers.columns import human_duration
from kubesim.printers.workloads import pod_status_reason
from kubesim.state import make_state
from kubesim.tables import build_table, printer_for, wants_table

KUBECTL_ACCEPT = (
    "application/json;as=Table;v=v1;g=meta.k8s.io,"
    "application/json;as=Table;v=v1beta1;g=meta.k8s.io,application/json"
)


def test_wants_table() -> None:
    assert wants_table(KUBECTL_ACCEPT)
    assert not wants_table("application/json, */*")
    assert not wants_table("application/json;as=APIGroupDiscoveryList;v=v2;g=apidiscovery.k8s.io")


@pytest.mark.parametrize(
    ("seconds", "text"),
    [
        (5, "5s"),
        (119, "119s"),
        (125, "2m5s"),
        (600, "10m"),
        (3 * 3600 + 60, "3h1m"),
        (10 * 3600, "10h"),
        (3 * 86400 + 3600, "3d1h"),
        (41 * 86400, "41d"),
        (-5, "<invalid>"),
    ],
)
def test_human_duration(seconds: int, text: str) -> None:
    assert human_duration(seconds) == text


def test_pod_table_columns_and_rows() -> None:
    state = make_state(SimConfig())
    pods = state.store.list("pods", "shop")
    table = build_table(pods, printer_for("pods", None, "v1"))
    names = [c["name"] for c in table["columnDefinitions"]]
    assert names[:5] == ["Name", "Ready", "Status", "Restarts", "Age"]
    assert {"IP", "Node"} <= set(names)
    rows = {r["cells"][0]: r for r in table["rows"]}
    crash = next(r for n, r in rows.items() if n.startswith("checkout-"))
    assert crash["cells"][1] == "0/1" and crash["cells"][2] == "CrashLoopBackOff"
    assert str(crash["cells"][3]).startswith("7 (")
    catalog = next(r for n, r in rows.items() if n.startswith("catalog-"))
    assert catalog["cells"][1] == "2/2"
    pending = next(r for n, r in rows.items() if n.startswith("importer-"))
    assert pending["cells"][2] == "Pending" and pending["cells"][6] == "<none>"
    assert crash["object"]["kind"] == "PartialObjectMetadata"
    full = build_table(pods[:1], printer_for("pods", None, "v1"), include_object="Object")
    assert full["rows"][0]["object"]["spec"]
    none = build_table(pods[:1], printer_for("pods", None, "v1"), include_object="None")
    assert "object" not in none["rows"][0]


def test_deployment_and_default_columns() -> None:
    state = make_state(SimConfig())
    deploys = state.store.list("deployments.apps", "shop")
    table = build_table(deploys, printer_for("deployments.apps", None, "v1"))
    assert [c["name"] for c in table["columnDefinitions"]][:5] == [
        "Name",
        "Ready",
        "Up-to-date",
        "Available",
        "Age",
    ]
    frontend = next(r for r in table["rows"] if r["cells"][0] == "frontend")
    assert frontend["cells"][1:4] == ["3/3", 3, 3]
    default = printer_for("leases.coordination.k8s.io", None, "v1")
    assert [c["name"] for c in default[0]] == ["Name", "Age"]


def test_crd_printer_columns() -> None:
    state = make_state(SimConfig())
    crd = state.store.get(
        "customresourcedefinitions.apiextensions.k8s.io", "", "widgets.example.com"
    )
    widgets = state.store.list("widgets.example.com", "shop")
    table = build_table(widgets, printer_for("widgets.example.com", crd, "v1"))
    assert [c["name"] for c in table["columnDefinitions"]] == ["Name", "Color", "Size", "Age"]
    assert {r["cells"][1] for r in table["rows"]} == {"red", "blue", "green"}


def test_status_reason_for_init_and_terminating() -> None:
    pod = {
        "metadata": {"name": "p"},
        "spec": {"initContainers": [{"name": "i"}], "containers": [{"name": "c"}]},
        "status": {
            "phase": "Pending",
            "initContainerStatuses": [{"name": "i", "state": {"running": {}}}],
        },
    }
    assert pod_status_reason(pod) == "Init:0/1"
    pod["metadata"]["deletionTimestamp"] = "2026-01-01T00:00:00Z"  # type: ignore[index]
    assert pod_status_reason(pod) == "Terminating"
