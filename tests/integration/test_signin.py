"""Team mode's sign-in over real sockets: kubelantern's sign-in edge (web/signin.py) in
front of a protected handler, the loopback OIDC provider over HTTPS, an aiohttp client with
a cookie jar standing in for the browser."""

from __future__ import annotations

import asyncio
from collections.abc import Callable, Iterator
from http.cookies import SimpleCookie
from urllib.parse import parse_qs, urlsplit

import aiohttp
import pytest
from aiohttp import web
from yarl import URL

from kubelantern.identity.client import OidcClient
from kubelantern.identity.oidc import ClientConfig
from kubelantern.identity.request import request_user
from kubelantern.identity.sessions import Sealer
from kubelantern.web import signin as signin_mod
from kubelantern.web.signin import SESSION_COOKIE, SignIn
from tests.harness.oidc_provider import OidcProvider, start_provider
from tests.harness.pki import Pki
from tests.harness.servers import ServerThread, free_port

SECRET = "team-secret-0123456789-abcdefghijklmnop"
OLD_SECRET = "older-secret-0123456789-abcdefghijklmno"


@pytest.fixture
def idp(pki: Pki) -> Iterator[OidcProvider]:
    provider, server = start_provider(pki.server_context(), auto_user="alice")
    yield provider
    server.stop()


async def whoami(request: web.Request) -> web.Response:
    user = request_user(request)
    assert user is not None  # the middleware lets no anonymous request through
    return web.json_response({"sub": user.sub, "name": user.name, "bearer": user.bearer})


async def ws_echo(request: web.Request) -> web.WebSocketResponse:
    ws = web.WebSocketResponse()
    await ws.prepare(request)
    user = request_user(request)
    await ws.send_str(user.sub if user else "nobody")
    await ws.close()
    return ws


Factory = Callable[..., ServerThread]


@pytest.fixture
def replicas(idp: OidcProvider, pki: Pki) -> Iterator[Factory]:
    made: list[ServerThread] = []

    def factory(secret: str = SECRET, old: tuple[str, ...] = (), **changes: object) -> ServerThread:
        holder: dict[str, str] = {}

        def app() -> web.Application:
            application = web.Application()
            config = ClientConfig(
                issuer=idp.issuer,
                client_id=idp.client_id,
                client_secret=idp.client_secret,
                redirect_uri=f"{holder['url']}/oidc-callback",
            )
            signin = SignIn(
                sealer=Sealer(secret, old),
                oidc=OidcClient(config, ca_file=pki.ca_file),
                public_url=holder["url"],
                secure=False,  # plain http on loopback in this test
                **changes,  # type: ignore[arg-type]
            )
            signin_mod.install(application, signin)
            application.router.add_get("/api/whoami", whoami)
            application.router.add_get("/ws", ws_echo)
            return application

        port = free_port()
        holder["url"] = f"http://127.0.0.1:{port}"
        server = ServerThread(app, port=port).start()
        made.append(server)
        return server

    yield factory
    for s in made:
        s.stop()


def jar() -> aiohttp.CookieJar:
    return aiohttp.CookieJar(unsafe=True)  # cookies for 127.0.0.1


async def sign_in(
    http: aiohttp.ClientSession, lantern: str, pki: Pki, return_to: str = "/c/x"
) -> aiohttp.ClientResponse:
    """Browser steps: our login → provider → our callback; the callback's response."""
    async with http.get(
        f"{lantern}/oidc/login", params={"return_to": return_to}, allow_redirects=False
    ) as resp:
        assert resp.status == 302, await resp.text()
        to_provider = resp.headers["Location"]
    async with http.get(to_provider, allow_redirects=False, ssl=pki.client_context()) as resp:
        assert resp.status == 302, await resp.text()
        back = resp.headers["Location"]
    assert back.startswith(f"{lantern}/oidc-callback?")
    resp = await http.get(back, allow_redirects=False)
    await resp.read()
    return resp


async def test_sign_in_sets_an_opaque_session_cookie(
    replicas: Factory, idp: OidcProvider, pki: Pki
) -> None:
    lantern = replicas().url
    async with aiohttp.ClientSession(cookie_jar=jar()) as http:
        resp = await sign_in(http, lantern, pki)
        assert resp.status == 302 and resp.headers["Location"] == "/c/x"
        set_cookies = resp.headers.getall("Set-Cookie")
        session_line = next(c for c in set_cookies if c.startswith(f"{SESSION_COOKIE}="))
        attrs = session_line.lower()
        assert "httponly" in attrs and "samesite=lax" in attrs and "path=/" in attrs
        assert len(session_line) < 4096
        value = SimpleCookie(session_line)[SESSION_COOKIE].value
        for secret in ("alice", "Alice", "example.com", "eyJ", "user-alice"):
            assert secret not in value
        # The flow cookie is spent.
        assert any(c.startswith("kl-oidc-flow=;") or 'kl-oidc-flow=""' in c for c in set_cookies)
        async with http.get(f"{lantern}/api/whoami") as who:
            assert who.status == 200
            body = await who.json()
        assert body["sub"] == "user-alice" and body["name"] == "Alice Example"
        async with http.get(f"{lantern}/api/me") as me:
            assert (await me.json())["name"] == "Alice Example"


async def test_replayed_callback_is_refused(replicas: Factory, pki: Pki) -> None:
    lantern = replicas().url
    async with aiohttp.ClientSession(cookie_jar=jar()) as http:
        async with http.get(f"{lantern}/oidc/login", allow_redirects=False) as resp:
            to_provider = resp.headers["Location"]
        async with http.get(to_provider, allow_redirects=False, ssl=pki.client_context()) as resp:
            back = resp.headers["Location"]
        async with http.get(back, allow_redirects=False) as first:
            assert first.status == 302
        async with http.get(back, allow_redirects=False) as replay:
            assert replay.status == 400
            assert "no sign-in is in progress" in await replay.text()


async def test_any_replica_with_the_secret_serves_the_session(replicas: Factory, pki: Pki) -> None:
    one, two = replicas(), replicas()
    rotated = replicas(secret="brand-new-secret-0123456789-abcdefghijk", old=(SECRET,))
    stranger = replicas(secret=OLD_SECRET)
    async with aiohttp.ClientSession(cookie_jar=jar()) as http:
        await sign_in(http, one.url, pki)
        cookie = {
            SESSION_COOKIE: http.cookie_jar.filter_cookies(URL(one.url))[SESSION_COOKIE].value
        }
    async with aiohttp.ClientSession(cookies=cookie) as http:
        for server in (two, rotated):
            async with http.get(f"{server.url}/api/whoami") as resp:
                assert resp.status == 200 and (await resp.json())["sub"] == "user-alice"
        async with http.get(f"{stranger.url}/api/whoami") as resp:
            assert resp.status == 401
            assert "session secret we no longer have" in (await resp.json())["message"]


@pytest.mark.parametrize("accept", ["application/json", "text/html"])
async def test_tampered_cookie_gets_401_or_the_sign_in_page(
    replicas: Factory, pki: Pki, accept: str
) -> None:
    lantern = replicas().url
    async with aiohttp.ClientSession(cookie_jar=jar()) as http:
        await sign_in(http, lantern, pki)
        value = http.cookie_jar.filter_cookies(URL(lantern))[SESSION_COOKIE].value
    flipped = value[:-3] + ("A" if value[-3] != "A" else "B") + value[-2:]
    for bad in (flipped, "1~v1.garbage", "junk", "1~" + "x" * 3000):
        async with aiohttp.ClientSession(cookies={SESSION_COOKIE: bad}) as http:
            async with http.get(
                f"{lantern}/api/whoami" if accept != "text/html" else f"{lantern}/c/x",
                headers={"Accept": accept},
                allow_redirects=False,
            ) as resp:
                if accept == "text/html":
                    assert resp.status == 302
                    assert resp.headers["Location"].startswith("/oidc/login?return_to=/c/x")
                else:
                    assert resp.status == 401
                    assert "sign in at" in (await resp.json())["message"]
                assert any(
                    c.startswith(f"{SESSION_COOKIE}=") for c in resp.headers.getall("Set-Cookie")
                )


async def test_refresh_before_expiry_for_http_and_websocket(
    replicas: Factory, idp: OidcProvider, pki: Pki
) -> None:
    idp.id_token_ttl = 6
    lantern = replicas(refresh_before=4).url  # refresh once less than 4 s are left
    async with aiohttp.ClientSession(cookie_jar=jar()) as http:
        await sign_in(http, lantern, pki)
        async with http.get(f"{lantern}/api/whoami") as resp:
            first = (await resp.json())["bearer"]
        grants = [r["grant_type"] for r in idp.token_requests]
        assert grants == ["authorization_code"]
        await asyncio.sleep(2.2)
        async with http.get(f"{lantern}/api/whoami") as resp:
            assert resp.status == 200
            second = (await resp.json())["bearer"]
            assert any(
                c.startswith(f"{SESSION_COOKIE}=") for c in resp.headers.getall("Set-Cookie")
            )
        assert second != first
        assert [r["grant_type"] for r in idp.token_requests][-1] == "refresh_token"
        # A new WebSocket after the next expiry window: refreshed before the 101, cookie on it.
        await asyncio.sleep(2.2)
        before = len(idp.token_requests)
        async with http.ws_connect(f"{lantern}/ws") as ws:
            assert (await ws.receive_str()) == "user-alice"
        assert idp.token_requests[before]["grant_type"] == "refresh_token"
        async with http.get(f"{lantern}/api/whoami") as resp:
            third = (await resp.json())["bearer"]
        assert third not in (first, second)
        assert len(idp.token_requests) == before + 1  # the 101's cookie carried the refresh


async def test_failed_refresh_signs_out(replicas: Factory, idp: OidcProvider, pki: Pki) -> None:
    idp.id_token_ttl = 3
    lantern = replicas(refresh_before=2.5).url
    async with aiohttp.ClientSession(cookie_jar=jar()) as http:
        await sign_in(http, lantern, pki)
        idp._refresh.clear()  # the provider revoked the refresh token
        await asyncio.sleep(1)
        async with http.get(f"{lantern}/api/whoami") as resp:
            assert resp.status == 401
            assert "could not be renewed" in (await resp.json())["message"]


async def test_logout_clears_and_uses_end_session(
    replicas: Factory, idp: OidcProvider, pki: Pki
) -> None:
    lantern = replicas().url
    async with aiohttp.ClientSession(cookie_jar=jar()) as http:
        await sign_in(http, lantern, pki)
        async with http.post(f"{lantern}/oidc/logout", headers={"Origin": lantern}) as resp:
            body = await resp.json()
        target = urlsplit(body["redirect"])
        assert body["redirect"].startswith(f"{idp.issuer}/protocol/openid-connect/logout?")
        q = parse_qs(target.query)
        assert q["client_id"] == [idp.client_id] and q["post_logout_redirect_uri"] == [
            f"{lantern}/"
        ]
        async with http.get(f"{lantern}/api/whoami") as resp:
            assert resp.status == 401
