"""The clusters kubelantern serves: name -> spec, credentials, TLS, HTTP session, profile.

Path handling is pure (`split_cluster_path`, `validate_api_path`, `join_upstream`) and
unit-tested without sockets; `Cluster.session()` is the only place connections are made.
"""

from __future__ import annotations

import asyncio
import base64
import dataclasses
import ipaddress
import logging
import os
from collections.abc import Collection, Iterator, Mapping, Sequence
from typing import Any
from urllib.parse import unquote

import aiohttp
from multidict import CIMultiDict
from yarl import URL

from kubelantern import USER_AGENT
from kubelantern.clusters import profiles
from kubelantern.clusters.credentials import CredentialError, Credentials
from kubelantern.clusters.kubeconfig import (
    KubeconfigError,
    load_in_cluster,
    load_kubeconfigs,
    shown_url,
)
from kubelantern.clusters.spec import ClusterSpec, TLSSpec
from kubelantern.clusters.tls import TLSConfigError, TLSInfo, tls_info
from kubelantern.settings import Settings

log = logging.getLogger(__name__)

CONNECT_TIMEOUT = 10.0  # seconds to open a TCP+TLS connection; streams themselves never time out
LIMIT_PER_HOST = 64  # pooled connections per cluster (long watches and logs hold one each)


# -- pure path logic ---------------------------------------------------------------------


class ApiPathError(ValueError):
    """A request path that must not be proxied (answer 400 with this message)."""


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
    for segment in path.partition("?")[0].split("/"):
        decoded = unquote(segment)
        if decoded in (".", "..") or "\\" in decoded:
            raise ApiPathError("API path may not contain '.', '..' or '\\' segments")
        if any(ord(c) < 0x20 or ord(c) == 0x7F for c in decoded):
            raise ApiPathError("API path may not contain control characters")
        if "/" in decoded and (".." in decoded.split("/") or "." in decoded.split("/")):
            raise ApiPathError("API path may not contain encoded '..' segments")
    return path


def split_cluster_path(tail: str, names: Collection[str]) -> tuple[str, str] | None:
    """Find which cluster `tail` (the path after `/clusters/`) addresses.

    The cluster name may arrive percent-encoded (`rancher%2Fdown%3Ac-m-abc12/api`) or
    decoded by the client (`rancher/down:c-m-abc12/api`, as kubectl does with its --server
    path). The longest known name that matches a whole-segment prefix wins. Returns
    (name, rest) where rest is the raw remainder starting with `/` (or "/" when empty).
    """
    known = names if isinstance(names, (set, frozenset, dict)) else set(names)
    path, sep, query = tail.partition("?")  # a query, if the caller left it on, stays on
    best: tuple[str, str] | None = None
    cut = -1
    while True:
        cut = path.find("/", cut + 1)
        end = len(path) if cut == -1 else cut
        prefix = path[:end]
        for candidate in (prefix, unquote(prefix)):
            if candidate in known and (best is None or len(candidate) > len(best[0])):
                best = (candidate, (path[end:] or "/") + sep + query)
        if cut == -1:
            break
    return best


def join_upstream(server: URL, api_path: str, query_string: str = "") -> URL:
    """server URL (its path prefix kept) + raw API path + raw query, without re-encoding."""
    prefix = server.raw_path.rstrip("/")
    if not api_path.startswith("/"):
        api_path = "/" + api_path
    text = f"{server.origin()}{prefix}{api_path}"
    if query_string:
        text += "?" + query_string
    return URL(text, encoded=True)


# -- clusters --------------------------------------------------------------------------


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
    ) -> None:
        self.name = spec.name
        self.spec = spec
        self.load_error = load_error
        self.credentials = Credentials(spec)
        self._session: aiohttp.ClientSession | None = None
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
            self._proxy, self._proxy_auth = _split_proxy(spec.proxy_url or env_proxy(spec.server))
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

    def summary(self) -> dict[str, Any]:
        """What `/api/clusters` and `doctor` may show about this cluster. Never a secret."""
        return {
            "name": self.name,
            "server": str(self.server_url.with_user(None)) if self.spec.server else "",
            "namespace": self.spec.namespace,
            "profile": self.profile.name,
            "profile_source": self.profile_source,
            "profile_reason": self.profile_reason,
            "strategy_override": self.strategy_override.name if self.strategy_override else None,
            "auth": self.credentials.describe(),
            "tls": self._tls_summary(),
            "proxy": str(self._proxy) if self._proxy is not None else None,
            "source": self.spec.source,
            "error": self.load_error,
        }

    def _tls_summary(self) -> str:
        tls = self.spec.tls
        if self.server_url.scheme != "https":
            return "none (plain http)"
        if tls.insecure_skip_verify:
            return "verification OFF (insecure-skip-tls-verify)"
        ca = "kubeconfig CA" if (tls.ca_data or tls.ca_file) else "system CAs"
        return f"verified against {ca}" + (f" as {tls.server_name}" if tls.server_name else "")

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

    def request_kwargs(self) -> dict[str, Any]:
        """Keyword arguments for every `session.request(...)` / `session.ws_connect(...)`.

        Call `await cluster.auth_headers()` (or `credentials.headers()`) first: when an exec
        plugin hands out a client certificate, that is what brings the TLS context up to date.
        """
        kwargs: dict[str, Any] = {"ssl": self._tls.ssl}
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

    async def get(
        self, api_path: str, query: str = "", *, auth: Mapping[str, str]
    ) -> aiohttp.ClientResponse:
        """GET a JSON document from the API as kubelantern itself (probe, doctor, lookups).

        `auth` is `await self.auth_headers()`; use the answer as `async with await ...`.
        """
        headers: CIMultiDict[str] = CIMultiDict(auth)
        headers["User-Agent"] = USER_AGENT
        headers["Accept"] = "application/json"
        session = await self.session()
        return await session.get(
            self.upstream_url(api_path, query),
            headers=headers,
            allow_redirects=False,
            **self.request_kwargs(),
        )

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


def env_proxy(server: str, env: Mapping[str, str] | None = None) -> str | None:
    """The proxy from HTTPS_PROXY/HTTP_PROXY for `server`, unless NO_PROXY or loopback says
    no (client-go's rule when the kubeconfig has no proxy-url). Pure given `env`."""
    env = os.environ if env is None else env
    url = URL(server)
    host = (url.host or "").lower()
    if host == "localhost" or _is_loopback(host):
        return None
    names = (
        ("https_proxy", "HTTPS_PROXY") if url.scheme == "https" else ("http_proxy", "HTTP_PROXY")
    )
    proxy = next((env[n] for n in names if env.get(n)), None)
    if not proxy:
        return None
    no_proxy = env.get("no_proxy") or env.get("NO_PROXY") or ""
    for entry in (e.strip().lower() for e in no_proxy.split(",")):
        if not entry:
            continue
        if entry == "*":
            return None
        if "/" in entry:
            try:
                if ipaddress.ip_address(host) in ipaddress.ip_network(entry, strict=False):
                    return None
            except ValueError:
                pass
            continue
        if entry.count(":") == 1:  # host:port
            entry_host, _, entry_port = entry.partition(":")
            if entry_port != str(url.port):
                continue
            entry = entry_host
        entry = entry.strip("[]").lstrip(".")
        if host == entry or host.endswith("." + entry):
            return None
    return proxy


def _is_loopback(host: str) -> bool:
    try:
        return ipaddress.ip_address(host).is_loopback
    except ValueError:
        return False


def _split_proxy(proxy_url: str | None) -> tuple[URL | None, str | None]:
    """The proxy URL without credentials, and its Proxy-Authorization value if it had any."""
    if not proxy_url:
        return None, None
    url = URL(proxy_url)
    if url.scheme not in ("http", "https") or not url.host:
        return None, None
    auth = None
    if url.user is not None:
        pair = f"{url.user}:{url.password or ''}".encode()
        auth = "Basic " + base64.b64encode(pair).decode()
        url = url.with_user(None).with_password(None)
    return url, auth


class Registry:
    """All clusters by name, plus the load errors to show (in the UI, the log, doctor)."""

    def __init__(
        self, clusters: dict[str, Cluster], errors: list[str], current_context: str | None = None
    ) -> None:
        self.clusters = clusters
        self.errors = errors
        self.current_context = current_context  # kubeconfig's current-context, the UI's default

    @classmethod
    def from_specs(
        cls,
        specs: Sequence[ClusterSpec],
        errors: Sequence[KubeconfigError | str] = (),
        settings: Settings | None = None,
        current_context: str | None = None,
    ) -> Registry:
        """Build clusters from loaded specs; contexts that failed to load (errors naming a
        context) become clusters with `load_error` set, so the UI can show why."""
        settings = settings or Settings()
        clusters: dict[str, Cluster] = {}
        # Contexts with the same TLS material share one SSL context: loading the system CAs
        # takes ~10-20 ms per context, and a Rancher kubeconfig may hold hundreds.
        tls_cache: dict[TLSSpec, TLSInfo] = {}
        lines: list[str] = []
        for spec in specs:
            if spec.name in clusters:
                continue
            cluster = Cluster(
                spec,
                tls_cache=tls_cache,
                profile_override=settings.profile_overrides.get(spec.name),
                strategy_override=settings.strategy_overrides.get(spec.name),
            )
            clusters[spec.name] = cluster
            if cluster.load_error:
                lines.append(cluster.load_error)
        for err in errors:
            lines.append(str(err))
            ctx = getattr(err, "context", None)
            if isinstance(ctx, str) and ctx and ctx not in clusters:
                file = getattr(err, "file", None)
                placeholder = ClusterSpec(name=ctx, server="", source=str(file) if file else "")
                clusters[ctx] = Cluster(placeholder, load_error=str(err))
        for name in settings.profile_overrides:
            if name not in clusters:
                lines.append(f"profile override for unknown cluster {name!r}")
        for name in settings.strategy_overrides:
            if name not in clusters:
                lines.append(f"strategy override for unknown cluster {name!r}")
        return cls(clusters, lines, current_context)

    def __iter__(self) -> Iterator[Cluster]:
        return iter(self.clusters.values())

    def __len__(self) -> int:
        return len(self.clusters)

    def get(self, name: str) -> Cluster | None:
        return self.clusters.get(name)

    def resolve(self, tail: str) -> tuple[Cluster, str] | None:
        """`tail` = the raw path after `/clusters/`; returns (cluster, raw API path) or None.

        The API path is not validated here: pass it through `validate_api_path`.
        """
        found = split_cluster_path(tail, self.clusters)
        if found is None:
            return None
        name, rest = found
        return self.clusters[name], rest

    async def close(self) -> None:
        await asyncio.gather(*(c.close() for c in self.clusters.values()), return_exceptions=True)


async def load_registry(settings: Settings) -> Registry:
    """Clusters from the in-cluster service account and/or the kubeconfig files in
    `settings` (in-cluster with --kubeconfig: both, the in-cluster one first)."""
    if settings.in_cluster:
        try:
            spec = await asyncio.to_thread(load_in_cluster)
        except KubeconfigError as e:
            home: list[ClusterSpec] = []
            home_errors = [str(e)]
        else:
            home, home_errors = [dataclasses.replace(spec, user_identity=True)], []
        if not settings.kubeconfigs:
            return await asyncio.to_thread(Registry.from_specs, home, home_errors, settings)
        extra = await asyncio.to_thread(
            load_kubeconfigs, list(settings.kubeconfigs), contexts=settings.contexts
        )
        taken = {s.name for s in home}
        specs = home + [s for s in extra.specs if s.name not in taken]
        return await asyncio.to_thread(
            Registry.from_specs, specs, home_errors + list(extra.errors), settings
        )
    result = await asyncio.to_thread(
        load_kubeconfigs, list(settings.kubeconfigs) or None, contexts=settings.contexts
    )
    # Building TLS contexts reads CA bundles (tens of ms each): off the event loop.
    return await asyncio.to_thread(
        Registry.from_specs, result.specs, result.errors, settings, result.current_context
    )
