"""Plain data describing one cluster as the kubeconfig (or in-cluster mount) declares it.

No IO here: kubeconfig.py builds these, credentials.py and tls.py act on them.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path


@dataclass(frozen=True)
class ExecSpec:
    """A client-go exec credential plugin (`users[].user.exec`)."""

    command: str
    args: tuple[str, ...] = ()
    env: tuple[tuple[str, str], ...] = ()
    api_version: str = "client.authentication.k8s.io/v1"
    provide_cluster_info: bool = False
    interactive_mode: str = "IfAvailable"
    install_hint: str | None = None
    base_dir: Path | None = None  # relative commands resolve against the kubeconfig's folder


@dataclass(frozen=True)
class TLSSpec:
    ca_data: bytes | None = None
    ca_file: Path | None = None
    insecure_skip_verify: bool = False
    server_name: str | None = None
    client_cert_data: bytes | None = None
    client_cert_file: Path | None = None
    client_key_data: bytes | None = None
    client_key_file: Path | None = None


@dataclass(frozen=True)
class AuthSpec:
    token: str | None = None
    token_file: Path | None = None
    username: str | None = None
    password: str | None = None
    exec: ExecSpec | None = None
    impersonate: str | None = None
    impersonate_groups: tuple[str, ...] = ()
    impersonate_uid: str | None = None  # `as-uid`
    # `as-user-extra`: key -> values, sent as Impersonate-Extra-<key> headers.
    impersonate_extra: tuple[tuple[str, tuple[str, ...]], ...] = ()

    @property
    def is_empty(self) -> bool:
        return not (self.token or self.token_file or self.username or self.exec)


@dataclass(frozen=True)
class ClusterSpec:
    """One kubeconfig context, which becomes one kubelantern cluster named after it."""

    name: str  # the context name; may hold `/ : @`
    server: str  # full server URL, path prefix included (Rancher: .../k8s/clusters/<id>)
    cluster_name: str = ""
    user_name: str = ""
    namespace: str | None = None
    tls: TLSSpec = field(default_factory=TLSSpec)
    auth: AuthSpec = field(default_factory=AuthSpec)
    proxy_url: str | None = None
    # Overrides from a flag or the context extension `kubelantern` (profile, strategy).
    profile: str | None = None
    strategy: str | None = None
    source: str = ""  # the kubeconfig file this context came from, for error messages
    # Where the cluster comes from, as the UI says it: "kubeconfig", "in-cluster" or "demo"
    # (the built-in simulators of --demo).
    origin: str = "kubeconfig"
    certificate_authority_data_b64: str | None = None  # kept for provideClusterInfo
    # The cluster extension `client.authentication.k8s.io/exec` (JSON text, for hashability):
    # handed to exec plugins as spec.cluster.config when provideClusterInfo is set.
    exec_cluster_config_json: str | None = None
    # The cluster kubelantern runs in (--in-cluster): its credentials are kubelantern's own
    # service account, never lent to users; every user acts with their own identity there.
    user_identity: bool = False
    # From the `kubelantern` extension (context first, then cluster): the fleet table's group
    # and the cluster chip's colour (`clusters/looks.py`).
    group: str | None = None
    color: str | None = None
