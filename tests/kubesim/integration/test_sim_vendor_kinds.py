"""The real kubectl against the simulator's vendor API groups: OpenShift's routes, projects and
deploymentconfigs print the columns `oc get` shows; Rancher's Projects are served as the CRD
Rancher installs (issue 11: the UI lists these from discovery and Table output)."""

from __future__ import annotations

import subprocess
from pathlib import Path

import pytest

from tests.harness.kubeconfig import write_kubeconfig
from tests.harness.stack import SimCluster

pytestmark = pytest.mark.kubectl


def get(kubectl: str, sim: SimCluster, tmp_path: Path, *args: str) -> list[list[str]]:
    config = write_kubeconfig(tmp_path / f"{sim.profile}.yaml", [sim.context])
    out = subprocess.run(
        [kubectl, "--kubeconfig", str(config), "get", *args],
        capture_output=True,
        text=True,
        timeout=30,
        check=False,
    )
    assert out.returncode == 0, out.stderr
    # Columns are separated by at least two spaces ("DISPLAY NAME" is one header).
    return [[c.strip() for c in line.split("  ") if c.strip()] for line in out.stdout.splitlines()]


def test_openshift_kinds_print_oc_columns(
    kubectl: str, sims: dict[str, SimCluster], tmp_path: Path
) -> None:
    sim = sims["openshift"]
    routes = get(kubectl, sim, tmp_path, "routes", "-n", "shop")
    assert routes[0] == ["NAME", "HOST/PORT", "PATH", "SERVICES", "PORT", "TERMINATION", "WILDCARD"]
    assert routes[1] == [
        "frontend",
        "frontend-shop.apps.ocp.example.com",
        "frontend",
        "http",
        "edge",
        "None",
    ]
    dcs = get(kubectl, sim, tmp_path, "dc", "-n", "shop")
    assert dcs[0] == ["NAME", "REVISION", "DESIRED", "CURRENT", "TRIGGERED BY"]
    assert dcs[1] == ["legacy-billing", "4", "0", "0", "manual"]
    projects = get(kubectl, sim, tmp_path, "projects")
    assert projects[0] == ["NAME", "DISPLAY NAME", "STATUS"]
    assert ["shop", "shop", "Active"] in projects


def test_rancher_projects_are_a_crd_on_the_rancher_profile_only(
    kubectl: str, sims: dict[str, SimCluster], tmp_path: Path
) -> None:
    rows = get(kubectl, sims["rancher"], tmp_path, "projects.management.cattle.io", "-A")
    assert rows[0] == ["NAMESPACE", "NAME", "AGE"]
    assert {r[1] for r in rows[1:]} == {"p-7xk2q", "p-m4bzd", "p-shop9"}
    kinds = sims["kubernetes"].state.registry
    assert not any(rt.group == "management.cattle.io" for rt in kinds)
