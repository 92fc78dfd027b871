"""The real kubectl against the simulator directly (HTTPS, throwaway CA), kubernetes and rancher."""

from __future__ import annotations

import subprocess
import time
from pathlib import Path

import pytest
import yaml

from tests.harness.kubeconfig import write_kubeconfig
from tests.harness.stack import SimCluster

pytestmark = pytest.mark.kubectl

PROFILES = ["kubernetes", "rancher"]


@pytest.fixture(scope="module")
def kubeconfigs(
    sims: dict[str, SimCluster], tmp_path_factory: pytest.TempPathFactory
) -> dict[str, Path]:
    folder = tmp_path_factory.mktemp("sim-kubectl")
    return {p: write_kubeconfig(folder / f"{p}.yaml", [sims[p].context]) for p in PROFILES}


def run(
    kubectl: str, config: Path, *args: str, timeout: float = 30
) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [kubectl, "--kubeconfig", str(config), *args],
        capture_output=True,
        text=True,
        timeout=timeout,
        check=False,
    )


def start(kubectl: str, config: Path, *args: str) -> subprocess.Popen[str]:
    """A kubectl that keeps running (`logs -f`, `get -w`); the test reads and kills it."""
    return subprocess.Popen(
        [kubectl, "--kubeconfig", str(config), *args],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )


def own_sim(
    sim_factory: object, tmp_path: Path, profile: str, **config: object
) -> tuple[SimCluster, Path]:
    """A simulator of the test's own (it changes things) and a kubeconfig for it."""
    sim: SimCluster = sim_factory(profile, **config)  # type: ignore[operator]
    return sim, write_kubeconfig(tmp_path / "config", [sim.context])


def pod_name(sim: SimCluster, prefix: str) -> str:
    return next(
        p["metadata"]["name"]
        for p in sim.state.store.list("pods", "shop")
        if p["metadata"]["name"].startswith(prefix)
    )


@pytest.mark.parametrize("profile", PROFILES)
def test_get_pods_all_namespaces(
    kubectl: str, kubeconfigs: dict[str, Path], sims: dict[str, SimCluster], profile: str
) -> None:
    out = run(kubectl, kubeconfigs[profile], "get", "pods", "-A")
    assert out.returncode == 0, out.stderr
    header = out.stdout.splitlines()[0].split()
    assert header == ["NAMESPACE", "NAME", "READY", "STATUS", "RESTARTS", "AGE"]
    assert (
        "CrashLoopBackOff" in out.stdout and "Pending" in out.stdout and "kube-system" in out.stdout
    )
    # Discovery went through the aggregated documents and the Table came from the server.
    sim = sims[profile]
    paths = [r.path.removeprefix(sim.state.prefix) for r in sim.state.requests]
    assert "/api" in paths and "/apis" in paths and "/api/v1/pods" in paths


@pytest.mark.parametrize("profile", PROFILES)
def test_get_pods_namespace_and_deployments(
    kubectl: str, kubeconfigs: dict[str, Path], profile: str
) -> None:
    out = run(kubectl, kubeconfigs[profile], "get", "pods", "-n", "shop", "-o", "wide")
    assert out.returncode == 0, out.stderr
    assert "NODE" in out.stdout.splitlines()[0] and "worker-1" in out.stdout
    out = run(kubectl, kubeconfigs[profile], "get", "deploy", "-n", "shop")
    assert out.returncode == 0, out.stderr
    rows = {line.split()[0]: line.split() for line in out.stdout.splitlines()[1:]}
    assert rows["frontend"][1:4] == ["3/3", "3", "3"]
    assert rows["checkout"][1] == "0/1"


@pytest.mark.parametrize("profile", PROFILES)
def test_get_pod_yaml_and_describe(
    kubectl: str, kubeconfigs: dict[str, Path], sims: dict[str, SimCluster], profile: str
) -> None:
    name = pod_name(sims[profile], "catalog-")
    out = run(kubectl, kubeconfigs[profile], "get", "pod", "-n", "shop", name, "-o", "yaml")
    assert out.returncode == 0, out.stderr
    doc = yaml.safe_load(out.stdout)
    assert doc["kind"] == "Pod" and doc["metadata"]["name"] == name
    assert [c["name"] for c in doc["spec"]["containers"]] == ["catalog", "envoy"]
    assert doc["spec"]["initContainers"][0]["name"] == "migrate-db"
    out = run(
        kubectl,
        kubeconfigs[profile],
        "describe",
        "pod",
        "-n",
        "shop",
        pod_name(sims[profile], "checkout-"),
    )
    assert out.returncode == 0, out.stderr
    assert (
        "CrashLoopBackOff" in out.stdout and "BackOff" in out.stdout
    )  # the pod's events are listed


@pytest.mark.parametrize("profile", PROFILES)
def test_logs_and_previous(
    kubectl: str, kubeconfigs: dict[str, Path], sims: dict[str, SimCluster], profile: str
) -> None:
    name = pod_name(sims[profile], "catalog-")
    out = run(kubectl, kubeconfigs[profile], "logs", "-n", "shop", name, "--tail=5", "--timestamps")
    assert out.returncode == 0, out.stderr
    assert len(out.stdout.splitlines()) == 5 and 'Defaulted container "catalog"' in out.stderr
    crash = pod_name(sims[profile], "checkout-")
    out = run(kubectl, kubeconfigs[profile], "logs", "-n", "shop", crash, "--previous", "--tail=20")
    assert out.returncode == 0 and "panic: runtime error" in out.stdout
    out = run(kubectl, kubeconfigs[profile], "logs", "-n", "shop", name, "-c", "nope")
    assert out.returncode != 0 and f"container nope is not valid for pod {name}" in out.stderr


@pytest.mark.parametrize("profile", PROFILES)
def test_logs_follow_streams(
    kubectl: str, kubeconfigs: dict[str, Path], sims: dict[str, SimCluster], profile: str
) -> None:
    name = pod_name(sims[profile], "frontend-")
    proc = start(kubectl, kubeconfigs[profile], "logs", "-f", "-n", "shop", name, "--tail=1")
    try:
        assert proc.stdout is not None
        lines = []
        deadline = time.monotonic() + 20
        # Default rate is 2 lines/s: the tail line plus at least two live ones arrive quickly.
        while len(lines) < 3 and time.monotonic() < deadline:
            line = proc.stdout.readline()
            if not line:
                break
            lines.append(line)
        assert len(lines) == 3, (
            proc.stderr.read() if proc.poll() is not None and proc.stderr else lines
        )
        assert proc.poll() is None  # still following
    finally:
        proc.kill()
        proc.wait(timeout=10)


def test_kubectl_scale_and_rollout_restart(
    kubectl: str, sim_factory: object, tmp_path: Path
) -> None:
    _, config = own_sim(sim_factory, tmp_path, "kubernetes")
    out = run(kubectl, config, "scale", "-n", "shop", "deploy/cart", "--replicas=4")
    assert out.returncode == 0, out.stderr
    out = run(kubectl, config, "rollout", "restart", "-n", "shop", "deploy/cart")
    assert out.returncode == 0, out.stderr
    out = run(
        kubectl,
        config,
        "get",
        "pods",
        "-n",
        "shop",
        "-l",
        "app.kubernetes.io/name=cart",
        "-o",
        "name",
    )
    assert out.returncode == 0 and len(out.stdout.split()) == 4
    # Manifests go as JSON (generator commands like `create configmap` send protobuf, which the
    # simulator refuses with a clear 415).
    manifest = tmp_path / "cm.yaml"
    manifest.write_text(
        "apiVersion: v1\nkind: ConfigMap\n"
        "metadata:\n  name: made-by-kubectl\n  namespace: default\n"
        "data:\n  a: b\n"
    )
    out = run(kubectl, config, "create", "-f", str(manifest))
    assert out.returncode == 0, out.stderr
    out = run(
        kubectl, config, "get", "cm", "made-by-kubectl", "-n", "default", "-o", "jsonpath={.data.a}"
    )
    assert out.stdout == "b"
    out = run(kubectl, config, "apply", "-f", str(manifest))
    assert out.returncode == 0, out.stderr
    out = run(kubectl, config, "delete", "-f", str(manifest))
    assert out.returncode == 0 and "deleted" in out.stdout, out.stderr


def test_kubectl_get_watch_sees_changes(kubectl: str, sim_factory: object, tmp_path: Path) -> None:
    sim, config = own_sim(sim_factory, tmp_path, "rancher")
    proc = start(kubectl, config, "get", "deploy", "-n", "shop", "-w")
    try:
        assert proc.stdout is not None
        lines = [proc.stdout.readline() for _ in range(6)]  # header + 5 deployments
        assert lines[0].split()[:2] == ["NAME", "READY"]
        out = run(kubectl, config, "scale", "-n", "shop", "deploy/frontend", "--replicas=1")
        assert out.returncode == 0, out.stderr
        deadline = time.monotonic() + 20
        seen = ""
        while time.monotonic() < deadline and "1/1" not in seen:
            seen = proc.stdout.readline()
            assert seen, "kubectl stopped watching"
        assert seen.split()[:2] == ["frontend", "1/1"]
    finally:
        proc.kill()
        proc.wait(timeout=10)
    watch = [r for r in sim.state.requests if "watch=true" in r.query_string]
    assert watch and watch[0].path.startswith("/k8s/clusters/c-m-abc12/apis/apps/v1/")


def test_kubectl_generators_send_protobuf(
    kubectl: str, sim_factory: object, tmp_path: Path
) -> None:
    sim, config = own_sim(sim_factory, tmp_path, "kubernetes")
    for args in (
        ("create", "namespace", "gen"),
        ("create", "configmap", "c1", "-n", "gen", "--from-literal=a=b"),
        ("create", "secret", "generic", "s1", "-n", "gen", "--from-literal=pw=hunter2"),
        (
            "create",
            "deployment",
            "d1",
            "-n",
            "gen",
            "--image=nginx:1.27",
            "--replicas=2",
            "--port=80",
        ),
        ("expose", "deployment", "d1", "-n", "gen", "--port=80", "--target-port=8080"),
        ("create", "job", "j1", "-n", "gen", "--image=busybox:1.36", "--", "echo", "hi"),
        ("create", "role", "r1", "-n", "gen", "--verb=get", "--resource=pods"),
    ):
        out = run(kubectl, config, *args)
        assert out.returncode == 0, (args, out.stderr)
    store = sim.state.store
    assert store.get("configmaps", "gen", "c1")["data"] == {"a": "b"}
    assert store.get("secrets", "gen", "s1")["data"] == {"pw": "aHVudGVyMg=="}
    svc = store.get("services", "gen", "d1")["spec"]
    assert svc["ports"][0]["port"] == 80 and svc["ports"][0]["targetPort"] == 8080
    assert store.get("jobs.batch", "gen", "j1")["spec"]["template"]["spec"]["containers"][0][
        "command"
    ] == ["echo", "hi"]
    pods = [p for p in store.list("pods", "gen") if p["metadata"]["name"].startswith("d1-")]
    assert len(pods) == 2
    assert any(
        r.header("Content-Type") == "application/vnd.kubernetes.protobuf"
        for r in sim.state.requests
    )
    out = run(kubectl, config, "auth", "can-i", "create", "pods", "--subresource=exec", "-n", "gen")
    assert out.stdout.strip() == "yes"
    out = run(kubectl, config, "auth", "whoami", "-o", "jsonpath={.status.userInfo.username}")
    assert out.stdout == "admin"


def test_kubectl_auth_can_i_honours_denials(
    kubectl: str, sim_factory: object, tmp_path: Path
) -> None:
    rules = ("get pods/exec", "create pods/exec")  # a WebSocket exec is a GET, SPDY a POST
    _, config = own_sim(sim_factory, tmp_path, "kubernetes", denied_verbs={"admin": rules})
    out = run(
        kubectl, config, "auth", "can-i", "create", "pods", "--subresource=exec", "-n", "shop"
    )
    assert out.stdout.strip() == "no"
    out = run(kubectl, config, "auth", "can-i", "get", "pods", "-n", "shop")
    assert out.stdout.strip() == "yes"
    out = run(kubectl, config, "exec", "-n", "shop", "postgres-0", "--", "true")
    assert out.returncode != 0
    assert 'User "admin" cannot' in out.stderr and '"pods/exec"' in out.stderr


def test_kubectl_rollout_undo_reuses_the_old_replicaset(
    kubectl: str, sim_factory: object, tmp_path: Path
) -> None:
    sim, config = own_sim(sim_factory, tmp_path, "kubernetes")
    before = {p["metadata"]["name"].rsplit("-", 1)[0] for p in sim.state.store.list("pods", "shop")}
    image = "cart=ghcr.io/kubelantern/demo-cart:2.5.0"
    assert run(kubectl, config, "set", "image", "-n", "shop", "deploy/cart", image).returncode == 0
    out = run(kubectl, config, "rollout", "history", "-n", "shop", "deploy/cart")
    assert out.returncode == 0 and [line.split()[0] for line in out.stdout.splitlines()[2:4]] == [
        "1",
        "2",
    ]
    out = run(kubectl, config, "rollout", "undo", "-n", "shop", "deploy/cart")
    assert out.returncode == 0, out.stderr
    cart = [
        p for p in sim.state.store.list("pods", "shop") if p["metadata"]["name"].startswith("cart-")
    ]
    assert len(cart) == 2 and {p["metadata"]["name"].rsplit("-", 1)[0] for p in cart} <= before
    out = run(kubectl, config, "rollout", "history", "-n", "shop", "deploy/cart")
    assert [line.split()[0] for line in out.stdout.splitlines()[2:4]] == ["2", "3"]


def test_kubectl_top_reads_the_metrics_api(kubectl: str, kubeconfigs: dict[str, Path]) -> None:
    out = run(kubectl, kubeconfigs["kubernetes"], "top", "pods", "-n", "shop", "--containers")
    assert out.returncode == 0, out.stderr
    rows = [line.split() for line in out.stdout.splitlines()[1:]]
    assert {"catalog", "envoy"} <= {r[1] for r in rows}
    assert all(r[2].endswith("m") and r[3].endswith("Mi") for r in rows)
    assert not any(r[0].startswith("importer-") for r in rows)  # Pending pods have no metrics
    out = run(kubectl, kubeconfigs["rancher"], "top", "nodes")
    assert out.returncode == 0, out.stderr
    assert [line.split()[0] for line in out.stdout.splitlines()[1:]] == [
        "cp-1",
        "worker-1",
        "worker-2",
    ]
