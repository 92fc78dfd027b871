"""Asking a cluster for a JSON document as kubelantern itself: `get_json()`.

The probe, port-forward lookups, doctor and login all ask here: one GET with our
User-Agent, a bounded body, and connection failures worded by `failures.py`
(`ClusterUnreachable`). What the status means is the caller's business.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

import aiohttp
from multidict import CIMultiDict

from kubelantern import USER_AGENT
from kubelantern.clusters.bodies import error_message, read_bounded
from kubelantern.clusters.cluster import CONNECT_TIMEOUT, Cluster, Transport
from kubelantern.clusters.failures import ClusterUnreachable, describe_client_error

MAX_BODY = 16 * 1024 * 1024


@dataclass(frozen=True)
class Answer:
    status: int
    headers: CIMultiDict[str]
    body: bytes  # at most the caller's limit (cut there)

    def json(self) -> Any:
        """The parsed body, or None when it is not JSON."""
        with contextlib.suppress(ValueError, UnicodeDecodeError):
            return json.loads(self.body)
        return None

    def message(self, limit: int = 300) -> str | None:
        """What an error body says, for a person."""
        return error_message(self.body, limit)


async def get_json(
    cluster: Cluster,
    path: str,
    query: str = "",
    *,
    auth: Mapping[str, str] | None = None,
    tls: Transport | None = None,
    limit: int = MAX_BODY,
    answer_within: float | None = None,
) -> Answer:
    """GET `path?query` from `cluster`. `auth` None: the kubeconfig's credentials (raises
    CredentialError); `tls` replaces the cluster's own (a user's token goes without the
    kubeconfig's client certificate); `answer_within`: seconds for the whole answer.
    Raises ClusterUnreachable when it could not ask."""
    if auth is None:
        auth = await cluster.auth_headers()
    headers: CIMultiDict[str] = CIMultiDict(auth)
    headers["User-Agent"] = USER_AGENT
    headers["Accept"] = "application/json"
    try:
        session = await cluster.session()
        async with asyncio.timeout(answer_within):
            async with session.get(
                cluster.upstream_url(path, query),
                headers=headers,
                allow_redirects=False,
                **(tls if tls is not None else cluster.request_kwargs()),
            ) as resp:
                body = await read_bounded(resp.content, limit, truncate=True)
                return Answer(resp.status, CIMultiDict(resp.headers), body)
    except (aiohttp.ClientError, OSError, TimeoutError) as e:
        raise ClusterUnreachable(
            describe_client_error(
                cluster.name,
                e,
                connect_timeout=CONNECT_TIMEOUT,
                answer_timeout=answer_within if answer_within is not None else CONNECT_TIMEOUT,
            )
        ) from None
