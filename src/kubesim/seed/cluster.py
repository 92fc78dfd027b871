"""The cluster itself: nodes, namespaces (with their root CA ConfigMap and default
ServiceAccount) and kube-system's workloads."""

from __future__ import annotations

import datetime as dt
import hashlib
from typing import Any

from ..store import now_rfc3339
from .base import CA_PEM, NODES, ROOT_CA_DESCRIPTION, Seeder, container, deployment, service

JSON = dict[str, Any]


def nodes(s: Seeder, birth: dt.datetime) -> None:
    version = "v1.32.4"
    for name, ip, cp, cpu, mem in NODES:
        labels = {
            "kubernetes.io/hostname": name,
            "kubernetes.io/os": "linux",
            "kubernetes.io/arch": "amd64",
            "beta.kubernetes.io/os": "linux",
            "beta.kubernetes.io/arch": "amd64",
            "topology.kubernetes.io/zone": "zone-a" if name != "worker-2" else "zone-b",
        }
        if cp:
            labels["node-role.kubernetes.io/control-plane"] = ""
        ts = now_rfc3339(birth)
        hb = now_rfc3339(s.ago(seconds=23))
        node: JSON = {
            "apiVersion": "v1",
            "kind": "Node",
            "metadata": {
                "name": name,
                "labels": labels,
                "annotations": {
                    "node.alpha.kubernetes.io/ttl": "0",
                    "volumes.kubernetes.io/controller-managed-attach-detach": "true",
                },
            },
            "spec": {
                "podCIDR": f"10.42.{NODES.index((name, ip, cp, cpu, mem))}.0/24",
                "taints": [{"key": "node-role.kubernetes.io/control-plane", "effect": "NoSchedule"}]
                if cp
                else [],
            },
            "status": {
                "capacity": {
                    "cpu": cpu,
                    "memory": mem,
                    "pods": "110",
                    "ephemeral-storage": "102626232Ki",
                },
                "allocatable": {
                    "cpu": cpu,
                    "memory": mem,
                    "pods": "110",
                    "ephemeral-storage": "94580335255",
                },
                "conditions": [
                    {
                        "type": "MemoryPressure",
                        "status": "False",
                        "reason": "KubeletHasSufficientMemory",
                        "message": "kubelet has sufficient memory available",
                        "lastHeartbeatTime": hb,
                        "lastTransitionTime": ts,
                    },
                    {
                        "type": "DiskPressure",
                        "status": "False",
                        "reason": "KubeletHasNoDiskPressure",
                        "message": "kubelet has no disk pressure",
                        "lastHeartbeatTime": hb,
                        "lastTransitionTime": ts,
                    },
                    {
                        "type": "PIDPressure",
                        "status": "False",
                        "reason": "KubeletHasSufficientPID",
                        "message": "kubelet has sufficient PID available",
                        "lastHeartbeatTime": hb,
                        "lastTransitionTime": ts,
                    },
                    {
                        "type": "Ready",
                        "status": "True",
                        "reason": "KubeletReady",
                        "message": "kubelet is posting ready status",
                        "lastHeartbeatTime": hb,
                        "lastTransitionTime": ts,
                    },
                ],
                "addresses": [
                    {"type": "InternalIP", "address": ip},
                    {"type": "Hostname", "address": name},
                ],
                "daemonEndpoints": {"kubeletEndpoint": {"Port": 10250}},
                "nodeInfo": {
                    "machineID": hashlib.md5(name.encode()).hexdigest(),
                    "systemUUID": f"ec2{name}",
                    "bootID": f"{len(name)}b1c",
                    "kernelVersion": "6.8.0-49-generic",
                    "osImage": "Ubuntu 24.04.1 LTS",
                    "containerRuntimeVersion": "containerd://1.7.23",
                    "kubeletVersion": version,
                    "kubeProxyVersion": version,
                    "operatingSystem": "linux",
                    "architecture": "amd64",
                },
                "images": [],
            },
        }
        s.add("nodes", node, birth)


def namespace(s: Seeder, ns: str, when: dt.datetime) -> None:
    s.add(
        "namespaces",
        {
            "apiVersion": "v1",
            "kind": "Namespace",
            "metadata": {"name": ns, "labels": {"kubernetes.io/metadata.name": ns}},
            "spec": {"finalizers": ["kubernetes"]},
            "status": {"phase": "Active"},
        },
        when,
    )
    s.add(
        "serviceaccounts",
        {
            "apiVersion": "v1",
            "kind": "ServiceAccount",
            "metadata": {"name": "default", "namespace": ns},
        },
        when,
    )
    s.add(
        "configmaps",
        {
            "apiVersion": "v1",
            "kind": "ConfigMap",
            "metadata": {
                "name": "kube-root-ca.crt",
                "namespace": ns,
                "annotations": {"kubernetes.io/description": ROOT_CA_DESCRIPTION},
            },
            "data": {"ca.crt": CA_PEM},
        },
        when,
    )


def kube_system(s: Seeder, birth: dt.datetime) -> None:
    ns = "kube-system"
    s.workload(
        deployment(
            ns,
            "coredns",
            2,
            [container("coredns", "registry.k8s.io/coredns/coredns:v1.11.3", port=53, mem="170Mi")],
            labels={"k8s-app": "kube-dns"},
        ),
        birth,
        s.ago(days=41),
    )
    s.workload(
        deployment(
            ns,
            "metrics-server",
            1,
            [
                container(
                    "metrics-server",
                    "registry.k8s.io/metrics-server/metrics-server:v0.7.2",
                    port=10250,
                )
            ],
        ),
        birth,
        s.ago(days=41),
    )
    s.ctl.frozen_now = s.ago(days=41)
    ds: JSON = {
        "apiVersion": "apps/v1",
        "kind": "DaemonSet",
        "metadata": {
            "name": "kube-proxy",
            "namespace": ns,
            "labels": {"k8s-app": "kube-proxy"},
            "generation": 1,
        },
        "spec": {
            "selector": {"matchLabels": {"k8s-app": "kube-proxy"}},
            "template": {
                "metadata": {"labels": {"k8s-app": "kube-proxy"}},
                "spec": {
                    "containers": [container("kube-proxy", "registry.k8s.io/kube-proxy:v1.32.4")],
                    "hostNetwork": True,
                    "priorityClassName": "system-node-critical",
                },
            },
        },
        "status": {},
    }
    s.add("daemonsets.apps", ds, birth)
    s.ctl.reconcile("daemonsets.apps", ns, "kube-proxy")
    for comp, image in (
        ("etcd", "registry.k8s.io/etcd:3.5.16-0"),
        ("kube-apiserver", "registry.k8s.io/kube-apiserver:v1.32.4"),
        ("kube-scheduler", "registry.k8s.io/kube-scheduler:v1.32.4"),
    ):
        pod: JSON = {
            "apiVersion": "v1",
            "kind": "Pod",
            "metadata": {
                "name": f"{comp}-cp-1",
                "namespace": ns,
                "labels": {"component": comp, "tier": "control-plane"},
                "annotations": {"kubernetes.io/config.source": "file"},
            },
            "spec": {
                "containers": [container(comp, image, cpu="250m", mem="512Mi")],
                "hostNetwork": True,
                "priorityClassName": "system-node-critical",
            },
        }
        node = s.store.get("nodes", "", "cp-1")
        s.ctl.start_pod(pod, node, s.ago(days=41))
        pod["status"]["podIP"] = "10.0.0.10"
        pod["status"]["podIPs"] = [{"ip": "10.0.0.10"}]
        s.add("pods", pod, s.ago(days=41))
    s.add(
        "services",
        service(ns, "kube-dns", 53, 53, ip="10.43.0.10", selector={"k8s-app": "kube-dns"}),
        birth,
    )
