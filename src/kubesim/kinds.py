"""The resource types the simulator serves, and a registry that CRDs extend at run time."""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass, field
from typing import Any

from .profiles import get_profile

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


_NO_COLLECTION = ("create", "delete", "get", "list", "patch", "update", "watch")
_READ = ("get", "list")
_CREATE = ("create",)


def _rt(
    group_version: str,
    plural: str,
    kind: str,
    short: str = "",
    *,
    cluster: bool = False,
    sub: str = "",
    workload: bool = False,
    gen: bool = False,
    categories: tuple[str, ...] = (),
    **kw: Any,
) -> ResourceType:
    """One row of the table below: names and subresources as space-separated words."""
    group, _, version = group_version.rpartition("/")
    return ResourceType(
        group,
        version,
        plural,
        kind,
        namespaced=not cluster,
        short_names=tuple(short.split()),
        categories=("all",) if workload else categories,
        subresources=tuple(sub.split()),
        has_generation=gen,
        **kw,
    )


_POD_SUBRESOURCES = "status log exec attach portforward ephemeralcontainers"
_OPENSHIFT = ("openshift",)

# One row a type, so the table reads as data (the formatter would give each ten lines).
# fmt: off
BUILTIN: tuple[ResourceType, ...] = (
    _rt("v1", "namespaces", "Namespace", "ns", cluster=True, sub="status", verbs=_NO_COLLECTION),
    _rt("v1", "pods", "Pod", "po", workload=True, sub=_POD_SUBRESOURCES),
    _rt("v1", "services", "Service", "svc", workload=True, sub="status"),
    _rt("v1", "endpoints", "Endpoints", "ep", singular="endpoints"),
    _rt("v1", "configmaps", "ConfigMap", "cm"),
    _rt("v1", "secrets", "Secret"),
    _rt("v1", "serviceaccounts", "ServiceAccount", "sa"),
    _rt("v1", "persistentvolumeclaims", "PersistentVolumeClaim", "pvc", sub="status"),
    _rt("v1", "persistentvolumes", "PersistentVolume", "pv", cluster=True, sub="status"),
    _rt("v1", "nodes", "Node", "no", cluster=True, sub="status"),
    _rt("v1", "events", "Event", "ev"),
    _rt("v1", "resourcequotas", "ResourceQuota", "quota", sub="status"),
    _rt("v1", "limitranges", "LimitRange", "limits"),
    _rt("apps/v1", "deployments", "Deployment", "deploy", workload=True, sub="status scale",
        gen=True),
    _rt("apps/v1", "replicasets", "ReplicaSet", "rs", workload=True, sub="status scale", gen=True),
    _rt("apps/v1", "statefulsets", "StatefulSet", "sts", workload=True, sub="status scale",
        gen=True),
    _rt("apps/v1", "daemonsets", "DaemonSet", "ds", workload=True, sub="status", gen=True),
    _rt("apps/v1", "controllerrevisions", "ControllerRevision"),
    _rt("batch/v1", "jobs", "Job", workload=True, sub="status", gen=True),
    _rt("batch/v1", "cronjobs", "CronJob", "cj", workload=True, sub="status", gen=True),
    _rt("networking.k8s.io/v1", "ingresses", "Ingress", "ing", sub="status", gen=True),
    _rt("networking.k8s.io/v1", "ingressclasses", "IngressClass", cluster=True),
    _rt("networking.k8s.io/v1", "networkpolicies", "NetworkPolicy", "netpol", gen=True),
    _rt("storage.k8s.io/v1", "storageclasses", "StorageClass", "sc", cluster=True),
    _rt("policy/v1", "poddisruptionbudgets", "PodDisruptionBudget", "pdb", sub="status", gen=True),
    _rt("autoscaling/v2", "horizontalpodautoscalers", "HorizontalPodAutoscaler", "hpa",
        workload=True, sub="status"),
    _rt("apiextensions.k8s.io/v1", "customresourcedefinitions", "CustomResourceDefinition",
        "crd crds", cluster=True, sub="status", gen=True, categories=("api-extensions",)),
    _rt("authorization.k8s.io/v1", "selfsubjectaccessreviews", "SelfSubjectAccessReview",
        cluster=True, verbs=_CREATE),
    _rt("authorization.k8s.io/v1", "selfsubjectrulesreviews", "SelfSubjectRulesReview",
        cluster=True, verbs=_CREATE),
    _rt("authentication.k8s.io/v1", "selfsubjectreviews", "SelfSubjectReview",
        cluster=True, verbs=_CREATE),
    _rt("rbac.authorization.k8s.io/v1", "roles", "Role"),
    _rt("rbac.authorization.k8s.io/v1", "rolebindings", "RoleBinding"),
    _rt("rbac.authorization.k8s.io/v1", "clusterroles", "ClusterRole", cluster=True),
    _rt("rbac.authorization.k8s.io/v1", "clusterrolebindings", "ClusterRoleBinding", cluster=True),
    _rt("events.k8s.io/v1", "events", "Event", "ev", storage="events"),
    # metrics-server's API: computed on read, never stored.
    _rt("metrics.k8s.io/v1beta1", "pods", "PodMetrics", verbs=_READ),
    _rt("metrics.k8s.io/v1beta1", "nodes", "NodeMetrics", cluster=True, verbs=_READ),
    # OpenShift groups (served on the openshift profile only).
    _rt("route.openshift.io/v1", "routes", "Route", sub="status", profiles=_OPENSHIFT),
    _rt("project.openshift.io/v1", "projects", "Project", cluster=True, verbs=_NO_COLLECTION,
        profiles=_OPENSHIFT),
    _rt("apps.openshift.io/v1", "deploymentconfigs", "DeploymentConfig", "dc", workload=True,
        sub="status scale", gen=True, profiles=_OPENSHIFT),
    _rt("config.openshift.io/v1", "clusterversions", "ClusterVersion", cluster=True, sub="status",
        profiles=_OPENSHIFT),
    _rt("config.openshift.io/v1", "infrastructures", "Infrastructure", cluster=True, sub="status",
        profiles=_OPENSHIFT),
)
# fmt: on

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
        absent = get_profile(self.profile).absent_groups
        for rt in BUILTIN:
            if (rt.profiles is None or self.profile in rt.profiles) and rt.group not in absent:
                self.add(rt)

    def add(self, rt: ResourceType) -> None:
        self.types[(rt.group, rt.version, rt.plural)] = rt

    def remove_group_kind(self, group: str, plural: str) -> None:
        for k in [k for k in self.types if k[0] == group and k[2] == plural]:
            del self.types[k]

    def get(self, group: str, version: str, plural: str) -> ResourceType | None:
        return self.types.get((group, version, plural))

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
