"""deploy/kubernetes: every overlay renders with `kubectl kustomize`, says what the issue
asks (probes, hardening, least privilege, stream-friendly Ingress/Route), and a simulator
takes it with a server-side dry-run apply (`kubectl apply --server-side --dry-run=server`)."""

from __future__ import annotations

import subprocess
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
import yaml

from tests.harness.kubeconfig import write_kubeconfig
from tests.harness.stack import SimCluster

DEPLOY = Path(__file__).resolve().parents[2] / "deploy" / "kubernetes"
OVERLAYS = ["base", "overlays/in-cluster", "overlays/extra-clusters", "overlays/openshift"]

pytestmark = pytest.mark.kubectl


def render(kubectl: str, overlay: str) -> list[dict[str, Any]]:
    done = subprocess.run(
        [kubectl, "kustomize", str(DEPLOY / overlay)],
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert done.returncode == 0, done.stderr
    return [d for d in yaml.safe_load_all(done.stdout) if d]


def one(docs: list[dict[str, Any]], kind: str) -> dict[str, Any]:
    found = [d for d in docs if d["kind"] == kind]
    assert len(found) == 1, f"{kind}: {len(found)}"
    return found[0]


@pytest.mark.parametrize("overlay", OVERLAYS)
def test_deployment_is_hardened_and_probed(kubectl: str, overlay: str) -> None:
    docs = render(kubectl, overlay)
    deploy = one(docs, "Deployment")
    assert deploy["spec"]["replicas"] == 2
    pod = deploy["spec"]["template"]["spec"]
    assert pod["securityContext"]["runAsNonRoot"] is True
    assert pod["securityContext"]["seccompProfile"]["type"] == "RuntimeDefault"
    (container,) = pod["containers"]
    sc = container["securityContext"]
    assert sc["allowPrivilegeEscalation"] is False
    assert sc["readOnlyRootFilesystem"] is True
    assert sc.get("privileged", False) is False
    assert sc["capabilities"]["drop"] == ["ALL"]
    assert container["readinessProbe"]["httpGet"]["path"] == "/readyz"
    assert container["livenessProbe"]["httpGet"]["path"] == "/healthz"
    for kind in ("requests", "limits"):
        assert set(container["resources"][kind]) == {"cpu", "memory"}
    # No secret on the command line: they come from a Secret through the environment.
    args = " ".join(container["args"])
    assert "secret" not in args.lower()
    secret_env = {e["name"] for e in container["env"] if "secretKeyRef" in e.get("valueFrom", {})}
    assert {"KUBELANTERN_SESSION_SECRET", "KUBELANTERN_OIDC_CLIENT_SECRET"} <= secret_env
    assert "--in-cluster" in container["args"] and "--host=0.0.0.0" in container["args"]
    # The Service and the PodDisruptionBudget select these pods.
    labels = deploy["spec"]["template"]["metadata"]["labels"]
    for kind in ("Service", "PodDisruptionBudget"):
        obj = one(docs, kind)
        selector = obj["spec"]["selector"]
        selector = selector.get("matchLabels", selector)
        assert selector and all(labels.get(k) == v for k, v in selector.items()), kind
    assert one(docs, "PodDisruptionBudget")["spec"]["minAvailable"] == 1
    if overlay == "overlays/openshift":
        assert "runAsUser" not in pod["securityContext"]  # the SCC picks the UID
    else:
        assert pod["securityContext"]["runAsUser"] != 0


@pytest.mark.parametrize("overlay", OVERLAYS)
def test_least_privilege_rbac(kubectl: str, overlay: str) -> None:
    docs = render(kubectl, overlay)
    bindings = [d for d in docs if d["kind"] in ("ClusterRoleBinding", "RoleBinding")]
    assert bindings
    for b in bindings:
        assert b["roleRef"]["name"] not in ("cluster-admin", "admin", "edit"), b
    roles = {d["metadata"]["name"]: d for d in docs if d["kind"] in ("ClusterRole", "Role")}
    for b in bindings:
        rules = roles[b["roleRef"]["name"]]["rules"]
        for rule in rules:
            assert "resources" not in rule, "kubelantern's own account reads no resources"
            assert "*" not in rule["verbs"] and set(rule["verbs"]) <= {"get"}
    sa = one(docs, "ServiceAccount")
    assert (
        one(docs, "Deployment")["spec"]["template"]["spec"]["serviceAccountName"]
        == (sa["metadata"]["name"])
    )


@pytest.mark.parametrize("overlay", OVERLAYS[:3])
def test_ingress_keeps_streams_open(kubectl: str, overlay: str) -> None:
    ingress = one(render(kubectl, overlay), "Ingress")
    notes = ingress["metadata"]["annotations"]
    assert int(notes["nginx.ingress.kubernetes.io/proxy-read-timeout"]) >= 3600
    assert int(notes["nginx.ingress.kubernetes.io/proxy-send-timeout"]) >= 3600
    assert notes["nginx.ingress.kubernetes.io/proxy-buffering"] == "off"
    backend = ingress["spec"]["rules"][0]["http"]["paths"][0]["backend"]["service"]
    assert backend["name"] == "kubelantern"


def test_openshift_route_instead_of_ingress(kubectl: str) -> None:
    docs = render(kubectl, "overlays/openshift")
    assert not [d for d in docs if d["kind"] == "Ingress"]
    route = one(docs, "Route")
    assert route["metadata"]["annotations"]["haproxy.router.openshift.io/timeout"] == "1h"
    assert route["spec"]["tls"]["termination"] == "edge"


def test_extra_clusters_mount_the_kubeconfig_secret(kubectl: str) -> None:
    pod = one(render(kubectl, "overlays/extra-clusters"), "Deployment")["spec"]["template"]
    (container,) = pod["spec"]["containers"]
    assert "--kubeconfig=/etc/kubelantern/kubeconfig/config" in container["args"]
    mounts = {m["name"]: m for m in container["volumeMounts"]}
    assert mounts["kubeconfig"]["readOnly"] is True
    volumes = {v["name"]: v for v in pod["spec"]["volumes"]}
    assert volumes["kubeconfig"]["secret"]["secretName"] == "kubelantern-kubeconfig"


@pytest.mark.parametrize(
    ("overlay", "profile"),
    [("overlays/extra-clusters", "kubernetes"), ("overlays/openshift", "openshift")],
)
def test_server_side_dry_run_apply_to_the_simulator(
    kubectl: str,
    overlay: str,
    profile: str,
    sim_factory: Callable[..., SimCluster],
    tmp_path: Path,
) -> None:
    sim = sim_factory(profile)
    config = write_kubeconfig(tmp_path / "config", [sim.context])
    rendered = tmp_path / "rendered.yaml"
    rendered.write_text(
        subprocess.run(
            [kubectl, "kustomize", str(DEPLOY / overlay)],
            capture_output=True,
            text=True,
            check=True,
            timeout=60,
        ).stdout
    )
    env = {"HOME": str(tmp_path), "PATH": "/usr/bin:/bin"}
    base = [kubectl, "--kubeconfig", str(config), "--context", sim.context.name]
    # The namespace first (a dry run creates nothing, and the rest lives in it).
    ns = subprocess.run(
        [*base, "create", "namespace", "kubelantern"], capture_output=True, text=True, env=env
    )
    assert ns.returncode == 0, ns.stderr
    before = sim.state.recorded
    done = subprocess.run(
        [*base, "apply", "--server-side", "--dry-run=server", "-f", str(rendered)],
        capture_output=True,
        text=True,
        env=env,
        timeout=120,
    )
    assert done.returncode == 0, done.stderr
    kinds = [line.split("/")[0] for line in done.stdout.splitlines()]
    assert len(kinds) == len(render(kubectl, overlay)), done.stdout
    assert all("serverside-applied (server dry run)" in line for line in done.stdout.splitlines())
    # The requests were real dry runs, and nothing was stored.
    patches = [r for r in sim.state.requests_since(before) if r.method == "PATCH"]
    assert patches and all("dryRun=All" in r.query_string for r in patches)
    got = subprocess.run(
        [*base, "-n", "kubelantern", "get", "deployments", "-o", "name"],
        capture_output=True,
        text=True,
        env=env,
    )
    assert got.returncode == 0 and got.stdout.strip() == "", got.stdout
