"""Kept-alive connections to one cluster endpoint (host, port, TLS context, server name).

Idle connections wait last-in first-out (the warmest is reused, the coldest times out);
one timer per pool closes those idle longer than `IDLE_TIMEOUT`. A connection the cluster
closes leaves the pool when asyncio says so (`forget`). The pools of a cluster live on the
`Cluster` (`upstream_pools`) and close with it.
"""

from __future__ import annotations

import asyncio
import ssl

from yarl import URL

from kubelantern.clusters.cluster import Cluster, Transport
from kubelantern.proxy.upstream.conn import Http1Connection
from kubelantern.proxy.upstream.errors import ConnectFailed, ConnectTimeout

IDLE_TIMEOUT = 30.0  # seconds an idle connection is kept (kube-apiserver keeps them longer)
MAX_IDLE = 64  # idle connections kept per pool; more are closed when released
MAX_POOLS = 4  # per cluster: one per TLS context in use (the user's TLS, a rotated cert)

_PoolKey = tuple[str, int, ssl.SSLContext | None, str | None]


class Pool:
    def __init__(
        self, host: str, port: int, context: ssl.SSLContext | None, server_name: str | None
    ) -> None:
        self.host, self.port = host, port
        self.context = context
        self.server_name = server_name
        self.idle: list[Http1Connection] = []
        self.closed = False
        self._sweep: asyncio.TimerHandle | None = None
        # Host header: the port only where it is not the scheme's default.
        bracketed = f"[{host}]" if ":" in host else host
        default = 443 if context is not None else 80
        self.host_header = bracketed if port == default else f"{bracketed}:{port}"

    def take(self) -> Http1Connection | None:
        """The most recently used idle connection that is still open, or None."""
        idle = self.idle
        while idle:
            conn = idle.pop()
            if not conn.closed and conn.transport is not None and not conn.transport.is_closing():
                return conn
        return None

    async def connect(self, connect_timeout: float) -> Http1Connection:
        """A new connection (TCP, then TLS with the context's verification and name)."""
        loop = asyncio.get_running_loop()
        try:
            async with asyncio.timeout(connect_timeout):
                _, conn = await loop.create_connection(
                    lambda: Http1Connection(self),
                    self.host,
                    self.port,
                    ssl=self.context,
                    server_hostname=(self.server_name or self.host) if self.context else None,
                    ssl_handshake_timeout=connect_timeout if self.context else None,
                )
        except TimeoutError:
            raise ConnectTimeout(f"{self.host}:{self.port}") from None
        except OSError as e:  # ssl.SSLError is one too
            raise ConnectFailed(self.host, self.port, e) from None
        return conn

    def put(self, conn: Http1Connection) -> None:
        if self.closed or len(self.idle) >= MAX_IDLE:
            conn.close()
            return
        loop = asyncio.get_running_loop()
        conn.idle_since = loop.time()
        self.idle.append(conn)
        if self._sweep is None:
            self._sweep = loop.call_later(IDLE_TIMEOUT, self._close_idle, loop)

    def forget(self, conn: Http1Connection) -> None:
        """`conn` closed: not offered again."""
        if conn in self.idle:
            self.idle.remove(conn)

    def _close_idle(self, loop: asyncio.AbstractEventLoop) -> None:
        self._sweep = None
        cutoff = loop.time() - IDLE_TIMEOUT
        stale = [c for c in self.idle if c.idle_since <= cutoff]
        self.idle = [c for c in self.idle if c.idle_since > cutoff]
        for conn in stale:
            conn.close()
        if self.idle:
            wait = self.idle[0].idle_since + IDLE_TIMEOUT - loop.time()
            self._sweep = loop.call_later(max(wait, 0.1), self._close_idle, loop)

    def close(self) -> None:
        self.closed = True
        if self._sweep is not None:
            self._sweep.cancel()
            self._sweep = None
        idle, self.idle = self.idle, []
        for conn in idle:
            conn.close()


def pool_for(cluster: Cluster, url: URL, transport: Transport) -> Pool | None:
    """The pool for a request to `url` with `transport`; None where the lean client does
    not go (an HTTP proxy in between, a scheme other than http/https): aiohttp's then."""
    if "proxy" in transport:
        return None
    scheme = url.scheme
    context: ssl.SSLContext | None
    if scheme == "https":
        tls = transport.get("ssl")
        if not isinstance(tls, ssl.SSLContext):
            return None
        context = tls
    elif scheme == "http":
        context = None
    else:
        return None
    host, port = url.raw_host, url.port
    if not host or port is None:
        return None
    key: _PoolKey = (host, port, context, transport.get("server_hostname"))
    pools = cluster.upstream_pools
    found = pools.get(key)
    if found is None or found.closed:
        if len(pools) >= MAX_POOLS:  # a rotated client certificate: the old ones go
            for old in list(pools):
                if not pools[old].idle:
                    pools.pop(old).close()
        found = pools[key] = Pool(host, port, context, key[3])
    assert isinstance(found, Pool)
    return found
