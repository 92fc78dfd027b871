"""Command line → Settings, without starting anything."""

from __future__ import annotations

import logging
from pathlib import Path

import pytest

from kubelantern.cli import (
    UsageError,
    build_parser,
    is_loopback,
    main,
    normalize_base_url,
    open_url,
    serve_mode,
    settings_from,
)
from kubelantern.settings import Settings
from kubelantern.web.app import kubeconfig_available


def parse(*argv: str, env: dict[str, str] | None = None) -> Settings:
    return settings_from(build_parser().parse_args(list(argv)), env or {})


def test_serve_defaults() -> None:
    s = parse("serve")
    assert (s.host, s.port, s.base_url) == ("127.0.0.1", 4477, "")
    assert s.launch_token is not None and len(s.launch_token) >= 40
    assert parse("serve").launch_token != s.launch_token  # random per start


def test_token_sources() -> None:
    assert parse("serve", "--token", "abc").launch_token == "abc"
    assert parse("serve", env={"KUBELANTERN_TOKEN": "fromenv"}).launch_token == "fromenv"
    assert (
        parse("serve", "--token", "flag", env={"KUBELANTERN_TOKEN": "env"}).launch_token == "flag"
    )
    assert parse("serve", "--no-token", env={"KUBELANTERN_TOKEN": "env"}).launch_token is None
    with pytest.raises(UsageError, match="--no-token"):
        parse("serve", "--token", " ")
    with pytest.raises(SystemExit):
        parse("serve", "--token", "a", "--no-token")


def test_repeatable_flags_and_overrides() -> None:
    s = parse(
        "serve",
        "--kubeconfig",
        "/a",
        "--kubeconfig",
        "/b",
        "--context",
        "x",
        "--profile",
        "rancher/down:c-m-1=rancher",
        "--strategy",
        "kind-dev=subprotocol",
        "--allow-host",
        "h.example",
        "--allow-origin",
        "https://o.example",
        "--port",
        "0",
        "--base-url",
        "kl/",
        "--demo",
    )
    assert s.kubeconfigs == (Path("/a"), Path("/b"))
    assert s.contexts == ("x",)
    assert s.profile_overrides == {"rancher/down:c-m-1": "rancher"}
    assert s.strategy_overrides == {"kind-dev": "subprotocol"}
    assert s.allowed_hosts == ("h.example",) and s.allowed_origins == ("https://o.example",)
    assert s.port == 0 and s.base_url == "/kl" and s.demo


def test_bad_flags_say_what_is_wrong() -> None:
    with pytest.raises(UsageError, match="CLUSTER=NAME"):
        parse("serve", "--profile", "rancher")
    with pytest.raises(UsageError, match="--port"):
        parse("serve", "--port", "70000")
    with pytest.raises(UsageError, match="base-url"):
        normalize_base_url("/a?b")


def test_base_url_forms() -> None:
    assert normalize_base_url("") == ""
    assert normalize_base_url("/") == ""
    assert normalize_base_url("/x/y/") == "/x/y"


def test_open_url() -> None:
    s = Settings(launch_token="T")
    assert open_url(s, 4477) == "http://127.0.0.1:4477/?token=T"
    assert open_url(Settings(host="0.0.0.0", base_url="/kl"), 1) == "http://127.0.0.1:1/kl/"
    assert open_url(Settings(host="::1"), 2) == "http://[::1]:2/"


def test_loopback() -> None:
    assert is_loopback("127.0.0.1") and is_loopback("::1") and is_loopback("localhost")
    assert not is_loopback("0.0.0.0") and not is_loopback("10.1.2.3")


def test_demo_when_no_kubeconfig(tmp_path: Path) -> None:
    empty_home = tmp_path / "home"
    empty_home.mkdir()
    assert not kubeconfig_available(Settings(), env={}, home=empty_home)
    assert kubeconfig_available(Settings(in_cluster=True), env={}, home=empty_home)
    assert kubeconfig_available(Settings(kubeconfigs=(tmp_path / "x",)), env={}, home=empty_home)
    cfg = tmp_path / "cfg"
    assert not kubeconfig_available(Settings(), env={"KUBECONFIG": str(cfg)}, home=empty_home)
    cfg.write_text("apiVersion: v1\n")
    assert kubeconfig_available(Settings(), env={"KUBECONFIG": str(cfg)}, home=empty_home)
    (empty_home / ".kube").mkdir()
    (empty_home / ".kube" / "config").write_text("apiVersion: v1\n")
    assert kubeconfig_available(Settings(), env={}, home=empty_home)


TEAM = (
    "serve", "--host", "0.0.0.0",
    "--public-url", "https://kl.example.com/",
    "--oidc-issuer-url", "https://sso.example.com/realms/team",
    "--oidc-client-id", "kubelantern",
)  # fmt: skip


def test_team_flags_and_secrets_from_env_or_file(tmp_path: Path) -> None:
    env = {
        "KUBELANTERN_SESSION_SECRET": "s" * 40,
        "KUBELANTERN_SESSION_SECRET_OLD": "o" * 40,
        "KUBELANTERN_OIDC_CLIENT_SECRET": "from-env",
    }
    s = parse(*TEAM, "--oidc-scopes", "openid,profile groups", env=env)
    assert s.launch_token is None  # team mode: sign-in instead of the launch token
    assert s.public_url == "https://kl.example.com"
    assert s.oidc_scopes == ("openid", "profile", "groups")
    assert (s.session_secret, s.session_secrets_old) == ("s" * 40, ("o" * 40,))
    assert s.oidc_client_secret == "from-env"
    assert "from-env" not in repr(s) and "s" * 40 not in repr(s)  # secrets stay out of logs
    secret_file = tmp_path / "secret"
    secret_file.write_text("from-file\n")
    s = parse(*TEAM, "--oidc-client-secret-file", str(secret_file), env=env)
    assert s.oidc_client_secret == "from-file"
    with pytest.raises(UsageError, match=r"secret-file .*missing"):
        parse(*TEAM, "--session-secret-file", str(tmp_path / "missing"), env={})


def test_modes_refuse_in_one_line() -> None:
    open_bind = parse("serve", "--host", "0.0.0.0", "--no-token")
    mode = serve_mode(open_bind)
    assert mode.refusal is not None and "refusing to serve on 0.0.0.0" in mode.refusal
    assert serve_mode(parse(*TEAM, env={})).refusal is not None  # no session secret
    team = serve_mode(parse(*TEAM, env={"KUBELANTERN_SESSION_SECRET": "s" * 40}))
    assert (team.name, team.refusal) == ("team", None)
    assert serve_mode(parse("serve")).name == "local"
    header = serve_mode(parse("serve", "--host", "0.0.0.0", "--auth-header", "X-Forwarded-User"))
    assert header.refusal is None and header.warnings


def run_main(argv: list[str]) -> int:
    """`main` in this process, with the logging set-up it does undone afterwards: it gives the
    root logger a StreamHandler on the sys.stderr of the moment (capsys's, closed when the
    test ends), so every later record of the session, from every server thread, was a
    "--- Logging error ---" (ValueError: I/O operation on closed file) on the terminal."""
    root, access = logging.getLogger(), logging.getLogger("aiohttp.access")
    handlers, levels = root.handlers[:], (root.level, access.level)
    try:
        return main(argv)
    finally:
        for handler in root.handlers:
            if handler not in handlers:
                handler.close()
        root.handlers[:] = handlers
        root.setLevel(levels[0])
        access.setLevel(levels[1])


def test_main_exits_2_with_the_reason(capsys: pytest.CaptureFixture[str]) -> None:
    assert run_main(["serve", "--host", "0.0.0.0", "--no-token"]) == 2
    err = capsys.readouterr().err.strip()
    assert err.count("\n") == 0 and err.startswith("kubelantern: refusing to serve on 0.0.0.0")


def test_main_refuses_a_short_session_secret(
    capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("KUBELANTERN_SESSION_SECRET", "too-short")
    assert run_main([*TEAM]) == 2
    assert "at least 32" in capsys.readouterr().err
