"""Path routing, pure: which cluster a `/clusters/...` path addresses, whether its API path
may be proxied, and the upstream URL it maps to. Unit-tested without sockets."""

from __future__ import annotations

import functools
import re
from collections.abc import Collection
from urllib.parse import unquote

from yarl import URL

from kubelantern.status import KubelanternError


class ApiPathError(KubelanternError, ValueError):
    """A request path that must not be proxied (answer 400 with this message)."""

    status = 400


_CONTROL = re.compile(r"[\x00-\x1f\x7f]")


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
    plain = path.partition("?")[0]
    if "%" not in plain and "\\" not in plain and not _CONTROL.search(plain):
        # The common case (nothing percent-encoded): each segment is its own decoding, so
        # only `.`/`..` segments remain to refuse; no per-segment unquote (~10 µs a request).
        if "." in plain and not {".", ".."}.isdisjoint(plain.split("/")):
            raise ApiPathError("API path may not contain '.', '..' or '\\' segments")
        return path
    for segment in plain.split("/"):
        decoded = unquote(segment)
        if decoded in (".", "..") or "\\" in decoded:
            raise ApiPathError("API path may not contain '.', '..' or '\\' segments")
        if _CONTROL.search(decoded):  # a regex: a per-character loop cost ~30 µs a request
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


class AmbiguousClusterPath(KubelanternError):
    """A decoded path names more than one cluster: 409, naming the candidates."""

    status = 409

    def __init__(self, tail: str, candidates: list[str]) -> None:
        self.candidates = candidates
        shown = ", ".join(repr(c) for c in candidates)
        super().__init__(
            f"/clusters/{tail[:200]} could name the clusters {shown}; send the cluster name "
            "percent-encoded as one path segment (/clusters/<name with / as %2F>/...)",
            status=409,
        )


# The first segment of every path a Kubernetes API server serves (the cluster's own path
# prefix is in its server URL). Used to tell which split of a decoded path is meant.
API_ROOTS = frozenset(
    {"api", "apis", "version", "openapi", "healthz", "livez", "readyz", "metrics", "logs"}
    | {".well-known", "openid"}
)


def _plausible(rest: str) -> bool:
    first = rest.lstrip("/").split("/", 1)[0]
    return first == "" or first in API_ROOTS


def split_cluster_path(tail: str, names: Collection[str]) -> tuple[str, str] | None:
    """Find which cluster `tail` (the raw path after `/clusters/`) addresses.

    The rule (issue 10, defect 8), first that applies:
    1. the encoded form: the first path segment, percent-decoded, is a cluster name and
       what follows is an API path (`/api`, `/apis`, `/version`, ..., or nothing);
    2. the decoded form (kubectl decodes its --server path: `rancher/down:c-m-abc12/api`):
       every whole-segment prefix whose decoded (or literal) text is a name and whose rest
       is an API path; one such name: that one; several: `AmbiguousClusterPath` (409);
    3. no split leaves an API path: the encoded form as in 1 (the API path is then the
       cluster's to refuse), else a single decoded candidate, else 409 for several.

    Returns (name, rest) where rest is the raw remainder starting with `/` (or "/" when
    empty), the query (if the caller left it on) kept; None when no name matches.
    """
    known = names if isinstance(names, (set, frozenset, dict)) else set(names)
    path, sep, query = tail.partition("?")  # a query, if the caller left it on, stays on
    first, slash, after = path.partition("/")
    if "%" not in first and first in known:
        # Rule 1 with nothing to decode in the first segment (nearly every request): the
        # loop below would return this same answer, after decoding every prefix.
        rest = (slash + after or "/") + sep + query
        if _plausible(rest):
            return first, rest
    encoded: tuple[str, str] | None = None
    decoded: dict[str, str] = {}  # name → rest
    cut = -1
    while True:
        cut = path.find("/", cut + 1)
        end = len(path) if cut == -1 else cut
        prefix, rest = path[:end], (path[end:] or "/") + sep + query
        if encoded is None and "/" not in prefix and unquote(prefix) in known:
            encoded = (unquote(prefix), rest)
        for candidate in (unquote(prefix), prefix):
            if candidate in known and candidate not in decoded:
                decoded[candidate] = rest
        if cut == -1:
            break
    if encoded is not None and _plausible(encoded[1]):
        return encoded
    plausible = {n: r for n, r in decoded.items() if _plausible(r)}
    for group in (plausible, {} if encoded is not None else decoded):
        if len(group) == 1:
            return next(iter(group.items()))
        if len(group) > 1:
            raise AmbiguousClusterPath(tail, sorted(group))
    return encoded


@functools.lru_cache(maxsize=256)  # one entry per cluster; asked on every request
def _server_base(server: URL) -> str:
    """scheme://host[:port] and the server's path prefix, without a trailing `/`."""
    return f"{server.origin()}{server.raw_path.rstrip('/')}"


def join_upstream(server: URL, api_path: str, query_string: str = "") -> URL:
    """server URL (its path prefix kept) + raw API path + raw query, without re-encoding."""
    if not api_path.startswith("/"):
        api_path = "/" + api_path
    text = _server_base(server) + api_path
    if query_string:
        text += "?" + query_string
    return URL(text, encoded=True)
