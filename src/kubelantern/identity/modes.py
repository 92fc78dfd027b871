"""*pure*: which mode `serve` runs in, and the one-line refusals when the flags do not make a
safe server.

local: launch token, loopback — one user on their machine (as before).
team: sign-in (`--oidc-…`, or `--in-cluster` with the per-cluster token login), launch token
off, Host/Origin from `--public-url` plus `--allow-host`; sealed cookies need
`--session-secret` shared by all replicas.
A non-loopback bind with neither a launch token nor a sign-in method is refused: anyone who
can reach the port would act with kubelantern's credentials.
"""

from __future__ import annotations

import ipaddress
from dataclasses import dataclass
from typing import Final
from urllib.parse import urlsplit

LOOPBACK_NAMES: Final = frozenset({"localhost", "127.0.0.1", "::1"})


@dataclass(frozen=True)
class ModeRequest:
    host: str
    launch_token: bool
    oidc: bool  # --oidc-issuer-url given
    oidc_complete: bool  # issuer, client id and public URL all given
    in_cluster: bool
    session_secret: bool
    public_url: str | None
    auth_header: str | None


@dataclass(frozen=True)
class Mode:
    name: str  # "local" | "team"
    refusal: str | None  # one line: why serve will not start
    warnings: tuple[str, ...] = ()


def is_loopback(host: str) -> bool:
    host = host.strip().strip("[]").lower()
    if host in LOOPBACK_NAMES:
        return True
    try:
        return ipaddress.ip_address(host).is_loopback
    except ValueError:
        return False


def decide(req: ModeRequest) -> Mode:
    warnings: list[str] = []
    sign_in = req.oidc or req.in_cluster or req.auth_header is not None
    if req.auth_header is not None:
        warnings.append(
            f"--auth-header {req.auth_header}: kubelantern trusts whoever sets this header; "
            "only run it behind an identity-aware proxy that strips it from clients"
        )
    if req.oidc:
        if not req.oidc_complete:
            return Mode(
                "team",
                "OIDC sign-in needs --oidc-issuer-url, --oidc-client-id and --public-url together",
                tuple(warnings),
            )
        if not req.session_secret:
            return Mode(
                "team",
                "OIDC sign-in needs --session-secret (or "
                "$KUBELANTERN_SESSION_SECRET / --session-secret-file), the same on every "
                "replica",
                tuple(warnings),
            )
    if req.public_url is not None:
        parts = urlsplit(req.public_url)
        if parts.scheme not in ("http", "https") or not parts.netloc:
            return Mode("team", f"--public-url {req.public_url!r} is not an http(s) URL", ())
        if parts.scheme == "http" and not is_loopback(parts.hostname or ""):
            warnings.append(
                "--public-url is plain http: session cookies are not marked Secure; put TLS in "
                "front (an Ingress) and give the https URL"
            )
    team = req.oidc or (sign_in and not req.launch_token)
    if team and req.in_cluster and not req.session_secret:
        warnings.append(
            "no --session-secret: per-cluster logins are sealed with a key of this process "
            "only; after a restart, or on another replica, users log in again"
        )
    if not is_loopback(req.host) and not req.launch_token and not sign_in:
        return Mode(
            "local",
            f"refusing to serve on {req.host} with no launch token and no sign-in: anyone who "
            "reaches the port would use your clusters; add --oidc-issuer-url (team mode), "
            "--in-cluster, or drop --no-token",
            tuple(warnings),
        )
    return Mode("team" if team else "local", None, tuple(warnings))
