"""An OpenID Connect provider on loopback for the tests: authorization code + PKCE S256,
refresh tokens, JWKS with key rotation, end-session — strict like a real one, so the
negative cases (wrong redirect_uri, missing or wrong PKCE verifier, reused code) are real
refusals.

Its issuer has a path (`<url>/realms/team`, as Keycloak's do). The login page is a small
HTML form (Chromium fills it in); API tests may set `auto_user` to skip it. Tokens are
short-lived on request so that refresh happens inside a test. JOSE work is joserfc's.
"""

from __future__ import annotations

import base64
import hashlib
import html
import secrets
import time
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import unquote_plus, urlencode

from aiohttp import web
from joserfc import jwt
from joserfc.jwk import ECKey, RSAKey

REALM = "/realms/team"
USERS: dict[str, dict[str, Any]] = {
    "alice": {"name": "Alice Example", "email": "alice@example.com", "groups": ["devs"]},
    "bob": {"name": "Bob Example", "email": "bob@example.com", "groups": ["ops"]},
}


@dataclass
class _Grant:
    client_id: str
    redirect_uri: str
    user: str
    nonce: str | None
    challenge: str
    method: str
    made: float
    used: bool = False


@dataclass
class OidcProvider:
    """Mutable test double of an IdP; `app()` is its aiohttp application."""

    client_id: str = "kubelantern"
    client_secret: str | None = "s3cr3t-client"
    redirect_uris: list[str] = field(default_factory=list)  # empty: any (set it in tests)
    id_token_ttl: float = 300.0
    access_token_ttl: float = 300.0
    auth_method: str = "client_secret_basic"  # or client_secret_post
    auto_user: str | None = None  # skip the login form
    rotate_refresh_tokens: bool = True
    base_url: str = ""  # set once the server listens
    # Misbehaviour on request, for the negative cases through the real flow:
    id_token_overrides: dict[str, Any] = field(default_factory=dict)  # e.g. {"aud": "x"}
    forge_with: RSAKey | ECKey | None = None  # sign ID tokens with a key not published
    keys: list[RSAKey | ECKey] = field(default_factory=list)
    # Recorded for assertions.
    token_requests: list[dict[str, str]] = field(default_factory=list)
    logouts: list[dict[str, str]] = field(default_factory=list)
    _grants: dict[str, _Grant] = field(default_factory=dict)
    _refresh: dict[str, tuple[str, str]] = field(default_factory=dict)  # token → (user, client)

    def __post_init__(self) -> None:
        if not self.keys:
            self.keys.append(RSAKey.generate_key(2048, parameters={"kid": "key-1", "use": "sig"}))

    @property
    def issuer(self) -> str:
        return self.base_url + REALM

    @property
    def signing_key(self) -> RSAKey | ECKey:
        return self.keys[-1]

    def rotate(self, *, drop_old: bool = False) -> str:
        """Sign with a new key from now on (published in the JWKS); its key id."""
        kid = f"key-{len(self.keys) + 1}"
        new = ECKey.generate_key("P-256", parameters={"kid": kid, "use": "sig"})
        if drop_old:
            self.keys.clear()
        self.keys.append(new)
        return kid

    # -- tokens ---------------------------------------------------------------------------

    def mint(
        self,
        user: str = "alice",
        *,
        nonce: str | None = None,
        ttl: float | None = None,
        key: RSAKey | ECKey | None = None,
        header: dict[str, Any] | None = None,
        **claims: Any,
    ) -> str:
        """An ID token as this provider makes them; claims override the defaults (for the
        negative tests: another `aud`, `iss`, an `exp` in the past, a foreign key)."""
        now = int(time.time())
        key = key or self.signing_key
        alg = "RS256" if isinstance(key, RSAKey) else "ES256"
        body: dict[str, Any] = {
            "iss": self.issuer,
            "sub": f"user-{user}",
            "aud": self.client_id,
            "azp": self.client_id,
            "iat": now,
            "exp": now + int(self.id_token_ttl if ttl is None else ttl),
            "preferred_username": user,
            **USERS.get(user, {}),
        }
        if nonce is not None:
            body["nonce"] = nonce
        body.update(claims)
        return jwt.encode({"alg": alg, "kid": key.kid, **(header or {})}, body, key)

    def _tokens(self, user: str, client_id: str, nonce: str | None) -> dict[str, Any]:
        overrides = dict(self.id_token_overrides)
        nonce = overrides.pop("nonce", nonce)
        refresh = secrets.token_urlsafe(32)
        self._refresh[refresh] = (user, client_id)
        access = self.mint(
            user, ttl=self.access_token_ttl, typ="Bearer", scope="openid profile email"
        )
        return {
            "token_type": "Bearer",
            "access_token": access,
            "id_token": self.mint(user, nonce=nonce, key=self._forged_key(), **overrides),
            "refresh_token": refresh,
            "expires_in": int(self.access_token_ttl),
        }

    def _forged_key(self) -> RSAKey | ECKey | None:
        """A key that claims the published key id but is not that key."""
        if self.forge_with is None:
            return None
        forged = self.forge_with.as_dict(private=True) | {"kid": self.signing_key.kid}
        return type(self.forge_with).import_key(forged)

    # -- endpoints ------------------------------------------------------------------------

    def app(self) -> web.Application:
        app = web.Application()
        app.router.add_get(f"{REALM}/.well-known/openid-configuration", self._discovery)
        app.router.add_get(f"{REALM}/protocol/openid-connect/auth", self._authorize)
        app.router.add_post(f"{REALM}/protocol/openid-connect/auth", self._authorize)
        app.router.add_post(f"{REALM}/protocol/openid-connect/token", self._token)
        app.router.add_get(f"{REALM}/protocol/openid-connect/certs", self._jwks)
        app.router.add_get(f"{REALM}/protocol/openid-connect/logout", self._logout)
        app.router.add_get("/favicon.ico", self._no_icon)  # browsers ask; a 404 is a console error
        return app

    async def _no_icon(self, request: web.Request) -> web.Response:
        return web.Response(status=204)

    async def _discovery(self, request: web.Request) -> web.Response:
        oc = f"{self.issuer}/protocol/openid-connect"
        return web.json_response(
            {
                "issuer": self.issuer,
                "authorization_endpoint": f"{oc}/auth",
                "token_endpoint": f"{oc}/token",
                "jwks_uri": f"{oc}/certs",
                "end_session_endpoint": f"{oc}/logout",
                "response_types_supported": ["code"],
                "subject_types_supported": ["public"],
                "id_token_signing_alg_values_supported": ["RS256", "ES256"],
                "code_challenge_methods_supported": ["S256"],
                "token_endpoint_auth_methods_supported": [self.auth_method],
                "scopes_supported": ["openid", "profile", "email", "offline_access"],
            }
        )

    async def _jwks(self, request: web.Request) -> web.Response:
        return web.json_response({"keys": [k.as_dict(private=False) for k in self.keys]})

    def _error_page(self, status: int, message: str) -> web.Response:
        return web.Response(status=status, text=f"OIDC test provider: {message}")

    async def _authorize(self, request: web.Request) -> web.Response:
        q = dict(request.query)
        if request.method == "POST":
            q.update({k: str(v) for k, v in (await request.post()).items()})
        if q.get("client_id") != self.client_id:
            return self._error_page(400, "unknown client_id")
        redirect = q.get("redirect_uri", "")
        if self.redirect_uris and redirect not in self.redirect_uris:
            return self._error_page(400, f"redirect_uri {redirect!r} is not registered")
        if q.get("response_type") != "code":
            return self._error_page(400, "response_type must be code")
        if not q.get("code_challenge") or q.get("code_challenge_method") != "S256":
            return self._error_page(400, "PKCE with S256 is required")
        if "openid" not in q.get("scope", "").split():
            return self._error_page(400, "scope must include openid")
        user = q.get("username") or self.auto_user
        if user is None:
            return self._login_form(q)
        if user not in USERS:
            return self._login_form(q, error="unknown user")
        code = secrets.token_urlsafe(24)
        self._grants[code] = _Grant(
            client_id=self.client_id,
            redirect_uri=redirect,
            user=user,
            nonce=q.get("nonce"),
            challenge=q["code_challenge"],
            method="S256",
            made=time.time(),
        )
        params = {"code": code}
        if "state" in q:
            params["state"] = q["state"]
        sep = "&" if "?" in redirect else "?"
        raise web.HTTPFound(redirect + sep + urlencode(params))

    def _login_form(self, q: dict[str, str], error: str | None = None) -> web.Response:
        hidden = "".join(
            f'<input type="hidden" name="{html.escape(k)}" value="{html.escape(v)}">'
            for k, v in q.items()
            if k != "username"
        )
        err = f'<p class="error">{html.escape(error)}</p>' if error else ""
        page = (
            "<!doctype html><title>Test IdP sign-in</title><h1>Test IdP</h1>"
            f'{err}<form method="post">{hidden}'
            '<label>Username <input name="username" autocomplete="username"></label>'
            '<button type="submit">Sign in</button></form>'
        )
        return web.Response(text=page, content_type="text/html")

    def _client_ok(self, request: web.Request, form: dict[str, str]) -> bool:
        if self.client_secret is None:
            return form.get("client_id") == self.client_id
        auth = request.headers.get("Authorization", "")
        if self.auth_method == "client_secret_basic" and auth.startswith("Basic "):
            pair = base64.b64decode(auth[6:]).decode()
            user, _, password = (unquote_plus(p) for p in pair.partition(":"))
            return user == self.client_id and password == self.client_secret
        if self.auth_method == "client_secret_post":
            return (
                form.get("client_id") == self.client_id
                and form.get("client_secret") == self.client_secret
            )
        return False

    async def _token(self, request: web.Request) -> web.Response:
        form = {k: str(v) for k, v in (await request.post()).items()}
        self.token_requests.append(dict(form))

        def error(code: str, desc: str, status: int = 400) -> web.Response:
            return web.json_response({"error": code, "error_description": desc}, status=status)

        if not self._client_ok(request, form):
            return error("invalid_client", "client authentication failed", 401)
        grant_type = form.get("grant_type")
        if grant_type == "authorization_code":
            grant = self._grants.get(form.get("code", ""))
            if grant is None:
                return error("invalid_grant", "unknown authorization code")
            if grant.used:
                return error("invalid_grant", "authorization code already used")
            grant.used = True
            if time.time() - grant.made > 60:
                return error("invalid_grant", "authorization code expired")
            if form.get("redirect_uri") != grant.redirect_uri:
                return error("invalid_grant", "redirect_uri does not match the authorization")
            verifier = form.get("code_verifier")
            if not verifier:
                return error("invalid_grant", "PKCE code_verifier missing")
            digest = hashlib.sha256(verifier.encode()).digest()
            if base64.urlsafe_b64encode(digest).decode().rstrip("=") != grant.challenge:
                return error("invalid_grant", "PKCE verification failed")
            return web.json_response(self._tokens(grant.user, grant.client_id, grant.nonce))
        if grant_type == "refresh_token":
            token = form.get("refresh_token", "")
            found = self._refresh.get(token)
            if found is None:
                return error("invalid_grant", "refresh token unknown, used or revoked")
            if self.rotate_refresh_tokens:
                del self._refresh[token]
            body = self._tokens(found[0], found[1], None)
            if not self.rotate_refresh_tokens:
                del self._refresh[body.pop("refresh_token")]
            return web.json_response(body)
        return error("unsupported_grant_type", f"grant_type {grant_type!r}")

    async def _logout(self, request: web.Request) -> web.Response:
        self.logouts.append(dict(request.query))
        target = request.query.get("post_logout_redirect_uri")
        if target:
            raise web.HTTPFound(target)
        return web.Response(text="signed out")


def start_provider(ssl_context: Any = None, **config: Any) -> tuple[OidcProvider, Any]:
    """The provider on 127.0.0.1 (HTTPS when given a server SSL context) and its server."""
    from tests.harness.servers import ServerThread

    provider = OidcProvider(**config)
    server = ServerThread(provider.app, ssl_context=ssl_context).start()
    provider.base_url = server.url
    return provider, server


async def browser_sign_in(
    http: Any, lantern: str, ssl_context: Any, return_to: str = "/", base: str = ""
) -> Any:
    """What a browser does: kubelantern's login → the provider (auto_user) → kubelantern's
    callback. `http` is an aiohttp ClientSession with a cookie jar; the callback's response."""
    async with http.get(
        f"{lantern}{base}/oidc/login", params={"return_to": return_to}, allow_redirects=False
    ) as resp:
        assert resp.status == 302, await resp.text()
        to_provider = resp.headers["Location"]
    async with http.get(to_provider, allow_redirects=False, ssl=ssl_context) as resp:
        assert resp.status == 302, await resp.text()
        back = resp.headers["Location"]
    resp = await http.get(back, allow_redirects=False)
    await resp.read()
    assert resp.status == 302, await resp.text()
    return resp


def sim_trust(provider: OidcProvider) -> Any:
    """The simulator's OIDC trust in this provider (its JWKS read live: rotation shows)."""
    from kubesim.config import OidcTrust

    return OidcTrust(
        issuer=provider.issuer,
        client_id=provider.client_id,
        jwks=lambda: {"keys": [k.as_dict(private=False) for k in provider.keys]},
    )
