"""Credentials for one upstream request or upgrade, and the one retry after a 401.

`upstream_auth` turns the plan's choice (the user's credential, or None for the
kubeconfig's) into headers and the TLS to use; `refreshed` is "401 → refresh the
kubeconfig credentials → retry once", used by the HTTP proxy and the WebSocket walk alike.
"""

from __future__ import annotations

import asyncio
import dataclasses
import ssl
import weakref
from dataclasses import dataclass

from multidict import CIMultiDict

from kubelantern.clusters.cluster import Cluster, Transport
from kubelantern.clusters.credentials import CredentialError
from kubelantern.clusters.tls import TLSConfigError, tls_info
from kubelantern.observe.metrics import Metrics
from kubelantern.proxy.headers import (
    CredentialSource,
    UserCredential,
    bearer_of,
    choose_credentials,
)
from kubelantern.status import KubelanternError

# Per cluster: TLS settings without the kubeconfig's client certificate (see below).
_USER_TLS: weakref.WeakKeyDictionary[Cluster, ssl.SSLContext | bool] = weakref.WeakKeyDictionary()


def has_client_cert(cluster: Cluster) -> bool:
    tls = cluster.spec.tls
    return bool(tls.client_cert_data or tls.client_cert_file or cluster.credentials.plugin_cert)


async def user_request_kwargs(cluster: Cluster) -> Transport:
    """`cluster.request_kwargs()` for a request made with the *user's* credential.

    kube-apiserver tries x509 before bearer tokens: a kubeconfig client certificate on
    the TLS connection would win over the user's token and the user would act as the
    kubeconfig's identity. So requests carrying the user's own credential use a TLS
    context without the client certificate (same CA, server name and proxy).
    """
    await cluster.ensure_tls()
    kwargs = cluster.request_kwargs()  # TLSConfigError (the load error) if it failed
    if not has_client_cert(cluster):
        return kwargs
    cached = _USER_TLS.get(cluster)
    if cached is None:
        spec = cluster.spec
        bare = dataclasses.replace(
            spec,
            tls=dataclasses.replace(
                spec.tls,
                client_cert_data=None,
                client_cert_file=None,
                client_key_data=None,
                client_key_file=None,
            ),
        )
        info = await asyncio.to_thread(tls_info, bare)  # reads CA files: off the loop
        cached = _USER_TLS[cluster] = info.ssl
    kwargs["ssl"] = cached
    return kwargs


@dataclass(frozen=True)
class UpstreamAuth:
    """What authenticates one upstream request or upgrade."""

    headers: CIMultiDict[str]  # Authorization (and Impersonate-*) to send
    source: CredentialSource
    tls: Transport | None  # for the user's own credential; None: the cluster's own


async def upstream_auth(
    cluster: Cluster, user: UserCredential | None, metrics: Metrics
) -> UpstreamAuth:
    """Headers and TLS for `user`'s credential (None: the kubeconfig's). Raises
    CredentialError (counted as an upstream "credentials" error) or a KubelanternError."""
    try:
        kubeconfig = None if user is not None else await cluster.auth_headers()
    except CredentialError:
        metrics.upstream_error(cluster.name, "credentials")
        raise
    headers, source = choose_credentials(user, kubeconfig)
    try:
        # The user's own credential goes without the kubeconfig's client certificate.
        tls = await user_request_kwargs(cluster) if user is not None else None
    except TLSConfigError as e:
        raise KubelanternError(f"cluster {cluster.name!r}: {e}", status=500) from None
    return UpstreamAuth(headers, source, tls)


async def refreshed(
    cluster: Cluster, used: CIMultiDict[str]
) -> tuple[CIMultiDict[str], CredentialSource] | None:
    """After a 401 to the kubeconfig's credentials `used`: refresh them (an exec plugin's
    token may have expired) and return the new ones, or None when nothing changed.
    Raises CredentialError."""
    if not await cluster.credentials.refresh(bearer_of(used.get("Authorization"))):
        return None
    return choose_credentials(None, await cluster.auth_headers())
