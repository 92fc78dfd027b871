"""A kubeconfig that points kubectl at kubelantern (like Rancher's "Download KubeConfig":
one proxy, many clusters): one context per served cluster under the same name, the local
CA embedded, the launch token as the user's bearer token. Exec plugins, Rancher quirks and
real credentials stay on kubelantern's side.

Also the small record `serve --tls-port` leaves for `kubelantern kubeconfig` to find it
(URL and token, 0600 in the config directory, removed at shutdown). Pure except `write_*`.
"""

from __future__ import annotations

import base64
import json
import os
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any
from urllib.parse import quote

import yaml

USER = "kubelantern"
INSTANCE_FILE = "instance.json"


@dataclass(frozen=True)
class Instance:
    """A running `serve --tls-port`: where it listens (with --base-url) and its token."""

    url: str  # https://127.0.0.1:PORT[/base]
    token: str | None
    pid: int

    def to_json(self) -> str:
        return json.dumps({"url": self.url, "token": self.token, "pid": self.pid})

    @staticmethod
    def from_json(text: str) -> Instance:
        doc = json.loads(text)
        if not isinstance(doc, dict) or not isinstance(doc.get("url"), str):
            raise ValueError("not a kubelantern instance record")
        token = doc.get("token")
        return Instance(doc["url"], token if isinstance(token, str) else None, int(doc["pid"]))


def cluster_url(base_url: str, name: str) -> str:
    """kubelantern's proxy URL of `name`; `/ : @` stay as they are (kubectl sends the path
    decoded anyway and kubelantern resolves the longest cluster name)."""
    return f"{base_url.rstrip('/')}/clusters/{quote(name, safe='/:@')}"


def kubeconfig_doc(
    base_url: str,
    clusters: Sequence[Mapping[str, Any]],
    ca_pem: bytes,
    token: str | None,
    current: str | None = None,
) -> dict[str, Any]:
    """The kubeconfig (a dict ready for YAML). `clusters` are /api/clusters entries."""
    names = [str(c["name"]) for c in clusters]
    ca_data = base64.b64encode(ca_pem).decode()
    user: dict[str, Any] = {"token": token} if token else {}
    contexts = []
    for c in clusters:
        ctx: dict[str, Any] = {"cluster": c["name"], "user": USER}
        if c.get("namespace"):
            ctx["namespace"] = c["namespace"]
        contexts.append({"name": c["name"], "context": ctx})
    return {
        "apiVersion": "v1",
        "kind": "Config",
        "clusters": [
            {
                "name": name,
                "cluster": {
                    "server": cluster_url(base_url, name),
                    "certificate-authority-data": ca_data,
                },
            }
            for name in names
        ],
        "users": [{"name": USER, "user": user}],
        "contexts": contexts,
        "current-context": current if current in names else (names[0] if names else ""),
        "preferences": {},
    }


def dump(doc: Mapping[str, Any]) -> str:
    return yaml.safe_dump(dict(doc), sort_keys=False, default_flow_style=False)


def write_private(path: Path, text: str) -> None:
    """Write `text` to `path` readable by the owner only (it holds the launch token)."""
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_name(f".{path.name}.{os.getpid()}.tmp")
    fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    try:
        os.write(fd, text.encode())
    finally:
        os.close(fd)
    os.replace(tmp, path)
