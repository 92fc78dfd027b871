"""Sealed cookies: state kept in the browser, encrypted and authenticated, so that any replica
opens any request's session and a restart logs nobody out.

Format `v1.<base64url(key id ‖ nonce ‖ AES-256-GCM(zlib(JSON {"exp", "d"})))>`. The key comes
from `--session-secret` through HKDF-SHA256; old secrets (rotation) still open cookies,
new cookies are always sealed with the current one. The cookie's *purpose* (session, sign-in
flow, per-cluster login) is the AEAD's associated data, so one kind of cookie is never
accepted as another. The expiry lives inside the sealed payload: a browser that keeps a
cookie past its Max-Age, or a copied cookie, is refused all the same.

Browsers keep at most 4096 bytes per cookie (name, value and attributes), so a sealed value
longer than `CHUNK` is split over `name`, `name.1`, … (`split_cookie` / `join_cookie`).
"""

from __future__ import annotations

import base64
import binascii
import json
import os
import zlib
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, Final

if TYPE_CHECKING:
    from cryptography.hazmat.primitives.ciphers.aead import AESGCM

VERSION: Final = "v1"
MIN_SECRET_BYTES: Final = 32
KEY_ID_BYTES: Final = 4
NONCE_BYTES: Final = 12
# Per cookie: the value plus name and attributes (Path, Max-Age, SameSite, Secure, HttpOnly)
# must stay under 4096 bytes; 3800 leaves room for them.
CHUNK: Final = 3800
MAX_CHUNKS: Final = 5
_SALT: Final = b"kubelantern sealed cookies v1"


class SessionSecretError(ValueError):
    """--session-secret cannot be used; the message says why and how to make one."""


class SealError(ValueError):
    """A cookie that does not open. `reason` is one of: malformed, unknown-key, tampered,
    expired — for logs and tests; the user sees a sign-in page either way."""

    def __init__(self, reason: str, message: str) -> None:
        super().__init__(message)
        self.reason = reason


@dataclass(frozen=True)
class _Key:
    kid: bytes
    aead: AESGCM


def _checked(secret: str, what: str) -> bytes:
    raw = secret.encode("utf-8")
    if len(raw) < MIN_SECRET_BYTES:
        raise SessionSecretError(
            f"the {what} session secret is {len(raw)} bytes; use at least {MIN_SECRET_BYTES} "
            "random bytes (for example the output of `openssl rand -base64 32`)"
        )
    return raw


def _derive(raw: bytes) -> _Key:
    # cryptography loads here, at the first cookie, not with the module: every `serve` makes a
    # Sealer and most starts never see a cookie before their first proxied answer (issue 12).
    from cryptography.hazmat.primitives import hashes
    from cryptography.hazmat.primitives.ciphers.aead import AESGCM
    from cryptography.hazmat.primitives.kdf.hkdf import HKDF

    def hkdf(info: bytes, length: int) -> bytes:
        return HKDF(algorithm=hashes.SHA256(), length=length, salt=_SALT, info=info).derive(raw)

    return _Key(kid=hkdf(b"key id", KEY_ID_BYTES), aead=AESGCM(hkdf(b"aes-256-gcm", 32)))


def _b64(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).decode("ascii").rstrip("=")


def _unb64(text: str) -> bytes:
    return base64.urlsafe_b64decode(text + "=" * (-len(text) % 4))


class Sealer:
    """Seals and opens cookie values with the current secret and any old ones."""

    def __init__(self, secret: str, old_secrets: Sequence[str] = ()) -> None:
        # Secrets are checked now (a bad one fails at start); keys are derived at first use.
        self._secrets = [_checked(secret, "current"), *(_checked(o, "old") for o in old_secrets)]
        self._ring: tuple[_Key, dict[bytes, _Key]] | None = None

    def _keyring(self) -> tuple[_Key, dict[bytes, _Key]]:
        """The current key and every key by id (the current one first: it wins a clash)."""
        if self._ring is None:
            current = _derive(self._secrets[0])
            keys = {current.kid: current}
            for raw in self._secrets[1:]:
                key = _derive(raw)
                keys.setdefault(key.kid, key)
            self._ring = (current, keys)
        return self._ring

    @property
    def _current(self) -> _Key:
        return self._keyring()[0]

    @property
    def _keys(self) -> dict[bytes, _Key]:
        return self._keyring()[1]

    def seal(self, purpose: str, data: Mapping[str, Any], *, expires_at: float) -> str:
        plain = json.dumps({"exp": int(expires_at), "d": data}, separators=(",", ":"))
        nonce = os.urandom(NONCE_BYTES)
        sealed = self._current.aead.encrypt(
            nonce, zlib.compress(plain.encode("utf-8"), 9), _aad(purpose)
        )
        return f"{VERSION}.{_b64(self._current.kid + nonce + sealed)}"

    def open(self, purpose: str, value: str, *, now: float) -> dict[str, Any]:
        """The sealed data; SealError when malformed, foreign, tampered or expired."""
        version, _, body = value.partition(".")
        if version != VERSION or not body or len(value) > CHUNK * MAX_CHUNKS:
            raise SealError("malformed", "the cookie is not one of ours")
        try:
            raw = _unb64(body)
        except (binascii.Error, ValueError):
            raise SealError("malformed", "the cookie is not valid base64url") from None
        if len(raw) < KEY_ID_BYTES + NONCE_BYTES + 16:
            raise SealError("malformed", "the cookie is too short")
        kid, nonce = raw[:KEY_ID_BYTES], raw[KEY_ID_BYTES : KEY_ID_BYTES + NONCE_BYTES]
        key = self._keys.get(kid)
        if key is None:
            raise SealError(
                "unknown-key", "the cookie was sealed with a session secret we no longer have"
            )
        from cryptography.exceptions import InvalidTag  # loaded with the key (_derive)

        try:
            packed = key.aead.decrypt(nonce, raw[KEY_ID_BYTES + NONCE_BYTES :], _aad(purpose))
            envelope = json.loads(zlib.decompress(packed))
        except InvalidTag:
            raise SealError("tampered", "the cookie was altered or is of another kind") from None
        except (zlib.error, ValueError):
            raise SealError("malformed", "the cookie's sealed payload is not ours") from None
        if not isinstance(envelope, dict) or not isinstance(envelope.get("d"), dict):
            raise SealError("malformed", "the cookie's sealed payload is not ours")
        exp = envelope.get("exp")
        if not isinstance(exp, int) or now >= exp:
            raise SealError("expired", "the session has expired; sign in again")
        data: dict[str, Any] = envelope["d"]
        return data


def _aad(purpose: str) -> bytes:
    return f"kubelantern/{VERSION}/{purpose}".encode()


# -- chunks ---------------------------------------------------------------------------------


def chunk_names(name: str) -> list[str]:
    """Every cookie name a chunked value may use: `name`, `name.1`, …"""
    return [name] + [f"{name}.{i}" for i in range(1, MAX_CHUNKS)]


def split_cookie(name: str, value: str) -> list[tuple[str, str]]:
    """(cookie name, value) pairs; the first holds the chunk count (`<n>~<part>`)."""
    parts = [value[i : i + CHUNK] for i in range(0, len(value), CHUNK)] or [""]
    if len(parts) > MAX_CHUNKS:
        raise ValueError(
            f"a sealed cookie of {len(value)} bytes needs more than {MAX_CHUNKS} chunks"
        )
    first = f"{len(parts)}~{parts[0]}"
    return [(name, first)] + [(f"{name}.{i}", p) for i, p in enumerate(parts[1:], 1)]


def join_cookie(cookies: Mapping[str, str], name: str) -> str | None:
    """The value `split_cookie` split; None when absent or chunks are missing."""
    first = cookies.get(name)
    if not first:
        return None
    count_text, sep, part = first.partition("~")
    if not sep or not count_text.isdigit() or not 1 <= int(count_text) <= MAX_CHUNKS:
        return None
    parts = [part]
    for i in range(1, int(count_text)):
        more = cookies.get(f"{name}.{i}")
        if more is None:
            return None
        parts.append(more)
    return "".join(parts)
