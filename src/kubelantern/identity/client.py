"""The IO half of OIDC: discovery, JWKS, code exchange, refresh — over aiohttp, with TLS
verification on (system CAs, or --oidc-ca-file). The decisions are in `oidc.py`/`jwks.py`."""

from __future__ import annotations

import asyncio
import ssl
import time
from pathlib import Path
from typing import Any

import aiohttp
from joserfc.jwk import KeySet

from kubelantern.identity.jwks import DEFAULT_LEEWAY, IdTokenError, JwksCache, import_jwks
from kubelantern.identity.oidc import (
    ClientConfig,
    OidcError,
    ProviderMetadata,
    TokenRequest,
    TokenSet,
    authorization_url,
    basic_authorization,
    code_request,
    discovery_url,
    end_session_url,
    parse_discovery,
    parse_token_response,
    refresh_request,
)
from kubelantern.identity.pkce import Pending, new_pending
from kubelantern.identity.user import UserSession, session_from_tokens


def provider_ssl_context(ca_file: Path | None) -> ssl.SSLContext:
    ctx = ssl.create_default_context()
    if ca_file is not None:
        try:
            ctx.load_verify_locations(cafile=str(ca_file))
        except (OSError, ssl.SSLError) as e:
            raise OidcError(f"--oidc-ca-file {ca_file}: cannot load it ({e})") from None
    return ctx


class OidcClient:
    def __init__(
        self,
        config: ClientConfig,
        *,
        ca_file: Path | None = None,
        timeout: float = 15.0,
        leeway: float = DEFAULT_LEEWAY,
        jwks_min_refetch: float = 30.0,
    ) -> None:
        self.config = config
        self._ssl = provider_ssl_context(ca_file)
        self._timeout = aiohttp.ClientTimeout(total=timeout)
        self._session: aiohttp.ClientSession | None = None
        self._meta: ProviderMetadata | None = None
        self._meta_lock = asyncio.Lock()
        self._leeway = leeway
        self.keys = JwksCache(self._fetch_keys, min_refetch=jwks_min_refetch)

    def _http(self) -> aiohttp.ClientSession:
        if self._session is None or self._session.closed:
            self._session = aiohttp.ClientSession(
                timeout=self._timeout, connector=aiohttp.TCPConnector(ssl=self._ssl)
            )
        return self._session

    async def close(self) -> None:
        if self._session is not None:
            await self._session.close()

    async def _get_json(self, url: str, what: str) -> Any:
        try:
            async with self._http().get(url, headers={"Accept": "application/json"}) as resp:
                if resp.status != 200:
                    raise OidcError(
                        f"the provider's {what} at {url} answered {resp.status}; check "
                        "--oidc-issuer-url"
                    )
                return await resp.json(content_type=None)
        except (aiohttp.ClientError, TimeoutError, ValueError) as e:
            raise OidcError(f"cannot read the provider's {what} at {url} ({_reason(e)})") from None

    async def metadata(self) -> ProviderMetadata:
        """Discovery, once; a failed attempt is tried again on the next sign-in."""
        async with self._meta_lock:
            if self._meta is None:
                url = discovery_url(self.config.issuer)
                doc = await self._get_json(url, "discovery document")
                self._meta = parse_discovery(doc, self.config.issuer)
            return self._meta

    async def _fetch_keys(self) -> KeySet:
        meta = await self.metadata()
        return import_jwks(await self._get_json(meta.jwks_uri, "JWKS"), meta.issuer)

    async def start(self, return_to: str) -> tuple[Pending, str]:
        """A new sign-in: what to remember, and where to send the browser."""
        meta = await self.metadata()
        pending = new_pending(return_to)
        url = authorization_url(
            meta,
            self.config,
            state=pending.state,
            nonce=pending.nonce,
            challenge=pending.challenge,
        )
        return pending, url

    async def _post(self, req: TokenRequest) -> TokenSet:
        headers = {"Accept": "application/json"}
        if req.basic_auth is not None:
            headers["Authorization"] = basic_authorization(*req.basic_auth)
        try:
            async with self._http().post(req.url, data=req.form, headers=headers) as resp:
                try:
                    body = await resp.json(content_type=None)
                except ValueError:
                    body = None
                return parse_token_response(resp.status, body, self.config.issuer)
        except (aiohttp.ClientError, TimeoutError) as e:
            raise OidcError(
                f"cannot reach the provider's token endpoint {req.url} ({_reason(e)})"
            ) from None

    async def _verify(self, id_token: str, nonce: str | None, now: float) -> dict[str, Any]:
        meta = await self.metadata()
        return await self.keys.verify(
            id_token,
            issuer=meta.issuer,
            client_id=self.config.client_id,
            nonce=nonce,
            algorithms=meta.algorithms,
            now=now,
            leeway=self._leeway,
        )

    async def exchange(self, code: str, pending: Pending, now: float | None = None) -> UserSession:
        """The callback's code → tokens → verified ID token → a session."""
        meta = await self.metadata()
        tokens = await self._post(
            code_request(meta, self.config, code=code, verifier=pending.verifier)
        )
        if tokens.id_token is None:
            raise IdTokenError("the provider returned no ID token (is `openid` in the scopes?)")
        now = time.time() if now is None else now
        claims = await self._verify(tokens.id_token, pending.nonce, now)
        return session_from_tokens(
            tokens, claims, use_access_token=self.config.use_access_token, now=now
        )

    async def refresh(self, session: UserSession, now: float | None = None) -> UserSession:
        """A fresh bearer for `session`; OidcError when the provider says no."""
        if session.refresh_token is None:
            raise OidcError("the session has no refresh token; sign in again")
        meta = await self.metadata()
        tokens = await self._post(
            refresh_request(meta, self.config, refresh_token=session.refresh_token)
        )
        now = time.time() if now is None else now
        if tokens.id_token is None:
            if not self.config.use_access_token:
                raise OidcError("the provider's refresh answer has no ID token; sign in again")
            claims: dict[str, Any] = {
                "sub": session.sub,
                "name": session.name,
                "email": session.email,
                "exp": session.expires_at,
            }
        else:
            claims = await self._verify(tokens.id_token, None, now)
            if claims.get("sub") != session.sub:
                raise IdTokenError("the refreshed ID token is for another user")
        return session_from_tokens(
            tokens,
            claims,
            use_access_token=self.config.use_access_token,
            now=now,
            signed_in_at=session.signed_in_at,
            previous_refresh_token=session.refresh_token,
        )

    async def logout_url(self, post_logout_redirect_uri: str) -> str | None:
        try:
            meta = await self.metadata()
        except OidcError:
            return None  # signing out of kubelantern still works
        return end_session_url(meta, self.config, post_logout_redirect_uri=post_logout_redirect_uri)


def _reason(e: BaseException) -> str:
    return str(e) or type(e).__name__
