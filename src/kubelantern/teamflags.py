"""`kubelantern serve`'s team-mode flags: OIDC sign-in, session secrets (from a flag, a file
or the environment), --auth-header; and which mode (local or team) they make."""

from __future__ import annotations

import argparse
from pathlib import Path
from typing import Any

from kubelantern.identity.modes import Mode, ModeRequest, decide
from kubelantern.settings import Settings

OIDC_SECRET_ENV = "KUBELANTERN_OIDC_CLIENT_SECRET"
SESSION_SECRET_ENV = "KUBELANTERN_SESSION_SECRET"


def add_team_flags(serve: argparse.ArgumentParser) -> None:
    """serve's team-mode flags (named like Headlamp's)."""
    team = serve.add_argument_group(
        "team mode", "sign-in for many users (flag names as Headlamp's); secrets also from env/file"
    )
    team.add_argument("--public-url", metavar="URL", help="the URL users open (https://…)")
    team.add_argument("--oidc-issuer-url", metavar="URL", help="OIDC issuer (discovery base)")
    team.add_argument("--oidc-client-id", metavar="ID", help="OIDC client id")
    team.add_argument(
        "--oidc-client-secret",
        metavar="SECRET",
        help=f"OIDC client secret (better: ${OIDC_SECRET_ENV} or --oidc-client-secret-file)",
    )
    team.add_argument("--oidc-client-secret-file", metavar="PATH", type=Path)
    team.add_argument(
        "--oidc-scopes",
        metavar="SCOPES",
        help='space- or comma-separated (default: "openid profile email offline_access")',
    )
    team.add_argument(
        "--oidc-use-access-token",
        action="store_true",
        help="send the access token upstream instead of the ID token",
    )
    team.add_argument("--oidc-ca-file", metavar="PATH", type=Path, help="CA for the provider")
    team.add_argument(
        "--session-secret",
        metavar="SECRET",
        help=f"seals session cookies, same on every replica (better: ${SESSION_SECRET_ENV} or "
        "--session-secret-file)",
    )
    team.add_argument("--session-secret-file", metavar="PATH", type=Path)
    team.add_argument(
        "--session-secret-old",
        action="append",
        metavar="SECRET",
        help=f"a previous secret that still opens cookies (also ${SESSION_SECRET_ENV}_OLD)",
    )
    team.add_argument(
        "--auth-header",
        metavar="HEADER",
        help="trust this header's user name (only behind an identity-aware proxy)",
    )


def _secret(
    flag: str, value: str | None, file: Path | None, env: dict[str, str], env_name: str
) -> str | None:
    """A secret from its flag, its file or the environment (in that order), stripped."""
    if file is not None:
        try:
            text = file.read_text().strip()
        except OSError as e:
            raise ValueError(f"{flag}-file {file}: {e.strerror or e}") from None
        if not text:
            raise ValueError(f"{flag}-file {file} is empty")
        return text
    if value is not None:
        return value.strip() or None
    return env.get(env_name, "").strip() or None


def team_settings(args: argparse.Namespace, env: dict[str, str]) -> dict[str, Any]:
    """The Settings fields of team mode; ValueError for an unreadable or empty secret file."""
    scopes = tuple((args.oidc_scopes or "").replace(",", " ").split())
    public_url = (args.public_url or "").strip().rstrip("/") or None
    old = list(args.session_secret_old or ())
    if env.get(SESSION_SECRET_ENV + "_OLD", "").strip():
        old.append(env[SESSION_SECRET_ENV + "_OLD"].strip())
    out: dict[str, Any] = dict(
        public_url=public_url,
        oidc_issuer_url=(args.oidc_issuer_url or "").strip() or None,
        oidc_client_id=(args.oidc_client_id or "").strip() or None,
        oidc_client_secret=_secret(
            "--oidc-client-secret",
            args.oidc_client_secret,
            args.oidc_client_secret_file,
            env,
            OIDC_SECRET_ENV,
        ),
        oidc_use_access_token=bool(args.oidc_use_access_token),
        oidc_ca_file=args.oidc_ca_file,
        session_secret=_secret(
            "--session-secret",
            args.session_secret,
            args.session_secret_file,
            env,
            SESSION_SECRET_ENV,
        ),
        session_secrets_old=tuple(o for o in old if o),
        auth_header=(args.auth_header or "").strip() or None,
    )
    if scopes:
        out["oidc_scopes"] = scopes
    return out


def serve_mode(settings: Settings) -> Mode:
    """local or team, and the one-line refusal when the flags make no safe server."""
    return decide(
        ModeRequest(
            host=settings.host,
            launch_token=settings.launch_token is not None,
            oidc=settings.oidc,
            oidc_complete=bool(
                settings.oidc_issuer_url and settings.oidc_client_id and settings.public_url
            ),
            in_cluster=settings.in_cluster,
            session_secret=settings.session_secret is not None,
            public_url=settings.public_url,
            auth_header=settings.auth_header,
        )
    )
