"""The kubeconfig `kubelantern kubeconfig` writes (pure)."""

from __future__ import annotations

import base64
import stat
from pathlib import Path

import yaml

from kubelantern.kubectlconfig import Instance, cluster_url, dump, kubeconfig_doc, write_private


def test_one_context_per_cluster_same_names() -> None:
    clusters = [{"name": "kind-dev", "namespace": "shop"}, {"name": "rancher/down:c-m-abc12"}]
    doc = yaml.safe_load(dump(kubeconfig_doc("https://127.0.0.1:9443", clusters, b"PEM", "tok")))
    assert [c["name"] for c in doc["contexts"]] == ["kind-dev", "rancher/down:c-m-abc12"]
    assert doc["contexts"][0]["context"] == {
        "cluster": "kind-dev",
        "user": "kubelantern",
        "namespace": "shop",
    }
    assert doc["clusters"][1]["cluster"] == {
        "server": "https://127.0.0.1:9443/clusters/rancher/down:c-m-abc12",
        "certificate-authority-data": base64.b64encode(b"PEM").decode(),
    }
    assert doc["users"] == [{"name": "kubelantern", "user": {"token": "tok"}}]
    assert doc["current-context"] == "kind-dev"


def test_urls_keep_the_base_and_escape_what_breaks_a_url() -> None:
    assert cluster_url("https://h:1/kl/", "a b?#%") == "https://h:1/kl/clusters/a%20b%3F%23%25"
    assert cluster_url("https://h:1", "legacy@old") == "https://h:1/clusters/legacy@old"


def test_no_token_no_credential() -> None:
    doc = kubeconfig_doc("https://h:1", [{"name": "x"}], b"P", None)
    assert doc["users"] == [{"name": "kubelantern", "user": {}}]


def test_instance_record_round_trip_and_private_write(tmp_path: Path) -> None:
    inst = Instance("https://127.0.0.1:1", "t", 42)
    assert Instance.from_json(inst.to_json()) == inst
    path = tmp_path / "sub" / "instance.json"
    write_private(path, inst.to_json())
    assert stat.S_IMODE(path.stat().st_mode) == 0o600
