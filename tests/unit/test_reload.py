"""web/reload.py: which clusters a kubeconfig reload keeps, adds, replaces and retires."""

from __future__ import annotations

from pathlib import Path

from kubelantern.clusters.cluster import Cluster
from kubelantern.clusters.spec import AuthSpec, ClusterSpec
from kubelantern.settings import Settings
from kubelantern.web.reload import merge, stamp, watched_files


def _c(name: str, server: str = "https://127.0.0.1:6443", token: str = "t") -> Cluster:
    return Cluster(ClusterSpec(name=name, server=server, auth=AuthSpec(token=token)))


def test_merge_keeps_unchanged_objects_and_retires_the_rest() -> None:
    live = {"a": _c("a"), "b": _c("b"), "gone": _c("gone")}
    fresh = {"a": _c("a"), "b": _c("b", token="new"), "new": _c("new")}
    m = merge(live, fresh)
    assert m.clusters["a"] is live["a"]  # its session and streams go on
    assert m.clusters["b"] is fresh["b"] and m.clusters["new"] is fresh["new"]
    assert (m.kept, m.added, m.changed, m.removed) == (["a"], ["new"], ["b"], ["gone"])
    assert m.retired == [live["b"], live["gone"]]
    assert m.unused == [fresh["a"]]
    assert list(m.clusters) == ["a", "b", "new"]  # the file's order


def test_watched_files_follow_kubectl_order(tmp_path: Path) -> None:
    flag = tmp_path / "flag"
    assert watched_files(Settings(kubeconfigs=(flag,)), {"KUBECONFIG": "/x"}) == [flag]
    assert watched_files(Settings(), {"KUBECONFIG": "/x:/y"}) == [Path("/x"), Path("/y")]
    assert watched_files(Settings(), {}, home=tmp_path) == [tmp_path / ".kube" / "config"]


def test_stamp_changes_with_content_and_replacement(tmp_path: Path) -> None:
    path = tmp_path / "config"
    missing = stamp([path])
    path.write_text("a")
    first = stamp([path])
    assert first != missing
    (tmp_path / "new").write_text("a")
    (tmp_path / "new").replace(path)  # same size, same second: the inode differs
    assert stamp([path]) != first
