"""The simulator's knobs: one plain dataclass, built by tests, the CLI or the demo."""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from typing import Any


def _default_tokens() -> dict[str, str]:
    return {"sim-admin-token": "admin", "token-x7k2p:l0ngsecretvalue0123456789": "admin"}


def _default_basic() -> dict[str, str]:
    return {"admin": "sim-password"}


@dataclass(frozen=True)
class OidcTrust:
    """kube-apiserver's OIDC authenticator (--oidc-issuer-url, --oidc-client-id,
    --oidc-username-claim, --oidc-username-prefix): ID tokens from this issuer are users."""

    issuer: str
    client_id: str
    jwks: Callable[[], Mapping[str, Any]]  # the issuer's current key set, as its jwks_uri serves
    username_claim: str = "email"
    username_prefix: str = "oidc:"


@dataclass
class SimConfig:
    profile: str = "kubernetes"  # kubernetes | rancher | legacy | openshift
    cluster_id: str = "c-m-abc12"  # Rancher's /k8s/clusters/<id>
    tokens: dict[str, str] = field(default_factory=_default_tokens)  # bearer token -> user
    basic: dict[str, str] = field(default_factory=_default_basic)  # user -> password
    allow_anonymous: bool = False
    oidc: OidcTrust | None = None  # accept ID tokens from an OIDC issuer as bearer tokens
    seed: int = 1
    version: str | None = None  # None: the profile's default gitVersion
    log_lines_per_second: float = 2.0  # new lines per container in follow streams
    # Authorization: user -> rules it is denied. A rule is "verb", "verb resource" or
    # "verb resource/subresource" ("*" matches any verb or resource); everything else is allowed.
    denied_verbs: dict[str, tuple[str, ...]] = field(default_factory=dict)
    bookmark_interval: float = 60.0  # seconds between watch BOOKMARK events
    watch_history: int = 1000  # events kept for watches that resume from a resourceVersion
    request_history: int = 2000  # RecordedRequest entries kept in SimState.requests
    demo_data: bool = True  # seed namespaces, workloads, pods, events...
    # The benchmark pod `bench/bulk` (container `firehose`) streams this many log bytes as
    # fast as it can; the pod annotation `sim.kubelantern.io/firehose-bytes` overrides it.
    firehose_bytes: int = 64 * 1024 * 1024
    # Lifecycle pacing for a lively UI (the demo sets them): new pods stay ContainerCreating
    # this long, deleted pods stay Terminating this long. 0: immediate, as tests expect.
    pod_startup_seconds: float = 0.0
    pod_termination_seconds: float = 0.0
    # Scale work: this many extra Running pods in `bulk_namespaces` namespaces `many-NNN`.
    bulk_pods: int = 0
    bulk_namespaces: int = 200
