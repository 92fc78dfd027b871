"""Demo data: a small but believable cluster (a shop, its database, a crash-looping service, a
pod that cannot be scheduled, events), deterministic for a given seed. One module per
scenario; `seed()` runs them in order."""

from __future__ import annotations

import datetime as dt

from ..controller import Controllers
from ..store import Store
from .base import NAMESPACES, Seeder
from .bench import bench
from .cluster import kube_system, namespace, nodes
from .crds import crds
from .default_ns import default_ns
from .misc import misc
from .openshift import openshift
from .rancher import rancher
from .shop import shop

# What only one distribution has, by profile name.
BY_PROFILE = {"openshift": openshift, "rancher": rancher}


def seed(store: Store, controllers: Controllers, now: dt.datetime, profile: str) -> None:
    s = Seeder(store, controllers, now, profile)
    cluster_birth = s.ago(days=41, hours=3)
    nodes(s, cluster_birth)
    for ns in NAMESPACES:
        namespace(s, ns, cluster_birth if ns.startswith(("kube", "default")) else s.ago(days=12))
    kube_system(s, cluster_birth)
    shop(s)
    default_ns(s)
    bench(s)
    crds(s)
    misc(s, cluster_birth)
    if profile in BY_PROFILE:
        BY_PROFILE[profile](s, cluster_birth)
    s.ctl.frozen_now = None


__all__ = ["seed"]
