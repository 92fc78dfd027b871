"""Discovery answers built from a real kube-apiserver's documents (data/discovery/), filtered to
what this simulator serves, plus generated entries for groups without a document (OpenShift
groups, CRD groups)."""

from __future__ import annotations

import copy
import functools
import json
import zlib
from importlib import resources
from typing import Any

from .kinds import Registry, ResourceType

JSON = dict[str, Any]

AGGREGATED_MEDIA = "application/json;g=apidiscovery.k8s.io;v={v};as=APIGroupDiscoveryList"


@functools.cache
def load(name: str) -> JSON:
    """One discovery document as shipped (read once, never edited)."""
    path = resources.files("kubesim").joinpath("data", "discovery", name)
    data: JSON = json.loads(path.read_text(encoding="utf-8"))
    return data


def _file_for(group: str, version: str) -> str:
    return "api__v1.json" if not group else f"apis__{group}__{version}.json"


def _has_file(name: str) -> bool:
    return resources.files("kubesim").joinpath("data", "discovery", name).is_file()


def aggregated_version(accept: str) -> str | None:
    """'v2' / 'v2beta1' when the Accept header asks for an APIGroupDiscoveryList, else None."""
    for entry in accept.split(","):
        params = {}
        for piece in entry.split(";")[1:]:
            k, _, v = piece.strip().partition("=")
            params[k.strip()] = v.strip()
        if params.get("as") == "APIGroupDiscoveryList" and params.get("g") == "apidiscovery.k8s.io":
            if params.get("v") in ("v2", "v2beta1"):
                return params["v"]
    return None


def _served_names(rts: list[ResourceType]) -> set[str]:
    names = set()
    for rt in rts:
        names.add(rt.plural)
        names.update(f"{rt.plural}/{s}" for s in rt.subresources)
    return names


def _generated_entry(rt: ResourceType) -> list[JSON]:
    base: JSON = {
        "name": rt.plural,
        "singularName": rt.singular_name,
        "namespaced": rt.namespaced,
        "kind": rt.kind,
        "verbs": list(rt.verbs),
    }
    if rt.short_names:
        base["shortNames"] = list(rt.short_names)
    if rt.categories:
        base["categories"] = list(rt.categories)
    out = [base]
    for sub in rt.subresources:
        kind = {"scale": "Scale", "log": "Pod", "exec": "PodExecOptions"}.get(sub, rt.kind)
        verbs = ["get", "patch", "update"] if sub in ("status", "scale") else ["get"]
        if sub in ("exec", "attach", "portforward"):
            verbs = ["create", "get"]
        entry: JSON = {
            "name": f"{rt.plural}/{sub}",
            "singularName": "",
            "namespaced": rt.namespaced,
            "kind": kind,
            "verbs": verbs,
        }
        if sub == "scale":
            entry.update(group="autoscaling", version="v1")
        out.append(entry)
    return out


def resource_list(registry: Registry, group: str, version: str) -> JSON | None:
    """`/api/v1` or `/apis/<group>/<version>`: an APIResourceList, or None if not served."""
    rts = registry.in_group_version(group, version)
    if not rts:
        return None
    gv = f"{group}/{version}" if group else version
    name = _file_for(group, version)
    served = _served_names(rts)
    if _has_file(name):
        doc = copy.deepcopy(load(name))
        doc["resources"] = [r for r in doc["resources"] if r.get("name") in served]
        known = {r["name"] for r in doc["resources"]}
        for rt in rts:
            if rt.plural not in known:
                doc["resources"].extend(_generated_entry(rt))
        return doc
    out: JSON = {"kind": "APIResourceList", "apiVersion": "v1", "groupVersion": gv, "resources": []}
    for rt in rts:
        out["resources"].extend(_generated_entry(rt))
    return out


def api_versions() -> JSON:
    return copy.deepcopy(load("api.json"))


def _group_entry(group: str, versions: list[str]) -> JSON:
    return {
        "name": group,
        "versions": [{"groupVersion": f"{group}/{v}", "version": v} for v in versions],
        "preferredVersion": {"groupVersion": f"{group}/{versions[0]}", "version": versions[0]},
    }


def api_group_list(registry: Registry) -> JSON:
    served = registry.group_versions()
    served.pop("", None)
    doc = copy.deepcopy(load("apis.json"))
    groups = []
    seen = set()
    for g in doc["groups"]:
        if g["name"] not in served:
            continue
        versions = [v["version"] for v in g["versions"] if v["version"] in served[g["name"]]]
        groups.append(_group_entry(g["name"], versions))
        seen.add(g["name"])
    for name, versions in served.items():
        if name not in seen:
            groups.append(_group_entry(name, versions))
    doc["groups"] = groups
    return doc


def api_group(registry: Registry, group: str) -> JSON | None:
    versions = registry.group_versions().get(group)
    if not versions:
        return None
    return {"kind": "APIGroup", "apiVersion": "v1", **_group_entry(group, versions)}


def _aggregated_resources(rl: JSON) -> list[JSON]:
    """APIResourceList entries -> apidiscovery v2 resources (with their subresources)."""
    out: dict[str, JSON] = {}
    for r in rl["resources"]:
        name = r["name"]
        if "/" in name:
            continue
        item: JSON = {
            "resource": name,
            "responseKind": {"group": "", "kind": r.get("kind", ""), "version": ""},
            "scope": "Namespaced" if r.get("namespaced") else "Cluster",
            "singularResource": r.get("singularName", ""),
            "verbs": r.get("verbs", []),
        }
        if r.get("shortNames"):
            item["shortNames"] = r["shortNames"]
        if r.get("categories"):
            item["categories"] = r["categories"]
        out[name] = item
    for r in rl["resources"]:
        base, _, sub = r["name"].partition("/")
        if sub and base in out:
            kind = {
                "group": r.get("group", ""),
                "kind": r.get("kind", ""),
                "version": r.get("version", ""),
            }
            out[base].setdefault("subresources", []).append(
                {"subresource": sub, "responseKind": kind, "verbs": r.get("verbs", [])}
            )
    return list(out.values())


def _served_shipped(resources: list[JSON], names: set[str]) -> list[JSON]:
    """A shipped document's resources (and subresources) that are served here."""
    out = []
    for r in copy.deepcopy(resources):
        if r["resource"] not in names:
            continue
        subs = [
            s for s in r.get("subresources", []) if f"{r['resource']}/{s['subresource']}" in names
        ]
        if subs:
            r["subresources"] = subs
        else:
            r.pop("subresources", None)
        out.append(r)
    return out


def aggregated(registry: Registry, core: bool, v: str = "v2") -> JSON:
    """`/api` (core=True) or `/apis` as an APIGroupDiscoveryList."""
    items: list[JSON] = []
    if core:
        rl = resource_list(registry, "", "v1")
        assert rl is not None
        items.append(
            {
                "metadata": {"creationTimestamp": None},
                "versions": [
                    {
                        "version": "v1",
                        "resources": _aggregated_resources(rl),
                        "freshness": "Current",
                    }
                ],
            }
        )
    else:
        order = [g["name"] for g in api_group_list(registry)["groups"]]
        shipped = {i["metadata"]["name"]: i for i in load("aggregated_v2.json")["items"]}
        served = registry.group_versions()
        for group in order:
            versions = []
            for version in served[group]:
                names = _served_names(registry.in_group_version(group, version))
                rl = resource_list(registry, group, version)
                assert rl is not None
                ship = next(
                    (
                        x
                        for x in (shipped.get(group) or {}).get("versions", [])
                        if x["version"] == version
                    ),
                    None,
                )
                # The real apiserver's entries where it has them, generated ones for the rest.
                res = _served_shipped(ship["resources"], names) if ship is not None else []
                known = {r["resource"] for r in res}
                res.extend(r for r in _aggregated_resources(rl) if r["resource"] not in known)
                versions.append({"version": version, "resources": res, "freshness": "Current"})
            items.append(
                {"metadata": {"name": group, "creationTimestamp": None}, "versions": versions}
            )
    return {
        "kind": "APIGroupDiscoveryList",
        "apiVersion": f"apidiscovery.k8s.io/{v}",
        "metadata": {},
        "items": items,
    }


# -- OpenAPI v3 (minimal) ------------------------------------------------------------------------
# kubectl create/apply ask /openapi/v3 whether PATCH takes `fieldValidation` (server-side
# validation); without an answer they fall back to client-side validation, which needs the full
# /openapi/v2 schema. These documents only declare operations and that parameter.


def _gv_path(group: str, version: str) -> str:
    return f"api/{version}" if not group else f"apis/{group}/{version}"


def openapi_v3_root(registry: Registry) -> JSON:
    paths = {}
    for group, versions in registry.group_versions().items():
        for version in versions:
            gv = _gv_path(group, version)
            names = ",".join(sorted(rt.plural for rt in registry.in_group_version(group, version)))
            digest = zlib.crc32(f"{gv}:{names}".encode())
            paths[gv] = {"serverRelativeURL": f"/openapi/v3/{gv}?hash={digest:016X}"}
    return {"paths": paths}


def openapi_v3_doc(registry: Registry, gv_path: str) -> JSON | None:
    parts = gv_path.strip("/").split("/")
    if parts[0] == "api" and len(parts) == 2:
        group, version = "", parts[1]
    elif parts[0] == "apis" and len(parts) == 3:
        group, version = parts[1], parts[2]
    else:
        return None
    rts = registry.in_group_version(group, version)
    if not rts:
        return None
    base = "/" + gv_path.strip("/")
    field_validation = {
        "name": "fieldValidation",
        "in": "query",
        "description": "fieldValidation instructs the server on how to handle objects in the "
        "request containing unknown or duplicate fields.",
        "schema": {"type": "string", "uniqueItems": True},
    }
    paths: JSON = {}
    for rt in rts:
        gvk = {"group": group, "version": version, "kind": rt.kind}
        collection = (
            f"{base}/namespaces/{{namespace}}/{rt.plural}"
            if rt.namespaced
            else f"{base}/{rt.plural}"
        )
        op = {"x-kubernetes-group-version-kind": gvk, "parameters": [field_validation]}
        paths[collection] = {"post": {**op, "x-kubernetes-action": "post"}}
        paths[f"{collection}/{{name}}"] = {
            "put": {**op, "x-kubernetes-action": "put"},
            "patch": {**op, "x-kubernetes-action": "patch"},
        }
    return {
        "openapi": "3.0.0",
        "info": {"title": "Kubernetes", "version": "unversioned"},
        "paths": paths,
        "components": {"schemas": {}},
    }
