"""What `kubelantern serve` was asked to do: one plain struct, built by the CLI or by tests.

Every switch lives here (flags, and the environment switches KUBELANTERN_WS_FASTPATH and
KUBELANTERN_UPSTREAM_CLIENT, read when a Settings is made), so no module reads the
environment at import.
"""

from __future__ import annotations

import os
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path


@dataclass
class Settings:
    kubeconfigs: tuple[Path, ...] = ()  # empty: $KUBECONFIG, then ~/.kube/config
    contexts: tuple[str, ...] = ()  # empty: every context
    host: str = "127.0.0.1"
    port: int = 4477
    tls_port: int | None = None  # also serve HTTPS here (local CA): kubectl sends the token
    launch_token: str | None = None  # None: no launch token (--no-token)
    demo: bool = False
    in_cluster: bool = False
    base_url: str = ""  # "" or "/prefix" (no trailing slash)
    allowed_hosts: tuple[str, ...] = ()  # extra Host values beyond loopback and the bind host
    allowed_origins: tuple[str, ...] = ()  # extra Origins beyond our own
    # Per-cluster overrides: cluster name -> profile / strategy name.
    profile_overrides: dict[str, str] = field(default_factory=dict)
    strategy_overrides: dict[str, str] = field(default_factory=dict)
    auto_strategy: bool = True
    strategy_ttl: float = 3600.0  # seconds a learned strategy is trusted
    ws_ping_interval: float = 20.0  # seconds between our pings on both legs
    # WebSocket frames pass through as bytes (proxy/ws/tunnel.py); KUBELANTERN_WS_FASTPATH=0
    # relays messages instead (proxy/ws/relay.py), e.g. to compare the two in bench/.
    ws_fast_path: bool = field(default_factory=lambda: _env_fast_path(os.environ))
    # The plain HTTP proxy's upstream client: "lean" (proxy/upstream/, HTTP/1.1 on kept-alive
    # connections) or "aiohttp" (KUBELANTERN_UPSTREAM_CLIENT=aiohttp, e.g. for bench/'s
    # before/after). Clusters behind an HTTP proxy use aiohttp's either way.
    upstream_client: str = field(default_factory=lambda: _env_upstream_client(os.environ))
    log_level: str = "info"
    exec_plugin_timeout: float = 60.0  # seconds a credential plugin may run (then: killed)
    # Seconds between checks that the kubeconfig files changed (then the clusters reload,
    # open streams untouched: web/reload.py); 0: never.
    kubeconfig_poll: float = 2.0
    # Team mode (README "Run it for your team"): OIDC sign-in and sealed session cookies.
    public_url: str | None = None  # https://kubelantern.example.com (no base URL, no slash)
    oidc_issuer_url: str | None = None
    oidc_client_id: str | None = None
    oidc_client_secret: str | None = field(default=None, repr=False)
    oidc_scopes: tuple[str, ...] = ("openid", "profile", "email", "offline_access")
    oidc_use_access_token: bool = False
    oidc_ca_file: Path | None = None
    session_secret: str | None = field(default=None, repr=False)
    session_secrets_old: tuple[str, ...] = field(default=(), repr=False)
    auth_header: str | None = None  # trusted identity header from an identity-aware proxy
    # Exec/attach sessions (proxy/ws/sessions.py): how long a session whose client dropped
    # is kept for a reattach, and where asciicast recordings go (None: not recorded).
    session_grace: float = 60.0
    record_sessions: Path | None = None
    record_input: bool = False  # also record what users type (passwords too)
    # Client connections (web/connguard.py): seconds to send complete request headers,
    # seconds an idle keep-alive connection is kept, how many are served at once (None:
    # sized from the open-file limit at `serve` start, filelimits.connections_for).
    header_timeout: float = 30.0
    keepalive_timeout: float = 75.0
    max_connections: int | None = None

    @property
    def oidc(self) -> bool:
        return self.oidc_issuer_url is not None

    @property
    def secrets(self) -> tuple[str, ...]:
        """Every secret among the settings: redacted from logs wherever it appears."""
        found = (self.launch_token, self.session_secret, self.oidc_client_secret)
        return tuple(s for s in (*found, *self.session_secrets_old) if s)


def _env_fast_path(env: Mapping[str, str]) -> bool:
    return env.get("KUBELANTERN_WS_FASTPATH", "1") != "0"


def _env_upstream_client(env: Mapping[str, str]) -> str:
    return "aiohttp" if env.get("KUBELANTERN_UPSTREAM_CLIENT", "lean") == "aiohttp" else "lean"
