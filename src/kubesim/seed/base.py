"""The seeding context every scenario writes through (store, controllers, a frozen "now"), the
builders for containers, Deployments and Services, and the cluster's fixed shape (nodes,
namespaces, its CA)."""

from __future__ import annotations

import base64
import datetime as dt
from typing import Any

from ..controller import Controllers
from ..ownership import owned_by
from ..store import Store

JSON = dict[str, Any]


NODES = (
    ("cp-1", "10.0.0.10", True, "4", "8141652Ki"),
    ("worker-1", "10.0.0.21", False, "8", "32863820Ki"),
    ("worker-2", "10.0.0.22", False, "8", "32863820Ki"),
)

NAMESPACES = ("default", "kube-system", "kube-public", "kube-node-lease", "shop", "bench")

CA_PEM = (
    "-----BEGIN CERTIFICATE-----\n"
    "MIIBdzCCAR2gAwIBAgIBADAKBggqhkjOPQQDAjAjMSEwHwYDVQQDDBhrM3Mtc2Vy\n"
    "dmVyLWNhQDE3MzI3OTk5NDAwHhcNMjQxMTI4MTMxOTAwWhcNMzQxMTI2MTMxOTAw\n-----END CERTIFICATE-----\n"
)

ROOT_CA_DESCRIPTION = (
    "Contains a CA bundle that can be used to verify the kube-apiserver when using internal "
    "endpoints such as the internal service IP or kubernetes.default.svc. No other usage is "
    "guaranteed across distributions of Kubernetes clusters."
)


def b64(text: str) -> str:
    return base64.b64encode(text.encode()).decode()


def container(
    name: str,
    image: str,
    *,
    port: int | None = None,
    env: dict[str, str] | None = None,
    cpu: str = "100m",
    mem: str = "128Mi",
) -> JSON:
    c: JSON = {
        "name": name,
        "image": image,
        "resources": {"requests": {"cpu": cpu, "memory": mem}, "limits": {"memory": mem}},
    }
    if port:
        c["ports"] = [
            {
                "containerPort": port,
                "name": "http" if port in (80, 8080) else "tcp",
                "protocol": "TCP",
            }
        ]
    if env:
        c["env"] = [{"name": k, "value": v} for k, v in env.items()]
    return c


def deployment(
    ns: str,
    name: str,
    replicas: int,
    containers: list[JSON],
    *,
    init: list[JSON] | None = None,
    labels: JSON | None = None,
) -> JSON:
    lbl = {"app.kubernetes.io/name": name, **(labels or {})}
    spec: JSON = {"containers": containers}
    if init:
        spec["initContainers"] = init
    return {
        "apiVersion": "apps/v1",
        "kind": "Deployment",
        "metadata": {
            "name": name,
            "namespace": ns,
            "labels": dict(lbl),
            "generation": 1,
            "annotations": {"deployment.kubernetes.io/revision": "1"},
        },
        "spec": {
            "replicas": replicas,
            "selector": {"matchLabels": {"app.kubernetes.io/name": name}},
            "template": {"metadata": {"labels": dict(lbl)}, "spec": spec},
            "strategy": {
                "type": "RollingUpdate",
                "rollingUpdate": {"maxUnavailable": "25%", "maxSurge": "25%"},
            },
            "revisionHistoryLimit": 10,
            "progressDeadlineSeconds": 600,
        },
        "status": {},
    }


def service(
    ns: str,
    name: str,
    port: int,
    target: int,
    *,
    type_: str = "ClusterIP",
    ip: str = "",
    selector: JSON | None = None,
    headless: bool = False,
) -> JSON:
    spec: JSON = {
        "type": type_,
        "selector": selector if selector is not None else {"app.kubernetes.io/name": name},
        "ports": [
            {
                "name": "http" if port in (80, 8080) else "tcp",
                "port": port,
                "targetPort": target,
                "protocol": "TCP",
            }
        ],
        "clusterIP": "None" if headless else ip,
        "clusterIPs": ["None" if headless else ip],
        "sessionAffinity": "None",
        "ipFamilies": ["IPv4"],
        "ipFamilyPolicy": "SingleStack",
        "internalTrafficPolicy": "Cluster",
    }
    status: JSON = {"loadBalancer": {}}
    if type_ == "LoadBalancer":
        spec["ports"][0]["nodePort"] = 31380
        status = {"loadBalancer": {"ingress": [{"ip": "203.0.113.40", "ipMode": "VIP"}]}}
    return {
        "apiVersion": "v1",
        "kind": "Service",
        "metadata": {"name": name, "namespace": ns, "labels": {"app.kubernetes.io/name": name}},
        "spec": spec,
        "status": status,
    }


class Seeder:
    def __init__(
        self, store: Store, controllers: Controllers, now: dt.datetime, profile: str
    ) -> None:
        self.store = store
        self.ctl = controllers
        self.now = now
        self.profile = profile

    def ago(self, **kw: float) -> dt.datetime:
        return self.now - dt.timedelta(**kw)

    def add(self, key: str, obj: JSON, when: dt.datetime) -> JSON:
        return self.store.add(key, obj, created=when)

    def workload(
        self, d: JSON, when: dt.datetime, pods_at: dt.datetime | None = None
    ) -> list[JSON]:
        self.ctl.frozen_now = pods_at or when
        self.add("deployments.apps", d, when)
        ns, name = d["metadata"]["namespace"], d["metadata"]["name"]
        self.ctl.reconcile("deployments.apps", ns, name)
        dep = self.store.get("deployments.apps", ns, name)
        assert dep is not None
        pods = []
        for rs in self.store.list("replicasets.apps", ns):
            if owned_by(rs, dep["metadata"]["uid"]):
                pods += [
                    p for p in self.store.list("pods", ns) if owned_by(p, rs["metadata"]["uid"])
                ]
        return pods
