"""The resource types the simulator serves, and a registry that CRDs extend at run time."""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass, field
from typing import Any

FULL_VERBS = ("create", "delete", "deletecollection", "get", "list", "patch", "update", "watch")


@dataclass(frozen=True)
class ResourceType:
    group: str
    version: str
    plural: str
    kind: str
    namespaced: bool = True
    singular: str = ""
    short_names: tuple[str, ...] = ()
    categories: tuple[str, ...] = ()
    subresources: tuple[str, ...] = ()  # served subresources: status, scale, log, exec...
    verbs: tuple[str, ...] = FULL_VERBS
    has_generation: bool = False  # metadata.generation moves when spec changes
    # Objects live under this store key; another type may view them (events.k8s.io/v1).
    storage: str = ""
    profiles: tuple[str, ...] | None = None  # served only on these profiles

    @property
    def api_version(self) -> str:
        return f"{self.group}/{self.version}" if self.group else self.version

    @property
    def group_version(self) -> str:
        return self.api_version

    @property
    def key(self) -> str:
        """Store key: `pods`, `deployments.apps`."""
        if self.storage:
            return self.storage
        return f"{self.plural}.{self.group}" if self.group else self.plural

    @property
    def singular_name(self) -> str:
        return self.singular or self.kind.lower()

    @property
    def list_kind(self) -> str:
        return f"{self.kind}List"


def _rt(group: str, version: str, plural: str, kind: str, **kw: Any) -> ResourceType:
    return ResourceType(group, version, plural, kind, **kw)


_WORKLOAD = ("all",)

BUILTIN: tuple[ResourceType, ...] = (
    _rt(
        "",
        "v1",
        "namespaces",
        "Namespace",
        namespaced=False,
        short_names=("ns",),
        subresources=("status",),
        verbs=("create", "delete", "get", "list", "patch", "update", "watch"),
    ),
    _rt(
        "",
        "v1",
        "pods",
        "Pod",
        short_names=("po",),
        categories=_WORKLOAD,
        subresources=("status", "log", "exec", "attach", "portforward", "ephemeralcontainers"),
    ),
    _rt(
        "",
        "v1",
        "services",
        "Service",
        short_names=("svc",),
        categories=_WORKLOAD,
        subresources=("status",),
        verbs=("create", "delete", "deletecollection", "get", "list", "patch", "update", "watch"),
    ),
    _rt("", "v1", "endpoints", "Endpoints", short_names=("ep",), singular="endpoints"),
    _rt("", "v1", "configmaps", "ConfigMap", short_names=("cm",)),
    _rt("", "v1", "secrets", "Secret"),
    _rt("", "v1", "serviceaccounts", "ServiceAccount", short_names=("sa",)),
    _rt(
        "",
        "v1",
        "persistentvolumeclaims",
        "PersistentVolumeClaim",
        short_names=("pvc",),
        subresources=("status",),
    ),
    _rt(
        "",
        "v1",
        "persistentvolumes",
        "PersistentVolume",
        namespaced=False,
        short_names=("pv",),
        subresources=("status",),
    ),
    _rt("", "v1", "nodes", "Node", namespaced=False, short_names=("no",), subresources=("status",)),
    _rt("", "v1", "events", "Event", short_names=("ev",)),
    _rt(
        "",
        "v1",
        "resourcequotas",
        "ResourceQuota",
        short_names=("quota",),
        subresources=("status",),
    ),
    _rt("", "v1", "limitranges", "LimitRange", short_names=("limits",)),
    _rt(
        "apps",
        "v1",
        "deployments",
        "Deployment",
        short_names=("deploy",),
        categories=_WORKLOAD,
        subresources=("status", "scale"),
        has_generation=True,
    ),
    _rt(
        "apps",
        "v1",
        "replicasets",
        "ReplicaSet",
        short_names=("rs",),
        categories=_WORKLOAD,
        subresources=("status", "scale"),
        has_generation=True,
    ),
    _rt(
        "apps",
        "v1",
        "statefulsets",
        "StatefulSet",
        short_names=("sts",),
        categories=_WORKLOAD,
        subresources=("status", "scale"),
        has_generation=True,
    ),
    _rt(
        "apps",
        "v1",
        "daemonsets",
        "DaemonSet",
        short_names=("ds",),
        categories=_WORKLOAD,
        subresources=("status",),
        has_generation=True,
    ),
    _rt("apps", "v1", "controllerrevisions", "ControllerRevision"),
    _rt(
        "batch",
        "v1",
        "jobs",
        "Job",
        categories=_WORKLOAD,
        subresources=("status",),
        has_generation=True,
    ),
    _rt(
        "batch",
        "v1",
        "cronjobs",
        "CronJob",
        short_names=("cj",),
        categories=_WORKLOAD,
        subresources=("status",),
        has_generation=True,
    ),
    _rt(
        "networking.k8s.io",
        "v1",
        "ingresses",
        "Ingress",
        short_names=("ing",),
        subresources=("status",),
        has_generation=True,
    ),
    _rt("networking.k8s.io", "v1", "ingressclasses", "IngressClass", namespaced=False),
    _rt(
        "networking.k8s.io",
        "v1",
        "networkpolicies",
        "NetworkPolicy",
        short_names=("netpol",),
        has_generation=True,
    ),
    _rt(
        "storage.k8s.io",
        "v1",
        "storageclasses",
        "StorageClass",
        namespaced=False,
        short_names=("sc",),
    ),
    _rt(
        "policy",
        "v1",
        "poddisruptionbudgets",
        "PodDisruptionBudget",
        short_names=("pdb",),
        subresources=("status",),
        has_generation=True,
    ),
    _rt(
        "autoscaling",
        "v2",
        "horizontalpodautoscalers",
        "HorizontalPodAutoscaler",
        short_names=("hpa",),
        categories=_WORKLOAD,
        subresources=("status",),
    ),
    _rt(
        "apiextensions.k8s.io",
        "v1",
        "customresourcedefinitions",
        "CustomResourceDefinition",
        namespaced=False,
        short_names=("crd", "crds"),
        categories=("api-extensions",),
        subresources=("status",),
        has_generation=True,
    ),
    _rt(
        "authorization.k8s.io",
        "v1",
        "selfsubjectaccessreviews",
        "SelfSubjectAccessReview",
        namespaced=False,
        verbs=("create",),
    ),
    _rt(
        "authorization.k8s.io",
        "v1",
        "selfsubjectrulesreviews",
        "SelfSubjectRulesReview",
        namespaced=False,
        verbs=("create",),
    ),
    _rt(
        "authentication.k8s.io",
        "v1",
        "selfsubjectreviews",
        "SelfSubjectReview",
        namespaced=False,
        verbs=("create",),
    ),
    _rt("rbac.authorization.k8s.io", "v1", "roles", "Role"),
    _rt("rbac.authorization.k8s.io", "v1", "rolebindings", "RoleBinding"),
    _rt("rbac.authorization.k8s.io", "v1", "clusterroles", "ClusterRole", namespaced=False),
    _rt(
        "rbac.authorization.k8s.io",
        "v1",
        "clusterrolebindings",
        "ClusterRoleBinding",
        namespaced=False,
    ),
    _rt("events.k8s.io", "v1", "events", "Event", short_names=("ev",), storage="events"),
    # metrics-server's API: computed on read, never stored.
    _rt("metrics.k8s.io", "v1beta1", "pods", "PodMetrics", verbs=("get", "list")),
    _rt(
        "metrics.k8s.io", "v1beta1", "nodes", "NodeMetrics", namespaced=False, verbs=("get", "list")
    ),
    # OpenShift groups (served on the openshift profile only).
    _rt(
        "route.openshift.io",
        "v1",
        "routes",
        "Route",
        subresources=("status",),
        profiles=("openshift",),
    ),
    _rt(
        "project.openshift.io",
        "v1",
        "projects",
        "Project",
        namespaced=False,
        verbs=("create", "delete", "get", "list", "patch", "update", "watch"),
        profiles=("openshift",),
    ),
    _rt(
        "apps.openshift.io",
        "v1",
        "deploymentconfigs",
        "DeploymentConfig",
        short_names=("dc",),
        categories=_WORKLOAD,
        subresources=("status", "scale"),
        has_generation=True,
        profiles=("openshift",),
    ),
    _rt(
        "config.openshift.io",
        "v1",
        "clusterversions",
        "ClusterVersion",
        namespaced=False,
        subresources=("status",),
        profiles=("openshift",),
    ),
    _rt(
        "config.openshift.io",
        "v1",
        "infrastructures",
        "Infrastructure",
        namespaced=False,
        subresources=("status",),
        profiles=("openshift",),
    ),
)

# Only these types are creatable-only "review" endpoints, not stored.
REVIEW_KINDS = frozenset(
    {"selfsubjectaccessreviews", "selfsubjectrulesreviews", "selfsubjectreviews"}
)


@dataclass
class Registry:
    """The types served right now: builtins for the profile plus CRD-defined ones."""

    profile: str
    types: dict[tuple[str, str, str], ResourceType] = field(default_factory=dict)

    def __post_init__(self) -> None:
        for rt in BUILTIN:
            if rt.profiles is None or self.profile in rt.profiles:
                self.add(rt)

    def add(self, rt: ResourceType) -> None:
        self.types[(rt.group, rt.version, rt.plural)] = rt

    def remove_group_kind(self, group: str, plural: str) -> None:
        for k in [k for k in self.types if k[0] == group and k[2] == plural]:
            del self.types[k]

    def get(self, group: str, version: str, plural: str) -> ResourceType | None:
        return self.types.get((group, version, plural))

    def by_storage(self, key: str) -> ResourceType | None:
        """The type whose own representation is the stored one."""
        for rt in self.types.values():
            if rt.key == key and not rt.storage:
                return rt
        return None

    def __iter__(self) -> Iterator[ResourceType]:
        return iter(self.types.values())

    def group_versions(self) -> dict[str, list[str]]:
        """group -> versions served, preferred first ("" is the core group)."""
        out: dict[str, list[str]] = {}
        for rt in self.types.values():
            versions = out.setdefault(rt.group, [])
            if rt.version not in versions:
                versions.append(rt.version)
        return out

    def in_group_version(self, group: str, version: str) -> list[ResourceType]:
        return [rt for rt in self.types.values() if rt.group == group and rt.version == version]


def crd_types(crd: dict[str, Any]) -> list[ResourceType]:
    """Resource types a CustomResourceDefinition object declares (served versions)."""
    spec = crd.get("spec") or {}
    names = spec.get("names") or {}
    group = spec.get("group", "")
    plural = names.get("plural", "")
    kind = names.get("kind", "")
    if not (group and plural and kind):
        return []
    out = []
    for v in spec.get("versions") or []:
        if not v.get("served", True):
            continue
        subs = tuple(sorted((v.get("subresources") or {}).keys()))
        out.append(
            ResourceType(
                group,
                v.get("name", "v1"),
                plural,
                kind,
                namespaced=spec.get("scope", "Namespaced") == "Namespaced",
                singular=names.get("singular", ""),
                short_names=tuple(names.get("shortNames") or ()),
                categories=tuple(names.get("categories") or ()),
                subresources=subs,
                has_generation=True,
            )
        )
    return out
