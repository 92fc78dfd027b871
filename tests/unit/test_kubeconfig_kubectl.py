"""Our merge of a KUBECONFIG list agrees with the real kubectl's (`config view --flatten`)."""

from __future__ import annotations

import base64
import json
import os
import subprocess
from pathlib import Path

import pytest

from kubelantern.clusters.kubeconfig import load_kubeconfigs
from tests.harness.kubeconfig import write_yaml

pytestmark = pytest.mark.kubectl


def test_merge_matches_kubectl(kubectl: str, tmp_path: Path) -> None:
    (tmp_path / "a" / "certs").mkdir(parents=True)
    (tmp_path / "a" / "certs" / "ca.crt").write_bytes(b"CA from file a\n")
    a = write_yaml(
        tmp_path / "a" / "config",
        {
            "current-context": "",
            "clusters": [
                {
                    "name": "c",
                    "cluster": {"server": "https://a:1", "certificate-authority": "certs/ca.crt"},
                }
            ],
            "users": [{"name": "u", "user": {"token": "token-a"}}],
            "contexts": [{"name": "shared", "context": {"cluster": "c", "user": "u"}}],
        },
    )
    b = write_yaml(
        tmp_path / "b" / "config",
        {
            "current-context": "team/b:ctx@x",
            "clusters": [
                {"name": "c", "cluster": {"server": "https://b:1"}},
                {"name": "c2", "cluster": {"server": "https://c2:1/k8s/clusters/c-1"}},
            ],
            "users": [
                {"name": "u", "user": {"token": "token-b"}},
                {"name": "u2", "user": {"username": "admin", "password": "pw"}},
            ],
            "contexts": [
                {"name": "shared", "context": {"cluster": "c2", "user": "u2"}},
                {
                    "name": "team/b:ctx@x",
                    "context": {"cluster": "c2", "user": "u", "namespace": "ns"},
                },
            ],
        },
    )
    listed = os.pathsep.join([str(a), str(tmp_path / "missing"), "", str(b)])
    env = {**os.environ, "KUBECONFIG": listed}
    out = subprocess.run(
        [kubectl, "config", "view", "--flatten", "--raw", "-o", "json"],
        env=env,
        capture_output=True,
        check=True,
        timeout=60,
    ).stdout
    view = json.loads(out)
    clusters = {c["name"]: c["cluster"] for c in view["clusters"]}
    users = {u["name"]: u["user"] for u in view["users"]}
    contexts = {c["name"]: c["context"] for c in view["contexts"]}

    result = load_kubeconfigs(None, env={"KUBECONFIG": listed}, home=tmp_path)
    assert result.errors == []
    assert result.current_context == view["current-context"] == "team/b:ctx@x"
    ours = {s.name: s for s in result.specs}
    assert set(ours) == set(contexts)
    for name, ctx in contexts.items():
        spec = ours[name]
        cluster, user = clusters[ctx["cluster"]], users.get(ctx.get("user", ""), {})
        assert spec.server == cluster["server"], name
        assert spec.namespace == ctx.get("namespace"), name
        ca = spec.tls.ca_data or (spec.tls.ca_file.read_bytes() if spec.tls.ca_file else None)
        want_ca = cluster.get("certificate-authority-data")
        assert (base64.b64encode(ca).decode() if ca else None) == want_ca, name
        assert spec.auth.token == user.get("token"), name
        assert spec.auth.username == user.get("username"), name
