"""Discovery documents: the shipped real ones, filtered to what the simulator serves."""

from __future__ import annotations

from kubesim import discovery
from kubesim.kinds import Registry

KUBECTL_ACCEPT = (
    "application/json;g=apidiscovery.k8s.io;v=v2;as=APIGroupDiscoveryList,"
    "application/json;g=apidiscovery.k8s.io;v=v2beta1;as=APIGroupDiscoveryList,application/json"
)


def test_aggregated_version_from_accept() -> None:
    assert discovery.aggregated_version(KUBECTL_ACCEPT) == "v2"
    assert discovery.aggregated_version("application/json") is None


def test_core_resource_list_is_filtered_to_served() -> None:
    doc = discovery.resource_list(Registry("kubernetes"), "", "v1")
    assert doc is not None
    names = {r["name"] for r in doc["resources"]}
    assert {"pods", "pods/log", "pods/exec", "pods/portforward", "namespaces", "events"} <= names
    assert "bindings" not in names and "pods/eviction" not in names
    pods = next(r for r in doc["resources"] if r["name"] == "pods")
    assert "watch" in pods["verbs"] and pods["shortNames"] == ["po"]


def test_group_list_and_versions() -> None:
    reg = Registry("kubernetes")
    groups = {g["name"]: g for g in discovery.api_group_list(reg)["groups"]}
    for g in (
        "apps",
        "batch",
        "networking.k8s.io",
        "apiextensions.k8s.io",
        "authorization.k8s.io",
        "events.k8s.io",
    ):
        assert g in groups
    assert groups["autoscaling"]["preferredVersion"]["version"] == "v2"
    assert [v["version"] for v in groups["autoscaling"]["versions"]] == ["v2"]
    assert "route.openshift.io" not in groups
    assert "certificates.k8s.io" not in groups


def test_openshift_groups_are_generated() -> None:
    reg = Registry("openshift")
    groups = {g["name"] for g in discovery.api_group_list(reg)["groups"]}
    assert {
        "route.openshift.io",
        "project.openshift.io",
        "apps.openshift.io",
        "config.openshift.io",
    } <= groups
    routes = discovery.resource_list(reg, "route.openshift.io", "v1")
    assert routes is not None and routes["resources"][0]["name"] == "routes"


def test_aggregated_documents() -> None:
    reg = Registry("kubernetes")
    core = discovery.aggregated(reg, core=True)
    assert (
        core["kind"] == "APIGroupDiscoveryList" and core["apiVersion"] == "apidiscovery.k8s.io/v2"
    )
    pods = next(r for r in core["items"][0]["versions"][0]["resources"] if r["resource"] == "pods")
    assert {s["subresource"] for s in pods["subresources"]} >= {
        "log",
        "exec",
        "attach",
        "portforward",
    }
    apis = discovery.aggregated(reg, core=False)
    apps = next(i for i in apis["items"] if i["metadata"]["name"] == "apps")
    deploy = next(r for r in apps["versions"][0]["resources"] if r["resource"] == "deployments")
    assert {s["subresource"] for s in deploy["subresources"]} == {"scale", "status"}
    assert "controllerrevisions" in {r["resource"] for r in apps["versions"][0]["resources"]}


def test_metrics_api_only_where_the_profile_runs_metrics_server() -> None:
    for profile in ("kubernetes", "rancher", "openshift"):
        reg = Registry(profile)
        assert reg.get("metrics.k8s.io", "v1beta1", "pods") is not None, profile
        groups = {g["name"] for g in discovery.api_group_list(reg)["groups"]}
        assert "metrics.k8s.io" in groups, profile
    legacy = Registry("legacy")
    assert legacy.get("metrics.k8s.io", "v1beta1", "pods") is None
    assert legacy.get("metrics.k8s.io", "v1beta1", "nodes") is None
    assert "metrics.k8s.io" not in {g["name"] for g in discovery.api_group_list(legacy)["groups"]}
