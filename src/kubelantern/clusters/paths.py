"""Path routing, pure: which cluster a `/clusters/...` path addresses, whether its API path
may be proxied, and the upstream URL it maps to. Unit-tested without sockets."""

from __future__ import annotations

import re
from collections.abc import Collection
from urllib.parse import unquote

from yarl import URL

from kubelantern.status import KubelanternError


class ApiPathError(KubelanternError, ValueError):
    """A request path that must not be proxied (answer 400 with this message)."""

    status = 400


def validate_api_path(path: str) -> str:
    """Check the API path (raw, percent-encoded) that follows the cluster name.

    Returns it (with a leading `/`); raises ApiPathError for `.`/`..` segments (also
    percent-encoded ones), which could climb out of the cluster's path prefix, for
    backslashes and for NUL or control bytes.
    """
    if not path:
        return "/"
    if not path.startswith("/"):
        raise ApiPathError(f"API path must start with '/': {path[:80]!r}")
    for segment in path.partition("?")[0].split("/"):
        decoded = unquote(segment)
        if decoded in (".", "..") or "\\" in decoded:
            raise ApiPathError("API path may not contain '.', '..' or '\\' segments")
        if any(ord(c) < 0x20 or ord(c) == 0x7F for c in decoded):
            raise ApiPathError("API path may not contain control characters")
        if "/" in decoded and (".." in decoded.split("/") or "." in decoded.split("/")):
            raise ApiPathError("API path may not contain encoded '..' segments")
    return path


# DNS-1123 subdomain: what every namespace, pod and service name is a subset of. Checked
# before a name is put into an API path, so `..`, `/`, `?`, `#`, `%` and control bytes
# can never climb out of the cluster's path prefix (issue 10, defect 7).
_OBJECT_NAME = re.compile(r"[a-z0-9]([-a-z0-9.]{0,251}[a-z0-9])?")


def check_object_name(what: str, value: str) -> str:
    """`value` if it is a valid Kubernetes object name; raises ApiPathError otherwise."""
    if not _OBJECT_NAME.fullmatch(value) or ".." in value:
        raise ApiPathError(
            f"{what} {value[:80]!r} is not a valid Kubernetes name (lower-case letters, "
            "digits, '-' and '.', at most 253 characters)"
        )
    return value


def split_cluster_path(tail: str, names: Collection[str]) -> tuple[str, str] | None:
    """Find which cluster `tail` (the path after `/clusters/`) addresses.

    The cluster name may arrive percent-encoded (`rancher%2Fdown%3Ac-m-abc12/api`) or
    decoded by the client (`rancher/down:c-m-abc12/api`, as kubectl does with its --server
    path). The longest known name that matches a whole-segment prefix wins. Returns
    (name, rest) where rest is the raw remainder starting with `/` (or "/" when empty).
    """
    known = names if isinstance(names, (set, frozenset, dict)) else set(names)
    path, sep, query = tail.partition("?")  # a query, if the caller left it on, stays on
    best: tuple[str, str] | None = None
    cut = -1
    while True:
        cut = path.find("/", cut + 1)
        end = len(path) if cut == -1 else cut
        prefix = path[:end]
        for candidate in (prefix, unquote(prefix)):
            if candidate in known and (best is None or len(candidate) > len(best[0])):
                best = (candidate, (path[end:] or "/") + sep + query)
        if cut == -1:
            break
    return best


def join_upstream(server: URL, api_path: str, query_string: str = "") -> URL:
    """server URL (its path prefix kept) + raw API path + raw query, without re-encoding."""
    prefix = server.raw_path.rstrip("/")
    if not api_path.startswith("/"):
        api_path = "/" + api_path
    text = f"{server.origin()}{prefix}{api_path}"
    if query_string:
        text += "?" + query_string
    return URL(text, encoded=True)
