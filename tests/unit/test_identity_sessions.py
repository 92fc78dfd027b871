"""Sealed cookies: opaque, authenticated, bound to a purpose, expiring, rotatable, chunked."""

from __future__ import annotations

import base64
import json
import secrets

import pytest

from kubelantern.identity.sessions import (
    CHUNK,
    MAX_CHUNKS,
    Sealer,
    SealError,
    SessionSecretError,
    join_cookie,
    split_cookie,
)

SECRET = "a" * 16 + "-current-secret-0123456789"
OLD = "b" * 16 + "-older-secret-0123456789abc"
NOW = 1_800_000_000.0


def test_round_trip_and_nothing_readable() -> None:
    sealer = Sealer(SECRET)
    data = {"sub": "user-alice", "email": "alice@example.com", "bearer": "eyJhbGciOi.secret"}
    value = sealer.seal("session", data, expires_at=NOW + 60)
    assert sealer.open("session", value, now=NOW) == data
    raw = base64.urlsafe_b64decode(value[3:] + "=" * (-len(value[3:]) % 4))
    for shown in ("alice", "user-alice", "eyJhbGciOi", "example.com"):
        assert shown not in value and shown.encode() not in raw
    # Two seals of the same data differ (random nonce): no equality leaks.
    assert sealer.seal("session", data, expires_at=NOW + 60) != value


@pytest.mark.parametrize(
    ("mutate", "reason"),
    [
        (lambda v: v[:-2] + ("A" if v[-2] != "A" else "B") + v[-1], "tampered"),
        (lambda v: v[:20] + ("x" if v[20] != "x" else "y") + v[21:], "tampered"),
        (lambda v: "v2" + v[2:], "malformed"),
        (lambda v: "v1.%%%", "malformed"),
        (lambda v: "v1.AAAA", "malformed"),
        (lambda v: "", "malformed"),
    ],
)
def test_tampered_or_garbage_is_refused(mutate: object, reason: str) -> None:
    sealer = Sealer(SECRET)
    value = sealer.seal("session", {"sub": "x"}, expires_at=NOW + 60)
    with pytest.raises(SealError) as info:
        sealer.open("session", mutate(value), now=NOW)  # type: ignore[operator]
    assert info.value.reason == reason


def test_expiry_is_inside_the_seal() -> None:
    sealer = Sealer(SECRET)
    value = sealer.seal("session", {"sub": "x"}, expires_at=NOW + 60)
    assert sealer.open("session", value, now=NOW + 59)
    with pytest.raises(SealError) as info:
        sealer.open("session", value, now=NOW + 60)
    assert info.value.reason == "expired"
    assert "sign in again" in str(info.value)


def test_purpose_binds_the_cookie() -> None:
    sealer = Sealer(SECRET)
    flow = sealer.seal("flow", {"s": "state"}, expires_at=NOW + 60)
    with pytest.raises(SealError) as info:
        sealer.open("session", flow, now=NOW)
    assert info.value.reason == "tampered"
    login_a = sealer.seal("login:cluster-a", {"t": "tok"}, expires_at=NOW + 60)
    with pytest.raises(SealError):
        sealer.open("login:cluster-b", login_a, now=NOW)


def test_rotation_old_secret_still_opens_new_seals_use_current() -> None:
    before = Sealer(OLD)
    old_cookie = before.seal("session", {"sub": "x"}, expires_at=NOW + 60)
    after = Sealer(SECRET, old_secrets=[OLD])
    assert after.open("session", old_cookie, now=NOW) == {"sub": "x"}
    new_cookie = after.seal("session", {"sub": "y"}, expires_at=NOW + 60)
    with pytest.raises(SealError) as info:
        before.open("session", new_cookie, now=NOW)
    assert info.value.reason == "unknown-key"
    # Once the old secret is dropped, its cookies no longer open.
    with pytest.raises(SealError) as info:
        Sealer(SECRET).open("session", old_cookie, now=NOW)
    assert info.value.reason == "unknown-key"


def test_other_secret_cannot_open() -> None:
    value = Sealer(SECRET).seal("session", {"sub": "x"}, expires_at=NOW + 60)
    with pytest.raises(SealError):
        Sealer(OLD).open("session", value, now=NOW)


@pytest.mark.parametrize("secret", ["", "short", "x" * 31])
def test_short_secret_refused_with_advice(secret: str) -> None:
    with pytest.raises(SessionSecretError, match="at least 32"):
        Sealer(secret)
    with pytest.raises(SessionSecretError, match="old session secret"):
        Sealer(SECRET, old_secrets=[secret])


def test_chunks_keep_each_cookie_under_4k_and_join_back() -> None:
    sealer = Sealer(SECRET)
    # A large case: a 2.7 KB ID token and a 2 KB refresh token of random text.
    big = {
        "bearer": secrets.token_urlsafe(2000),  # ~2700 characters, random
        "refresh_token": secrets.token_urlsafe(1500),
    }
    value = sealer.seal("session", big, expires_at=NOW + 60)
    pairs = split_cookie("kl-session", value)
    assert len(pairs) >= 2
    for name, part in pairs:
        # name=value plus ~120 bytes of attributes must stay below 4096.
        assert len(name) + 1 + len(part) + 120 < 4096
    jar = dict(pairs)
    assert join_cookie(jar, "kl-session") == value
    assert sealer.open("session", join_cookie(jar, "kl-session") or "", now=NOW) == big
    # A missing chunk is no cookie; a stale extra chunk is ignored (the count says how many).
    assert join_cookie({k: v for k, v in jar.items() if k != "kl-session.1"}, "kl-session") is None
    assert join_cookie({**dict(split_cookie("c", "short")), "c.1": "stale"}, "c") == "short"


def test_small_value_is_one_cookie_and_garbage_counts_are_refused() -> None:
    assert split_cookie("c", "v1.abc") == [("c", "1~v1.abc")]
    for bad in ("v1.abc", "0~x", "99~x", "x~y", ""):
        assert join_cookie({"c": bad}, "c") is None
    with pytest.raises(ValueError, match="chunks"):
        split_cookie("c", "x" * (CHUNK * MAX_CHUNKS + 1))


def test_payload_is_compressed_json_not_plain() -> None:
    sealer = Sealer(SECRET)
    data = {"k": "a" * 2000}
    value = sealer.seal("session", data, expires_at=NOW + 60)
    assert len(value) < len(json.dumps(data)) / 4  # compressed before sealing
