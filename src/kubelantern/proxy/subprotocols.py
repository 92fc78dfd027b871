"""`Sec-WebSocket-Protocol` handling, pure: parse the client's offer, pull out the bearer
token entry, and build the list offered upstream.

Browsers cannot set `Authorization` on a WebSocket, so they send the token as the
subprotocol `base64url.bearer.authorization.k8s.io.<base64url(token), unpadded>`.
kube-apiserver understands it, Rancher does not (401). We take it out of the client's
offer in every case and put it back only where a strategy says so.

kubelantern's own entry `kubelantern.session.<id>` (a terminal that survives a dropped
connection, `proxy/ws/sessions.py`) is taken out too: it is never offered upstream and so
never selected (the 101 echoes what the upstream chose).

Decoding is lenient like Headlamp's backend (many frontends use `btoa()` = standard
alphabet, padded or not); encoding upstream is always what kube-apiserver wants:
RawURLEncoding.
"""

from __future__ import annotations

import base64
import binascii
import re
from collections.abc import Iterable
from dataclasses import dataclass

from kubelantern.status import KubelanternError

BEARER_PREFIX = "base64url.bearer.authorization.k8s.io."
SESSION_PREFIX = "kubelantern.session."
_SESSION_ID = re.compile(r"[A-Za-z0-9_-]{16,64}")
# Enough for any real token (EKS presigned URLs are ~1.5 KiB); a bound keeps garbage cheap.
MAX_TOKEN_CHARS = 16 * 1024


class SubprotocolError(KubelanternError, ValueError):
    """The client's offer is unusable; `status` is the HTTP status to answer with."""

    def __init__(self, status: int, message: str) -> None:
        super().__init__(message, status=status)
        self.message = message


@dataclass(frozen=True)
class Offer:
    """The client's subprotocols, in its order, with the bearer entry taken out."""

    protocols: tuple[str, ...]
    token: str | None = None  # decoded bearer token from the subprotocol, if any
    session: str | None = None  # the id of a `kubelantern.session.<id>` entry, if any


def split_header_values(values: Iterable[str]) -> list[str]:
    """All `Sec-WebSocket-Protocol` lines, split on `,` and trimmed (as the apiserver does).

    A wholly empty header means "no protocols"; an empty entry inside a list is an error
    (it would silently select the `""` protocol on some servers).
    """
    entries: list[str] = []
    for value in values:
        if not value.strip():
            continue
        for part in value.split(","):
            entry = part.strip()
            if not entry:
                raise SubprotocolError(400, "empty entry in Sec-WebSocket-Protocol")
            entries.append(entry)
    return entries


def decode_bearer(encoded: str) -> str:
    """Decode the token part of a bearer subprotocol: URL-safe or standard, padded or not."""
    if not encoded:
        raise SubprotocolError(401, "empty bearer token in subprotocol")
    if len(encoded) > MAX_TOKEN_CHARS:
        raise SubprotocolError(401, "bearer token in subprotocol is too long")
    padded = encoded + "=" * (-len(encoded) % 4)
    raw: bytes | None = None
    for altchars in (b"-_", b"+/"):
        try:
            raw = base64.b64decode(padded.encode("ascii"), altchars=altchars, validate=True)
            break
        except (binascii.Error, UnicodeEncodeError, ValueError):
            continue
    if raw is None:
        raise SubprotocolError(401, "invalid base64 in the bearer token subprotocol")
    try:
        token = raw.decode("utf-8")
    except UnicodeDecodeError:
        raise SubprotocolError(401, "bearer token in subprotocol is not UTF-8") from None
    # The token ends up in an HTTP header: refuse what would break or smuggle headers.
    if not token or any(ord(c) < 0x21 or ord(c) == 0x7F for c in token):
        raise SubprotocolError(401, "bearer token in subprotocol has invalid characters")
    return token


def encode_bearer(token: str) -> str:
    """The subprotocol entry kube-apiserver accepts: RawURLEncoding, no padding."""
    raw = base64.urlsafe_b64encode(token.encode("utf-8")).decode("ascii").rstrip("=")
    return BEARER_PREFIX + raw


def parse_offer(header_values: Iterable[str]) -> Offer:
    """Parse the client's offer; at most one bearer entry and one session entry."""
    protocols: list[str] = []
    tokens: list[str] = []
    sessions: list[str] = []
    for entry in split_header_values(header_values):
        if entry.startswith(BEARER_PREFIX):
            tokens.append(entry[len(BEARER_PREFIX) :])
        elif entry.startswith(SESSION_PREFIX):
            sessions.append(entry[len(SESSION_PREFIX) :])
        else:
            protocols.append(entry)
    if len(tokens) > 1:
        raise SubprotocolError(400, "more than one bearer token subprotocol offered")
    if len(sessions) > 1:
        raise SubprotocolError(400, "more than one kubelantern.session subprotocol offered")
    if sessions and not _SESSION_ID.fullmatch(sessions[0]):
        raise SubprotocolError(
            400,
            "kubelantern.session.<id>: the id must be 16-64 characters of A-Z a-z 0-9 _ -",
        )
    token = decode_bearer(tokens[0]) if tokens else None
    return Offer(tuple(protocols), token, sessions[0] if sessions else None)


def upstream_protocols(offer: Offer, token_in_subprotocol: str | None) -> tuple[str, ...]:
    """What to offer upstream: the client's protocols, plus the bearer entry if asked.

    kube-apiserver refuses a bearer entry that is the only protocol ("missing additional
    subprotocol"), so a token is placed there only when another protocol is offered;
    `token_fits_subprotocol` tells the caller whether that is the case.
    """
    if token_in_subprotocol is not None and token_fits_subprotocol(offer):
        return (*offer.protocols, encode_bearer(token_in_subprotocol))
    return offer.protocols


def token_fits_subprotocol(offer: Offer) -> bool:
    return bool(offer.protocols)


def redact(protocols: Iterable[str]) -> list[str]:
    """Protocol list fit for a log line: bearer entries replaced."""
    return [BEARER_PREFIX + "<redacted>" if p.startswith(BEARER_PREFIX) else p for p in protocols]
