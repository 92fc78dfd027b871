"""One cluster kubelantern serves: spec, credentials, TLS, profile, its pooled HTTP session.

`Cluster.session()` is the only place connections to a cluster are made.
"""

from __future__ import annotations

import asyncio
import dataclasses
import logging
import ssl
from typing import Any, Protocol, TypedDict

import aiohttp
from multidict import CIMultiDict
from yarl import URL

from kubelantern import USER_AGENT
from kubelantern.clusters import profiles
from kubelantern.clusters.credentials import EXEC_TIMEOUT, CredentialError, Credentials
from kubelantern.clusters.kubeconfig import shown_url
from kubelantern.clusters.netproxy import env_proxy, split_proxy
from kubelantern.clusters.paths import join_upstream
from kubelantern.clusters.spec import ClusterSpec, TLSSpec
from kubelantern.clusters.tls import TLSConfigError, TLSInfo, tls_info

log = logging.getLogger(__name__)


class Transport(TypedDict, total=False):
    """How to reach one cluster: the keyword arguments of every `session.request(...)` /
    `session.ws_connect(...)` to it (TLS, server name, proxy)."""

    ssl: ssl.SSLContext | bool
    server_hostname: str
    proxy: URL
    proxy_headers: dict[str, str]


class UpstreamPool(Protocol):
    """Kept-alive connections of the lean upstream client (`proxy/upstream/pool.py`)."""

    closed: bool
    idle: list[Any]

    def close(self) -> None: ...


CONNECT_TIMEOUT = 10.0  # seconds to open a TCP+TLS connection; streams themselves never time out
# No cap on connections per cluster, like kubectl proxy (Go's MaxConnsPerHost 0): every
# WebSocket, watch and `logs -f` holds one for its whole life, so a cap of 64 made the 65th
# stream wait for a slot until its handshake timed out (504).
LIMIT_PER_HOST = 0


class Cluster:
    """One kubeconfig context: how to reach it and how to present ourselves to it."""

    def __init__(
        self,
        spec: ClusterSpec,
        *,
        load_error: str | None = None,
        profile_override: str | None = None,
        tls_cache: dict[TLSSpec, TLSInfo] | None = None,
        strategy_override: str | None = None,
        exec_timeout: float = EXEC_TIMEOUT,
    ) -> None:
        self.name = spec.name
        self.spec = spec
        self.load_error = load_error
        self.credentials = Credentials(spec, exec_timeout=exec_timeout)
        self._session: aiohttp.ClientSession | None = None
        # The lean HTTP/1.1 client's pools (proxy/upstream/pool.py), closed with the cluster.
        self.upstream_pools: dict[object, UpstreamPool] = {}
        self._tls: TLSInfo = TLSInfo(True, None)
        self._tls_cert_generation = 0
        self.server_url = URL(spec.server) if spec.server else URL("https://invalid.invalid")

        # Profile: explicit override > detection (set later by the profile detector) > default.
        override = profile_override or spec.profile
        self.profile: profiles.Profile = profiles.KUBERNETES
        self.profile_source = "default"  # "override" | "detected" | "default"
        self.profile_reason = "no override, not detected yet"
        if override:
            if override in profiles.PROFILES:
                self.profile = profiles.PROFILES[override]
                self.profile_source = "override"
                self.profile_reason = "set by flag or kubeconfig extension"
            elif self.load_error is None:
                self.load_error = (
                    f"unknown profile {override!r} (known: {_known(profiles.PROFILES)})"
                )
        if self.profile_source == "default" and spec.server:
            # The server URL alone can tell (Rancher's /k8s/clusters/ prefix): no round trip.
            found, reason = profiles.detect_profile(spec.server)
            if found is not profiles.KUBERNETES:
                self.set_detected_profile(found, reason)
        # Strategy pinned by the user; None: the profile's order (auto mode) decides.
        self.strategy_override: profiles.Strategy | None = None
        wanted = strategy_override or spec.strategy
        if wanted and wanted != "auto":
            if wanted in profiles.STRATEGIES:
                self.strategy_override = profiles.STRATEGIES[wanted]
            elif self.load_error is None:
                self.load_error = (
                    f"unknown strategy {wanted!r} (known: auto, {_known(profiles.STRATEGIES)})"
                )
        # Filled in by the WebSocket proxy when auto mode finds the strategy that works.
        self.learned_strategy: profiles.Strategy | None = None
        self.learned_at: float | None = None

        if self.load_error is None:
            try:
                self._tls = _cached_tls(spec, tls_cache)
            except TLSConfigError as e:
                self.load_error = f"{spec.source or 'kubeconfig'}: context {spec.name!r}: {e}"
            self._proxy, self._proxy_auth = split_proxy(spec.proxy_url or env_proxy(spec.server))
            if spec.proxy_url and self._proxy is None and self.load_error is None:
                self.load_error = (
                    f"proxy-url {shown_url(spec.proxy_url)!r}: only http:// and https:// proxies "
                    "are supported"
                )
        else:
            self._proxy, self._proxy_auth = None, None

    def __repr__(self) -> str:
        return f"<Cluster {self.name!r} {self.server_url} profile={self.profile.name}>"

    @property
    def ok(self) -> bool:
        return self.load_error is None

    def set_detected_profile(self, profile: profiles.Profile, reason: str = "") -> None:
        """Record what detection found, unless the user pinned a profile."""
        if self.profile_source != "override":
            self.profile = profile
            self.profile_source = "detected"
            self.profile_reason = reason or "detected"

    def upstream_url(self, api_path: str, query_string: str = "") -> URL:
        """The upstream URL for a raw API path (starting with `/`) and raw query string."""
        return join_upstream(self.server_url, api_path, query_string)

    @property
    def tls(self) -> TLSInfo:
        return self._tls

    def request_kwargs(self) -> Transport:
        """Keyword arguments for every `session.request(...)` / `session.ws_connect(...)`.

        Call `await cluster.auth_headers()` (or `credentials.headers()`) first: when an exec
        plugin hands out a client certificate, that is what brings the TLS context up to date.
        """
        kwargs: Transport = {"ssl": self._tls.ssl}
        if self._tls.server_hostname:
            kwargs["server_hostname"] = self._tls.server_hostname
        if self._proxy is not None:
            kwargs["proxy"] = self._proxy
            if self._proxy_auth is not None:
                kwargs["proxy_headers"] = {"Proxy-Authorization": self._proxy_auth}
        return kwargs

    async def auth_headers(self) -> CIMultiDict[str]:
        """The credential headers; also rebuilds TLS when a plugin's client cert changed.

        Raises CredentialError (message names the cluster and what to do).
        """
        if self.load_error is not None:
            raise CredentialError(self.name, self.load_error)
        headers = await self.credentials.headers()
        if self.credentials.uses_exec:
            await self._sync_plugin_cert()
        return headers

    async def _sync_plugin_cert(self) -> None:
        creds = self.credentials
        if creds.cert_generation == self._tls_cert_generation:
            return
        generation = creds.cert_generation
        cert = creds.plugin_cert
        try:
            # Building reads/writes small temp files: keep it off the event loop.
            self._tls = await asyncio.to_thread(tls_info, self.spec, cert)
        except TLSConfigError as e:
            raise CredentialError(self.name, str(e)) from None
        self._tls_cert_generation = generation

    async def session(self) -> aiohttp.ClientSession:
        """This cluster's pooled HTTP session (created on first use, on the running loop)."""
        if self._session is None or self._session.closed:
            self._session = self._make_session()  # no await in between: no race
        return self._session

    def _make_session(self) -> aiohttp.ClientSession:
        connector = aiohttp.TCPConnector(
            limit=0,  # per-host limit is what matters: one cluster is one host
            limit_per_host=LIMIT_PER_HOST,
            ssl=self._tls.ssl,
        )
        return aiohttp.ClientSession(
            connector=connector,
            cookie_jar=aiohttp.DummyCookieJar(),  # never mix cookies between browser users
            auto_decompress=False,  # bytes pass through as the upstream sent them
            timeout=aiohttp.ClientTimeout(
                total=None, connect=None, sock_connect=CONNECT_TIMEOUT, sock_read=None
            ),
            # Env proxies are resolved once in __init__; trust_env would also read ~/.netrc
            # and add its passwords to upstream requests, which kubectl never does.
            trust_env=False,
            headers={"User-Agent": USER_AGENT},  # a strategy may pass the client's instead
        )

    async def close(self) -> None:
        await self.credentials.close()
        pools, self.upstream_pools = self.upstream_pools, {}
        for pool in pools.values():
            pool.close()
        if self._session is not None and not self._session.closed:
            await self._session.close()
        self._session = None


def _cached_tls(spec: ClusterSpec, cache: dict[TLSSpec, TLSInfo] | None) -> TLSInfo:
    if cache is None:
        return tls_info(spec)
    # The server name is passed per request, not held by the SSL context: not in the key.
    key = dataclasses.replace(spec.tls, server_name=None)
    scheme = URL(spec.server).scheme
    if scheme != "https":
        return tls_info(spec)
    shared = cache.get(key)
    if shared is None:
        shared = cache[key] = tls_info(spec)
    return TLSInfo(shared.ssl, spec.tls.server_name or None)


def _known(table: dict[str, Any]) -> str:
    return ", ".join(sorted(table))
