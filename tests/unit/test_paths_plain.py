"""The plain-path shortcuts of clusters/paths.py answer as the full decoding walk does:
each case is asked plain (the shortcut) and with a character percent-encoded (the walk)."""

from __future__ import annotations

import pytest

from kubelantern.clusters.paths import ApiPathError, split_cluster_path, validate_api_path

NAMES = {"dev", "prod", "dev/api", "rancher/down:c-m-1"}


@pytest.mark.parametrize(
    ("plain", "encoded"),
    [
        ("dev/api/v1/pods", "d%65v/api/v1/pods"),
        ("dev", "d%65v"),
        ("dev/", "d%65v/"),
        ("dev/version?x=1", "d%65v/version?x=1"),
        ("prod/apis/apps/v1?watch=true", "pro%64/apis/apps/v1?watch=true"),
        ("dev/api", "d%65v/api"),  # "dev" + /api wins (rule 1) over the name "dev/api"
        ("dev/nonsense/path", "d%65v/nonsense/path"),  # not an API path: the walk decides
        ("unknown/api", "unkn%6Fwn/api"),
    ],
)
def test_split_plain_and_encoded_agree(plain: str, encoded: str) -> None:
    assert split_cluster_path(plain, NAMES) == split_cluster_path(encoded, NAMES)


@pytest.mark.parametrize(
    ("plain", "encoded"),
    [
        ("/api/v1/pods", "/api/v1/p%6Fds"),
        ("/api/v1/namespaces/a.b/pods", "/api/v1/namespaces/a%2Eb/pods"),
        ("/api/./v1", "/api/%2E/v1"),
        ("/api/../v1", "/api/%2E%2E/v1"),
        ("/..", "/%2e%2e"),
        ("/api/v1/x?q=..", "/api/v1/%78?q=.."),  # the query is not checked
        ("/api/v1/...", "/api/v1/%2E.."),
    ],
)
def test_validate_plain_and_encoded_agree(plain: str, encoded: str) -> None:
    def outcome(path: str) -> str:
        try:
            return "ok " + validate_api_path(path)
        except ApiPathError as e:
            return "refused " + str(e)

    got_plain, got_encoded = outcome(plain), outcome(encoded)
    assert got_plain.split()[0] == got_encoded.split()[0], (got_plain, got_encoded)
    if got_plain.startswith("refused"):
        assert got_plain == got_encoded
