"""The per-cluster token login's cookie value: the token sealed for one cluster (its name is
the AEAD's associated data, so a cookie for one cluster never opens for another). The cookie's
name and attributes are the web layer's."""

from __future__ import annotations

from typing import Final

from kubelantern.identity.sessions import Sealer, SealError

LOGIN_TTL: Final = 12 * 3600.0  # seconds a per-cluster login lasts


def _purpose(cluster: str) -> str:
    return f"login:{cluster}"


def seal_login(sealer: Sealer, cluster: str, token: str, now: float) -> str:
    return sealer.seal(_purpose(cluster), {"t": token}, expires_at=now + LOGIN_TTL)


def open_login(sealer: Sealer, cluster: str, value: str | None, now: float) -> str | None:
    """The token, or None for no cookie, another cluster's, tampered or expired."""
    if not value:
        return None
    try:
        data = sealer.open(_purpose(cluster), value, now=now)
    except SealError:
        return None
    token = data.get("t")
    return token if isinstance(token, str) and token else None
