"""Write kubeconfig files for tests, the way kubectl would read them."""

from __future__ import annotations

import base64
import sys
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import yaml

# A client-go exec credential plugin for tests, driven by FAKE_PLUGIN_* variables.
FAKE_PLUGIN = Path(__file__).resolve().parent.parent / "fixtures" / "exec_plugin.py"


@dataclass
class Context:
    name: str
    server: str
    ca_pem: bytes | None = None
    token: str | None = None
    user: dict[str, Any] = field(default_factory=dict)  # extra user fields (exec, basic, ...)
    cluster: dict[str, Any] = field(default_factory=dict)  # extra cluster fields
    namespace: str | None = None
    extensions: list[dict[str, Any]] = field(default_factory=list)


def kubeconfig_dict(contexts: list[Context], current: str | None = None) -> dict[str, Any]:
    clusters, users, ctxs = [], [], []
    for i, c in enumerate(contexts):
        cluster: dict[str, Any] = {"server": c.server, **c.cluster}
        if c.ca_pem is not None:
            cluster["certificate-authority-data"] = base64.b64encode(c.ca_pem).decode()
        user: dict[str, Any] = dict(c.user)
        if c.token is not None:
            user["token"] = c.token
        clusters.append({"name": f"cluster-{i}", "cluster": cluster})
        users.append({"name": f"user-{i}", "user": user})
        ctx: dict[str, Any] = {"cluster": f"cluster-{i}", "user": f"user-{i}"}
        if c.namespace:
            ctx["namespace"] = c.namespace
        if c.extensions:
            ctx["extensions"] = c.extensions
        ctxs.append({"name": c.name, "context": ctx})
    return {
        "apiVersion": "v1",
        "kind": "Config",
        "clusters": clusters,
        "users": users,
        "contexts": ctxs,
        "current-context": current or (contexts[0].name if contexts else ""),
        "preferences": {},
    }


def write_yaml(path: Path, doc: Any) -> Path:
    """`doc` (a dict, or YAML text as is) written to `path`, folders made as needed."""
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(doc if isinstance(doc, str) else yaml.safe_dump(doc, sort_keys=False))
    return path


def write_kubeconfig(path: Path, contexts: list[Context], current: str | None = None) -> Path:
    path.write_text(yaml.safe_dump(kubeconfig_dict(contexts, current), sort_keys=False))
    path.chmod(0o600)
    return path


def fake_plugin_exec(
    env: Mapping[str, str],
    *,
    api_version: str = "v1",
    args: Sequence[str] = (),
    **fields: object,
) -> dict[str, Any]:
    """A kubeconfig user's `exec` stanza that runs FAKE_PLUGIN with `env` (FAKE_PLUGIN_*
    and any others); `fields` adds keys such as interactiveMode or provideClusterInfo."""
    return {
        "apiVersion": f"client.authentication.k8s.io/{api_version}",
        "command": sys.executable,
        "args": [str(FAKE_PLUGIN), *args],
        "env": [{"name": name, "value": value} for name, value in env.items()],
        **fields,
    }
