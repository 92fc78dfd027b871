"""One cluster kubelantern serves: spec, credentials, TLS, profile, its pooled HTTP session.

`Cluster.session()` is the only place connections to a cluster are made.
"""

from __future__ import annotations

import asyncio
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
from kubelantern.clusters.spec import ClusterSpec
from kubelantern.clusters.tls import (
    TLSConfigError,
    TLSContexts,
    TLSInfo,
    check_tls_material,
    tls_info,
)

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
        tls_contexts: TLSContexts | None = None,
        strategy_override: str | None = None,
        exec_timeout: float = EXEC_TIMEOUT,
    ) -> None:
        self.name = spec.name
        self.spec = spec
        self.load_error = load_error
        self.credentials = Credentials(spec, exec_timeout=exec_timeout)
        self._session: aiohttp.ClientSession | None = None
        # None until ensure_tls() built it (at the first use; plain http needs none).
        self._tls: TLSInfo | None = None
        self._tls_pending: asyncio.Future[None] | None = None
        # Shared by a registry's clusters: one build per TLS material (tests count builds).
        self.tls_contexts = tls_contexts if tls_contexts is not None else TLSContexts()
        # The lean HTTP/1.1 client's pools (proxy/upstream/pool.py), closed with the cluster.
        self.upstream_pools: dict[object, UpstreamPool] = {}
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
            if URL(spec.server).scheme != "https":
                self._tls = TLSInfo(True, None)  # aiohttp ignores it for http://
            try:
                check_tls_material(spec)  # the SSL context itself is built at first use
            except TLSConfigError as e:
                self.load_error = self._tls_error(e)
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

    def _tls_error(self, e: TLSConfigError) -> str:
        return f"{self.spec.source or 'kubeconfig'}: context {self.spec.name!r}: {e}"

    async def ensure_tls(self) -> None:
        """Build this cluster's SSL context unless built (the first use of the cluster; a
        worker thread does the blocking part, once however many requests ask at once).
        TLS material that cannot be used becomes the cluster's `load_error`, as a failure
        at load would have: requests then get 503 naming the key."""
        if self._tls is not None or self.load_error is not None:
            return
        # One build per cluster, its outcome recorded in the same step that ends it: a
        # request arriving as a failed build ends must not start a second one.
        if self._tls_pending is None:
            self._tls_pending = asyncio.ensure_future(self._build_tls())
        await asyncio.shield(self._tls_pending)

    async def _build_tls(self) -> None:
        try:
            info = await self.tls_contexts.get(self.spec)
        except TLSConfigError as e:
            if self.load_error is None:
                self.load_error = self._tls_error(e)
                log.warning("%s", self.load_error)
            return
        finally:
            self._tls_pending = None
        if self._tls is None:  # an exec plugin's certificate may have been put in meanwhile
            self._tls = info

    @property
    def tls(self) -> TLSInfo:
        """The TLS of every request; `await ensure_tls()` first (TLSConfigError if not)."""
        if self._tls is None:
            raise TLSConfigError(
                self.load_error or f"cluster {self.name!r}: TLS not built yet (ensure_tls)"
            )
        return self._tls

    def request_kwargs(self) -> Transport:
        """Keyword arguments for every `session.request(...)` / `session.ws_connect(...)`.

        Call `await cluster.session()` or `await cluster.auth_headers()` first: they build
        the TLS context at the first use, and when an exec plugin hands out a client
        certificate, `auth_headers` is what brings the TLS context up to date.
        """
        tls = self.tls
        kwargs: Transport = {"ssl": tls.ssl}
        if tls.server_hostname:
            kwargs["server_hostname"] = tls.server_hostname
        if self._proxy is not None:
            kwargs["proxy"] = self._proxy
            if self._proxy_auth is not None:
                kwargs["proxy_headers"] = {"Proxy-Authorization": self._proxy_auth}
        return kwargs

    async def auth_headers(self) -> CIMultiDict[str]:
        """The credential headers; also rebuilds TLS when a plugin's client cert changed.

        Raises CredentialError (message names the cluster and what to do).
        """
        await self.ensure_tls()
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
        """This cluster's pooled HTTP session (created on first use, on the running loop),
        with the cluster's TLS built (see `ensure_tls`)."""
        await self.ensure_tls()
        if self._session is None or self._session.closed:
            self._session = self._make_session()  # no await in between: no race
        return self._session

    def _make_session(self) -> aiohttp.ClientSession:
        connector = aiohttp.TCPConnector(
            limit=0,  # per-host limit is what matters: one cluster is one host
            limit_per_host=LIMIT_PER_HOST,
            # Every request passes request_kwargs()'s ssl; this is only a fallback.
            ssl=self._tls.ssl if self._tls is not None else True,
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


def _known(table: dict[str, Any]) -> str:
    return ", ".join(sorted(table))
