"""Explicit modes: which flags make local or team mode, and the one-line refusals."""

from __future__ import annotations

from dataclasses import replace

import pytest

from kubelantern.identity.modes import ModeRequest, decide, is_loopback

LOCAL = ModeRequest(
    host="127.0.0.1",
    launch_token=True,
    oidc=False,
    oidc_complete=False,
    in_cluster=False,
    session_secret=False,
    public_url=None,
    auth_header=None,
)
TEAM = replace(
    LOCAL,
    host="0.0.0.0",
    launch_token=False,
    oidc=True,
    oidc_complete=True,
    session_secret=True,
    public_url="https://kl.example.com",
)


def test_local_is_the_default() -> None:
    mode = decide(LOCAL)
    assert (mode.name, mode.refusal, mode.warnings) == ("local", None, ())
    assert decide(replace(LOCAL, launch_token=False)).refusal is None  # --no-token on loopback


def test_team_with_oidc() -> None:
    mode = decide(TEAM)
    assert (mode.name, mode.refusal, mode.warnings) == ("team", None, ())


@pytest.mark.parametrize("host", ["0.0.0.0", "::", "10.1.2.3", "kubelantern.internal"])
def test_open_bind_without_token_or_sign_in_refuses_in_one_line(host: str) -> None:
    mode = decide(replace(LOCAL, host=host, launch_token=False))
    assert mode.refusal is not None and "\n" not in mode.refusal
    assert f"refusing to serve on {host}" in mode.refusal and "--oidc-issuer-url" in mode.refusal
    # A launch token, or any sign-in method, makes it acceptable.
    assert decide(replace(LOCAL, host=host)).refusal is None
    assert decide(replace(LOCAL, host=host, launch_token=False, in_cluster=True)).name == "team"


def test_oidc_needs_its_companions() -> None:
    assert "--oidc-client-id" in (decide(replace(TEAM, oidc_complete=False)).refusal or "")
    assert "--session-secret" in (decide(replace(TEAM, session_secret=False)).refusal or "")
    assert "not an http(s) URL" in (
        decide(replace(TEAM, public_url="kl.example.com")).refusal or ""
    )


def test_warnings_for_trusted_header_and_plain_http() -> None:
    mode = decide(
        replace(LOCAL, host="0.0.0.0", launch_token=False, auth_header="X-Forwarded-User")
    )
    assert mode.refusal is None and mode.name == "team"
    assert any("identity-aware proxy" in w for w in mode.warnings)
    plain = decide(replace(TEAM, public_url="http://kl.example.com"))
    assert any("not marked Secure" in w for w in plain.warnings)
    assert decide(replace(TEAM, public_url="http://127.0.0.1:4477")).warnings == ()


def test_in_cluster_token_login_without_a_shared_secret_warns() -> None:
    mode = decide(replace(LOCAL, host="0.0.0.0", launch_token=False, in_cluster=True))
    assert mode.name == "team" and mode.refusal is None
    assert any("log in again" in w for w in mode.warnings)
    shared = replace(
        LOCAL, host="0.0.0.0", launch_token=False, in_cluster=True, session_secret=True
    )
    assert decide(shared).warnings == ()


def test_loopback_names() -> None:
    assert all(is_loopback(h) for h in ("127.0.0.1", "::1", "[::1]", "localhost", "127.0.0.2"))
    assert not any(is_loopback(h) for h in ("0.0.0.0", "::", "10.0.0.1", "example.com"))
