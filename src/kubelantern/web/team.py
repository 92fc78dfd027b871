"""Team mode's set-up from `Settings`: the sealer, the OIDC client and the sign-in edge, and
Host/Origin taken from `--public-url`."""

from __future__ import annotations

import secrets
import time
from collections.abc import Callable
from dataclasses import replace
from urllib.parse import urlsplit

from aiohttp import web

from kubelantern.identity.logins import open_login
from kubelantern.identity.sessions import Sealer
from kubelantern.settings import Settings
from kubelantern.web import keys


def sealer_for(settings: Settings) -> Sealer:
    """--session-secret's sealer; without one, a random key that lives as long as the process."""
    if settings.session_secret is None:
        return Sealer(secrets.token_urlsafe(32))
    return Sealer(settings.session_secret, settings.session_secrets_old)


def login_opener(sealer: Sealer, cluster: str) -> Callable[[str | None], str | None]:
    """Opens `cluster`'s sealed login cookie (identity/logins.py) for the proxy's plan."""
    return lambda raw: open_login(sealer, cluster, raw, time.time())


def with_public_url(settings: Settings) -> Settings:
    """Host and Origin of `--public-url` are ours too (the Ingress forwards its Host)."""
    if not settings.public_url:
        return settings
    parts = urlsplit(settings.public_url)
    origin = f"{parts.scheme}://{parts.netloc}"
    hosts = settings.allowed_hosts
    if parts.netloc and parts.netloc not in hosts:
        hosts = (*hosts, parts.netloc)
    origins = settings.allowed_origins
    if origin not in origins:
        origins = (*origins, origin)
    return replace(settings, allowed_hosts=hosts, allowed_origins=origins)


def install_oidc(app: web.Application, settings: Settings) -> None:
    """Add OIDC sign-in to `app` (settings.oidc); raises ValueError on unusable settings."""
    if not (settings.oidc_issuer_url and settings.oidc_client_id and settings.public_url):
        raise ValueError("OIDC needs --oidc-issuer-url, --oidc-client-id and --public-url")
    if settings.session_secret is None:
        raise ValueError("OIDC needs --session-secret")
    # Here, not at the top: the client pulls in joserfc and cryptography's x509 (~70 ms of
    # every start), and the sign-in edge its OIDC decisions; only OIDC needs them (issue 12).
    from kubelantern.identity.client import OidcClient
    from kubelantern.identity.oidc import ClientConfig
    from kubelantern.web import signin

    public = settings.public_url.rstrip("/") + settings.base_url
    config = ClientConfig(
        issuer=settings.oidc_issuer_url,
        client_id=settings.oidc_client_id,
        client_secret=settings.oidc_client_secret,
        redirect_uri=f"{public}/oidc-callback",
        scopes=settings.oidc_scopes,
        use_access_token=settings.oidc_use_access_token,
    )
    signin.install(
        app,
        signin.SignIn(
            sealer=app[keys.SEALER],
            oidc=OidcClient(config, ca_file=settings.oidc_ca_file),
            public_url=public,
            base=settings.base_url,
            secure=urlsplit(public).scheme == "https",
        ),
    )
