"""HTTP(S) proxies between kubelantern and a cluster: client-go's environment rules
(HTTPS_PROXY/HTTP_PROXY, NO_PROXY, loopback never proxied) and proxy-url credentials.
Pure given `env`."""

from __future__ import annotations

import base64
import ipaddress
import os
from collections.abc import Mapping

from yarl import URL


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


def split_proxy(proxy_url: str | None) -> tuple[URL | None, str | None]:
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
