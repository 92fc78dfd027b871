"""Demo data: a small but believable cluster (a shop, its database, a crash-looping service, a
pod that cannot be scheduled, events), deterministic for a given seed."""

from __future__ import annotations

import base64
import copy
import datetime as dt
import hashlib
from typing import Any

from .controller import Controllers
from .store import Store, now_rfc3339

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


def _b64(text: str) -> str:
    return base64.b64encode(text.encode()).decode()


def _container(
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


def _deployment(
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


def _service(
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

    def run(self) -> None:
        cluster_birth = self.ago(days=41, hours=3)
        self.nodes(cluster_birth)
        for ns in NAMESPACES:
            self.namespace(
                ns, cluster_birth if ns.startswith(("kube", "default")) else self.ago(days=12)
            )
        self.kube_system(cluster_birth)
        self.shop()
        self.default_ns()
        self.bench()
        self.crd()
        self.misc(cluster_birth)
        if self.profile == "openshift":
            self.openshift(cluster_birth)
        self.ctl.frozen_now = None

    # -- cluster basics --------------------------------------------------------------------
    def nodes(self, birth: dt.datetime) -> None:
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
            hb = now_rfc3339(self.ago(seconds=23))
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
                    "taints": [
                        {"key": "node-role.kubernetes.io/control-plane", "effect": "NoSchedule"}
                    ]
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
            self.add("nodes", node, birth)

    def namespace(self, ns: str, when: dt.datetime) -> None:
        self.add(
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
        self.add(
            "serviceaccounts",
            {
                "apiVersion": "v1",
                "kind": "ServiceAccount",
                "metadata": {"name": "default", "namespace": ns},
            },
            when,
        )
        self.add(
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

    def workload(
        self, d: JSON, when: dt.datetime, pods_at: dt.datetime | None = None
    ) -> list[JSON]:
        self.ctl.frozen_now = pods_at or when
        self.add("deployments.apps", d, when)
        ns, name = d["metadata"]["namespace"], d["metadata"]["name"]
        self.ctl.reconcile("deployments.apps", ns, name)
        dep = self.store.get("deployments.apps", ns, name)
        assert dep is not None
        from .controller import owned_by

        pods = []
        for rs in self.store.list("replicasets.apps", ns):
            if owned_by(rs, dep["metadata"]["uid"]):
                pods += [
                    p for p in self.store.list("pods", ns) if owned_by(p, rs["metadata"]["uid"])
                ]
        return pods

    def kube_system(self, birth: dt.datetime) -> None:
        ns = "kube-system"
        self.workload(
            _deployment(
                ns,
                "coredns",
                2,
                [
                    _container(
                        "coredns", "registry.k8s.io/coredns/coredns:v1.11.3", port=53, mem="170Mi"
                    )
                ],
                labels={"k8s-app": "kube-dns"},
            ),
            birth,
            self.ago(days=41),
        )
        self.workload(
            _deployment(
                ns,
                "metrics-server",
                1,
                [
                    _container(
                        "metrics-server",
                        "registry.k8s.io/metrics-server/metrics-server:v0.7.2",
                        port=10250,
                    )
                ],
            ),
            birth,
            self.ago(days=41),
        )
        self.ctl.frozen_now = self.ago(days=41)
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
                        "containers": [
                            _container("kube-proxy", "registry.k8s.io/kube-proxy:v1.32.4")
                        ],
                        "hostNetwork": True,
                        "priorityClassName": "system-node-critical",
                    },
                },
            },
            "status": {},
        }
        self.add("daemonsets.apps", ds, birth)
        self.ctl.reconcile("daemonsets.apps", ns, "kube-proxy")
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
                    "containers": [_container(comp, image, cpu="250m", mem="512Mi")],
                    "hostNetwork": True,
                    "priorityClassName": "system-node-critical",
                },
            }
            node = self.store.get("nodes", "", "cp-1")
            self.ctl.start_pod(pod, node, self.ago(days=41))
            pod["status"]["podIP"] = "10.0.0.10"
            pod["status"]["podIPs"] = [{"ip": "10.0.0.10"}]
            self.add("pods", pod, self.ago(days=41))
        self.add(
            "services",
            _service(ns, "kube-dns", 53, 53, ip="10.43.0.10", selector={"k8s-app": "kube-dns"}),
            birth,
        )

    def shop(self) -> None:
        ns = "shop"
        born = self.ago(days=12)
        self.workload(
            _deployment(
                ns, "frontend", 3, [_container("nginx", "nginx:1.27.3-alpine", port=80, mem="64Mi")]
            ),
            born,
            self.ago(hours=5, minutes=12),
        )
        self.workload(
            _deployment(
                ns,
                "cart",
                2,
                [
                    _container(
                        "cart",
                        "ghcr.io/kubelantern/demo-cart:2.4.1",
                        port=8080,
                        env={"REDIS_URL": "redis://redis:6379/0", "LOG_FORMAT": "json"},
                    )
                ],
            ),
            born,
            self.ago(days=2, hours=4),
        )
        # catalog: two containers (app + envoy sidecar) and an init container that migrates.
        self.workload(
            _deployment(
                ns,
                "catalog",
                1,
                [
                    _container(
                        "catalog",
                        "ghcr.io/kubelantern/demo-catalog:1.9.0",
                        port=8080,
                        env={"DATABASE_URL": "postgres://app@postgres:5432/shop"},
                    ),
                    _container("envoy", "envoyproxy/envoy:v1.32.1", port=9901, mem="96Mi"),
                ],
                init=[
                    _container(
                        "migrate-db",
                        "ghcr.io/kubelantern/demo-catalog:1.9.0",
                        env={"MIGRATE": "up"},
                    )
                ],
            ),
            born,
            self.ago(hours=7, minutes=40),
        )
        # checkout: crash-looping.
        pods = self.workload(
            _deployment(
                ns,
                "checkout",
                1,
                [
                    _container(
                        "checkout",
                        "ghcr.io/kubelantern/demo-checkout:0.8.3",
                        port=8080,
                        env={"PAYMENT_URL": "http://payments:8080"},
                    )
                ],
            ),
            born,
            self.ago(minutes=47),
        )
        for pod in pods:
            self._crashloop(pod)
        # importer: asks for more memory than any node has, so it stays Pending.
        pods = self.workload(
            _deployment(
                ns,
                "importer",
                1,
                [
                    _container(
                        "importer", "ghcr.io/kubelantern/demo-importer:1.2.0", cpu="2", mem="64Gi"
                    )
                ],
            ),
            born,
            self.ago(minutes=18),
        )
        for pod in pods:
            self._pending(pod)
        self.ctl.frozen_now = self.ago(days=12)
        for sts, image, port in (
            ("postgres", "postgres:16.4", 5432),
            ("redis", "redis:7.4.1-alpine", 6379),
        ):
            obj: JSON = {
                "apiVersion": "apps/v1",
                "kind": "StatefulSet",
                "metadata": {
                    "name": sts,
                    "namespace": ns,
                    "labels": {"app.kubernetes.io/name": sts},
                    "generation": 1,
                },
                "spec": {
                    "replicas": 1,
                    "serviceName": sts,
                    "selector": {"matchLabels": {"app.kubernetes.io/name": sts}},
                    "template": {
                        "metadata": {"labels": {"app.kubernetes.io/name": sts}},
                        "spec": {"containers": [_container(sts, image, port=port, mem="512Mi")]},
                    },
                },
                "status": {},
            }
            self.add("statefulsets.apps", obj, born)
            self.ctl.reconcile("statefulsets.apps", ns, sts)
            self.add("services", _service(ns, sts, port, port, headless=True), born)
        for svc, port, ip, typ in (
            ("frontend", 80, "10.43.18.7", "LoadBalancer"),
            ("cart", 8080, "10.43.91.120", "ClusterIP"),
            ("catalog", 8080, "10.43.4.33", "ClusterIP"),
            ("checkout", 8080, "10.43.200.14", "ClusterIP"),
        ):
            self.add(
                "services",
                _service(ns, svc, port, 80 if svc == "frontend" else 8080, type_=typ, ip=ip),
                born,
            )
        self.add(
            "ingresses.networking.k8s.io",
            {
                "apiVersion": "networking.k8s.io/v1",
                "kind": "Ingress",
                "metadata": {
                    "name": "storefront",
                    "namespace": ns,
                    "generation": 1,
                    "annotations": {"cert-manager.io/cluster-issuer": "letsencrypt"},
                },
                "spec": {
                    "ingressClassName": "nginx",
                    "tls": [{"hosts": ["shop.example.com"], "secretName": "storefront-tls"}],
                    "rules": [
                        {
                            "host": "shop.example.com",
                            "http": {
                                "paths": [
                                    {
                                        "path": "/",
                                        "pathType": "Prefix",
                                        "backend": {
                                            "service": {"name": "frontend", "port": {"number": 80}}
                                        },
                                    },
                                    {
                                        "path": "/api/cart",
                                        "pathType": "Prefix",
                                        "backend": {
                                            "service": {"name": "cart", "port": {"number": 8080}}
                                        },
                                    },
                                ]
                            },
                        }
                    ],
                },
                "status": {"loadBalancer": {"ingress": [{"ip": "203.0.113.40"}]}},
            },
            born,
        )
        self.add(
            "configmaps",
            {
                "apiVersion": "v1",
                "kind": "ConfigMap",
                "metadata": {"name": "frontend-config", "namespace": ns},
                "data": {
                    "nginx.conf": (
                        "server {\n  listen 80;\n  location / { root /usr/share/nginx/html; }\n"
                        "  location /api/ { proxy_pass http://cart:8080; }\n}\n"
                    ),
                    "FEATURE_FLAGS": "new-checkout=false,dark-mode=true",
                },
            },
            born,
        )
        self.add(
            "configmaps",
            {
                "apiVersion": "v1",
                "kind": "ConfigMap",
                "metadata": {"name": "cart-config", "namespace": ns},
                "data": {"CART_TTL": "72h", "MAX_ITEMS": "50", "CURRENCY": "EUR"},
            },
            born,
        )
        self.add(
            "secrets",
            {
                "apiVersion": "v1",
                "kind": "Secret",
                "type": "Opaque",
                "metadata": {"name": "postgres-credentials", "namespace": ns},
                "data": {"username": _b64("app"), "password": _b64("s3cr3t-demo-only")},
            },
            born,
        )
        self.add(
            "secrets",
            {
                "apiVersion": "v1",
                "kind": "Secret",
                "type": "kubernetes.io/tls",
                "metadata": {"name": "storefront-tls", "namespace": ns},
                "data": {"tls.crt": _b64(CA_PEM), "tls.key": _b64("demo-key")},
            },
            born,
        )
        self.add(
            "persistentvolumeclaims",
            {
                "apiVersion": "v1",
                "kind": "PersistentVolumeClaim",
                "metadata": {
                    "name": "data-postgres-0",
                    "namespace": ns,
                    "labels": {"app.kubernetes.io/name": "postgres"},
                },
                "spec": {
                    "accessModes": ["ReadWriteOnce"],
                    "resources": {"requests": {"storage": "10Gi"}},
                    "storageClassName": "local-path",
                    "volumeMode": "Filesystem",
                    "volumeName": "pvc-3f0c9a51-8d3e-4c2b-9a55-1f7e0d2b6c11",
                },
                "status": {
                    "phase": "Bound",
                    "accessModes": ["ReadWriteOnce"],
                    "capacity": {"storage": "10Gi"},
                },
            },
            born,
        )
        self.ctl.frozen_now = self.ago(minutes=18)
        jb = self.ago(hours=9)
        self.add(
            "cronjobs.batch",
            {
                "apiVersion": "batch/v1",
                "kind": "CronJob",
                "metadata": {"name": "nightly-report", "namespace": ns, "generation": 1},
                "spec": {
                    "schedule": "0 3 * * *",
                    "concurrencyPolicy": "Forbid",
                    "suspend": False,
                    "jobTemplate": {
                        "spec": {
                            "template": {
                                "spec": {
                                    "restartPolicy": "OnFailure",
                                    "containers": [
                                        _container(
                                            "report", "ghcr.io/kubelantern/demo-report:1.0.4"
                                        )
                                    ],
                                }
                            }
                        }
                    },
                },
                "status": {
                    "lastScheduleTime": now_rfc3339(jb),
                    "lastSuccessfulTime": now_rfc3339(jb + dt.timedelta(seconds=42)),
                },
            },
            born,
        )
        self.add(
            "jobs.batch",
            {
                "apiVersion": "batch/v1",
                "kind": "Job",
                "metadata": {
                    "name": "nightly-report-29012345",
                    "namespace": ns,
                    "generation": 1,
                    "labels": {"job-name": "nightly-report-29012345"},
                },
                "spec": {
                    "completions": 1,
                    "parallelism": 1,
                    "backoffLimit": 6,
                    "selector": {"matchLabels": {"job-name": "nightly-report-29012345"}},
                    "template": {
                        "metadata": {"labels": {"job-name": "nightly-report-29012345"}},
                        "spec": {
                            "restartPolicy": "OnFailure",
                            "containers": [
                                _container("report", "ghcr.io/kubelantern/demo-report:1.0.4")
                            ],
                        },
                    },
                },
                "status": {
                    "startTime": now_rfc3339(jb),
                    "completionTime": now_rfc3339(jb + dt.timedelta(seconds=42)),
                    "succeeded": 1,
                    "ready": 0,
                    "conditions": [
                        {
                            "type": "Complete",
                            "status": "True",
                            "lastProbeTime": now_rfc3339(jb + dt.timedelta(seconds=42)),
                            "lastTransitionTime": now_rfc3339(jb + dt.timedelta(seconds=42)),
                        }
                    ],
                },
            },
            jb,
        )
        self.events(ns)

    def _crashloop(self, pod: JSON) -> None:
        pod = copy.deepcopy(pod)
        cs = pod["status"]["containerStatuses"][0]
        last_start, last_end = self.ago(minutes=6, seconds=10), self.ago(minutes=5, seconds=38)
        cs.update(
            {
                "ready": False,
                "started": False,
                "restartCount": 7,
                "state": {
                    "waiting": {
                        "reason": "CrashLoopBackOff",
                        "message": "back-off 5m0s restarting failed container=checkout "
                        f"pod={pod['metadata']['name']}_shop({pod['metadata']['uid']})",
                    }
                },
                "lastState": {
                    "terminated": {
                        "exitCode": 2,
                        "reason": "Error",
                        "startedAt": now_rfc3339(last_start),
                        "finishedAt": now_rfc3339(last_end),
                        "containerID": cs["containerID"],
                    }
                },
            }
        )
        for c in pod["status"]["conditions"]:
            if c["type"] in ("Ready", "ContainersReady"):
                c.update(
                    status="False",
                    reason="ContainersNotReady",
                    message="containers with unready status: [checkout]",
                    lastTransitionTime=now_rfc3339(last_end),
                )
        self.store.replace("pods", pod)
        self.ctl.reconcile("deployments.apps", "shop", "checkout")

    def _pending(self, pod: JSON) -> None:
        pod = copy.deepcopy(pod)
        pod["spec"].pop("nodeName", None)
        pod["status"] = {
            "phase": "Pending",
            "qosClass": "Burstable",
            "conditions": [
                {
                    "type": "PodScheduled",
                    "status": "False",
                    "reason": "Unschedulable",
                    "lastProbeTime": None,
                    "lastTransitionTime": pod["metadata"]["creationTimestamp"],
                    "message": "0/3 nodes are available: 1 node(s) had untolerated taint "
                    "{node-role.kubernetes.io/control-plane: }, 2 Insufficient memory. "
                    "preemption: 0/3 nodes are available: 1 Preemption is not helpful for "
                    "scheduling, 2 No preemption victims found for incoming pod.",
                }
            ],
        }
        self.store.replace("pods", pod)
        self.ctl.reconcile("deployments.apps", "shop", "importer")

    def events(self, ns: str) -> None:
        n = 0
        for pod in self.store.list("pods", ns):
            name = pod["metadata"]["name"]
            reason_list: list[tuple[str, str, str, str, int, float]] = []
            cs = (pod.get("status") or {}).get("containerStatuses") or []
            if pod["status"].get("phase") == "Pending":
                reason_list.append(
                    (
                        "Warning",
                        "FailedScheduling",
                        "default-scheduler",
                        pod["status"]["conditions"][0]["message"],
                        4,
                        18,
                    )
                )
            elif cs and cs[0].get("restartCount"):
                c = cs[0]["name"]
                reason_list += [
                    (
                        "Normal",
                        "Pulled",
                        "kubelet",
                        f'Container image "{cs[0]["image"]}" already present on machine',
                        8,
                        47,
                    ),
                    (
                        "Warning",
                        "BackOff",
                        "kubelet",
                        f"Back-off restarting failed container {c} in pod "
                        f"{name}_{ns}({pod['metadata']['uid']})",
                        196,
                        46,
                    ),
                ]
            else:
                continue
            for type_, reason, comp, msg, count, minutes in reason_list:
                n += 1
                first = self.ago(minutes=minutes)
                last = self.ago(seconds=40 + n * 13)
                self.add(
                    "events",
                    {
                        "apiVersion": "v1",
                        "kind": "Event",
                        "metadata": {"name": f"{name}.{0x17F3A2B4C5D6E000 + n:x}", "namespace": ns},
                        "involvedObject": {
                            "kind": "Pod",
                            "namespace": ns,
                            "name": name,
                            "uid": pod["metadata"]["uid"],
                            "apiVersion": "v1",
                            "resourceVersion": pod["metadata"]["resourceVersion"],
                            **({"fieldPath": f"spec.containers{{{cs[0]['name']}}}"} if cs else {}),
                        },
                        "reason": reason,
                        "message": msg,
                        "type": type_,
                        "count": count,
                        "source": {
                            "component": comp,
                            **(
                                {"host": pod["spec"].get("nodeName")}
                                if pod["spec"].get("nodeName")
                                else {}
                            ),
                        },
                        "firstTimestamp": now_rfc3339(first),
                        "lastTimestamp": now_rfc3339(last),
                        "reportingComponent": comp,
                        "reportingInstance": pod["spec"].get("nodeName", ""),
                        "eventTime": None,
                    },
                    first,
                )
        dep_first = self.ago(hours=5, minutes=12)
        self.add(
            "events",
            {
                "apiVersion": "v1",
                "kind": "Event",
                "metadata": {"name": "frontend.17f3a2b4c0000001", "namespace": ns},
                "involvedObject": {
                    "kind": "Deployment",
                    "namespace": ns,
                    "name": "frontend",
                    "apiVersion": "apps/v1",
                },
                "reason": "ScalingReplicaSet",
                "type": "Normal",
                "count": 1,
                "message": "Scaled up replica set frontend to 3",
                "source": {"component": "deployment-controller"},
                "firstTimestamp": now_rfc3339(dep_first),
                "lastTimestamp": now_rfc3339(dep_first),
                "reportingComponent": "deployment-controller",
                "reportingInstance": "",
                "eventTime": None,
            },
            dep_first,
        )

    def default_ns(self) -> None:
        self.workload(
            _deployment(
                "default",
                "hello",
                1,
                [_container("agnhost", "registry.k8s.io/e2e-test-images/agnhost:2.52", port=8080)],
            ),
            self.ago(days=3),
            self.ago(days=3),
        )
        self.ctl.frozen_now = None
        self.add(
            "services",
            _service("default", "kubernetes", 443, 6443, ip="10.43.0.1", selector={}),
            self.ago(days=41, hours=3),
        )

    def bench(self) -> None:
        pod: JSON = {
            "apiVersion": "v1",
            "kind": "Pod",
            "metadata": {
                "name": "bulk",
                "namespace": "bench",
                "labels": {"app.kubernetes.io/name": "bulk"},
                "annotations": {
                    "kubelantern.io/purpose": "log throughput benchmark (container firehose)"
                },
            },
            "spec": {"containers": [_container("firehose", "ghcr.io/kubelantern/firehose:1.0")]},
        }
        self.ctl.start_pod(pod, None, self.ago(hours=1))
        self.add("pods", pod, self.ago(hours=1))

    def crd(self) -> None:
        born = self.ago(days=9)
        self.add(
            "customresourcedefinitions.apiextensions.k8s.io",
            {
                "apiVersion": "apiextensions.k8s.io/v1",
                "kind": "CustomResourceDefinition",
                "metadata": {"name": "widgets.example.com", "generation": 1},
                "spec": {
                    "group": "example.com",
                    "scope": "Namespaced",
                    "names": {
                        "plural": "widgets",
                        "singular": "widget",
                        "kind": "Widget",
                        "listKind": "WidgetList",
                        "shortNames": ["wg"],
                    },
                    "versions": [
                        {
                            "name": "v1",
                            "served": True,
                            "storage": True,
                            "schema": {
                                "openAPIV3Schema": {
                                    "type": "object",
                                    "x-kubernetes-preserve-unknown-fields": True,
                                }
                            },
                            "subresources": {"status": {}},
                            "additionalPrinterColumns": [
                                {"name": "Color", "type": "string", "jsonPath": ".spec.color"},
                                {"name": "Size", "type": "integer", "jsonPath": ".spec.size"},
                                {
                                    "name": "Age",
                                    "type": "date",
                                    "jsonPath": ".metadata.creationTimestamp",
                                },
                            ],
                        }
                    ],
                    "conversion": {"strategy": "None"},
                },
                "status": {
                    "acceptedNames": {
                        "plural": "widgets",
                        "singular": "widget",
                        "kind": "Widget",
                        "listKind": "WidgetList",
                        "shortNames": ["wg"],
                    },
                    "storedVersions": ["v1"],
                    "conditions": [
                        {
                            "type": "Established",
                            "status": "True",
                            "reason": "InitialNamesAccepted",
                            "message": "the initial names have been accepted",
                            "lastTransitionTime": now_rfc3339(born),
                        }
                    ],
                },
            },
            born,
        )
        for i, (name, color, size) in enumerate(
            (("sprocket", "red", 3), ("gizmo", "blue", 7), ("doohickey", "green", 1))
        ):
            self.add(
                "widgets.example.com",
                {
                    "apiVersion": "example.com/v1",
                    "kind": "Widget",
                    "metadata": {
                        "name": name,
                        "namespace": "shop",
                        "generation": 1,
                        "labels": {"tier": "demo"},
                    },
                    "spec": {"color": color, "size": size},
                    "status": {"phase": "Ready"},
                },
                self.ago(days=8 - i),
            )

    def misc(self, birth: dt.datetime) -> None:
        self.add(
            "storageclasses.storage.k8s.io",
            {
                "apiVersion": "storage.k8s.io/v1",
                "kind": "StorageClass",
                "metadata": {
                    "name": "local-path",
                    "annotations": {"storageclass.kubernetes.io/is-default-class": "true"},
                },
                "provisioner": "rancher.io/local-path",
                "reclaimPolicy": "Delete",
                "volumeBindingMode": "WaitForFirstConsumer",
            },
            birth,
        )
        self.add(
            "ingressclasses.networking.k8s.io",
            {
                "apiVersion": "networking.k8s.io/v1",
                "kind": "IngressClass",
                "metadata": {
                    "name": "nginx",
                    "annotations": {"ingressclass.kubernetes.io/is-default-class": "true"},
                },
                "spec": {"controller": "k8s.io/ingress-nginx"},
            },
            birth,
        )

    def openshift(self, birth: dt.datetime) -> None:
        for ns in NAMESPACES:
            self.add(
                "projects.project.openshift.io",
                {
                    "apiVersion": "project.openshift.io/v1",
                    "kind": "Project",
                    "metadata": {"name": ns, "annotations": {"openshift.io/display-name": ns}},
                    "spec": {"finalizers": ["kubernetes"]},
                    "status": {"phase": "Active"},
                },
                birth,
            )
        self.add(
            "routes.route.openshift.io",
            {
                "apiVersion": "route.openshift.io/v1",
                "kind": "Route",
                "metadata": {"name": "frontend", "namespace": "shop"},
                "spec": {
                    "host": "frontend-shop.apps.ocp.example.com",
                    "to": {"kind": "Service", "name": "frontend", "weight": 100},
                    "port": {"targetPort": "http"},
                    "tls": {"termination": "edge"},
                    "wildcardPolicy": "None",
                },
                "status": {
                    "ingress": [
                        {
                            "host": "frontend-shop.apps.ocp.example.com",
                            "routerName": "default",
                            "conditions": [{"type": "Admitted", "status": "True"}],
                        }
                    ]
                },
            },
            self.ago(days=12),
        )
        self.add(
            "clusterversions.config.openshift.io",
            {
                "apiVersion": "config.openshift.io/v1",
                "kind": "ClusterVersion",
                "metadata": {"name": "version"},
                "spec": {
                    "channel": "stable-4.17",
                    "clusterID": "5b1e3c2a-9f8d-4e7b-a6c5-d4e3f2a1b0c9",
                },
                "status": {
                    "desired": {"version": "4.17.9"},
                    "history": [{"state": "Completed", "version": "4.17.9"}],
                },
            },
            birth,
        )
        self.add(
            "infrastructures.config.openshift.io",
            {
                "apiVersion": "config.openshift.io/v1",
                "kind": "Infrastructure",
                "metadata": {"name": "cluster"},
                "spec": {"platformSpec": {"type": "None"}},
                "status": {
                    "platform": "None",
                    "infrastructureName": "ocp-x7k2p",
                    "apiServerURL": "https://api.ocp.example.com:6443",
                    "controlPlaneTopology": "HighlyAvailable",
                },
            },
            birth,
        )
        self.add(
            "deploymentconfigs.apps.openshift.io",
            {
                "apiVersion": "apps.openshift.io/v1",
                "kind": "DeploymentConfig",
                "metadata": {"name": "legacy-billing", "namespace": "shop", "generation": 1},
                "spec": {
                    "replicas": 0,
                    "selector": {"app": "legacy-billing"},
                    "template": {
                        "metadata": {"labels": {"app": "legacy-billing"}},
                        "spec": {
                            "containers": [_container("billing", "quay.io/example/billing:3.1")]
                        },
                    },
                },
                "status": {"replicas": 0, "latestVersion": 4},
            },
            birth,
        )


def seed(store: Store, controllers: Controllers, now: dt.datetime, profile: str) -> None:
    Seeder(store, controllers, now, profile).run()
