"""Issue 10 defect 11: opening `/?token=` redirects only to a same-origin path of ours,
and a path with CR/LF in it gets a 400 (never an exception that drops the connection)."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from urllib.parse import urljoin, urlsplit

import pytest

from kubelantern.settings import Settings
from tests.harness.rawhttp import get, raw_request
from tests.harness.servers import ServerThread

TOKEN = "launch-" + "r" * 40

FOREIGN = [
    "/%2F%2Fevil.example/",
    "/%2f%2fevil.example/x",
    "/%5C%5Cevil.example/",
    "/%5c/evil.example/",
    "//evil.example/",
    "///evil.example/",
    "/\\evil.example/",
    "/\\\\evil.example/",
    "/%252F%252Fevil.example/",
    "/%09/evil.example/",
    "/./%2F/evil.example",
]


@pytest.fixture(params=["", "/kl"])
def guarded(
    request: pytest.FixtureRequest, lantern_factory: Callable[..., ServerThread], kubeconfig: Path
) -> ServerThread:
    base = request.param
    server = lantern_factory(Settings(kubeconfigs=(kubeconfig,), launch_token=TOKEN, base_url=base))
    server.base = base  # type: ignore[attr-defined]
    return server


@pytest.mark.parametrize("path", FOREIGN)
async def test_token_redirect_stays_on_our_origin(guarded: ServerThread, path: str) -> None:
    base = guarded.base  # type: ignore[attr-defined]
    answer = await raw_request(guarded.host, guarded.port, get(f"{base}{path}?token={TOKEN}&a=1"))
    assert answer.status in (302, 400), answer.raw[:300]
    if answer.status == 400:
        return
    location = answer.header("Location")
    assert location is not None
    here = f"http://127.0.0.1:{guarded.port}{base}/some/page"
    resolved = urlsplit(urljoin(here, location.replace("\\", "/")))
    assert resolved.netloc == f"127.0.0.1:{guarded.port}", location
    assert resolved.path.startswith(f"{base}/"), location
    assert not location.startswith(("//", "/\\", "\\")), location
    assert "a=1" in (resolved.query or "") and TOKEN not in location


@pytest.mark.parametrize("path", ["/%0D%0ASet-Cookie:%20x=y", "/a%0Ab", "/%0d/", "/x%00y"])
async def test_control_characters_in_the_token_path_get_400(
    guarded: ServerThread, path: str
) -> None:
    base = guarded.base  # type: ignore[attr-defined]
    answer = await raw_request(guarded.host, guarded.port, get(f"{base}{path}?token={TOKEN}"))
    assert answer.status == 400, answer.raw[:300]
    assert answer.header("Set-Cookie") is None or "x=y" not in (answer.header("Set-Cookie") or "")
    # and the server still answers
    ok = await raw_request(guarded.host, guarded.port, get(f"{base}/healthz"))
    assert ok.status == 200


async def test_ordinary_token_redirect_keeps_path_and_query(guarded: ServerThread) -> None:
    base = guarded.base  # type: ignore[attr-defined]
    target = f"{base}/c/kind-dev/pods?token={TOKEN}&view=a%20b"
    answer = await raw_request(guarded.host, guarded.port, get(target))
    assert answer.status == 302
    assert answer.header("Location") == f"{base}/c/kind-dev/pods?view=a+b"
