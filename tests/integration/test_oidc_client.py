"""The OIDC client against the loopback provider over HTTPS (real sockets, TLS verified with
--oidc-ca-file): the whole code flow, refresh, key rotation, and each refusal's message."""

from __future__ import annotations

import asyncio
import time
from collections.abc import AsyncIterator, Iterator
from urllib.parse import parse_qs, urlsplit

import aiohttp
import pytest
from joserfc.jwk import RSAKey

from kubelantern.identity.client import OidcClient
from kubelantern.identity.flow import CallbackError, check_callback
from kubelantern.identity.jwks import IdTokenError
from kubelantern.identity.oidc import ClientConfig, OidcError, basic_authorization
from kubelantern.identity.pkce import Pending
from kubelantern.identity.user import UserSession
from tests.harness.oidc_provider import OidcProvider, start_provider
from tests.harness.pki import Pki

REDIRECT = "https://kl.example.com/kl/oidc-callback"


@pytest.fixture
def idp(pki: Pki) -> Iterator[OidcProvider]:
    provider, server = start_provider(
        pki.server_context(), auto_user="alice", redirect_uris=[REDIRECT]
    )
    yield provider
    server.stop()


@pytest.fixture
async def client(idp: OidcProvider, pki: Pki) -> AsyncIterator[OidcClient]:
    oidc = make_client(idp, pki)
    yield oidc
    await oidc.close()


def make_client(idp: OidcProvider, pki: Pki, **changes: object) -> OidcClient:
    config = ClientConfig(
        issuer=str(changes.pop("issuer", idp.issuer)),
        client_id=idp.client_id,
        client_secret=idp.client_secret,
        redirect_uri=REDIRECT,
    )
    return OidcClient(config, ca_file=pki.ca_file, jwks_min_refetch=0, **changes)  # type: ignore[arg-type]


async def authorize(url: str, pki: Pki) -> dict[str, str]:
    """What the browser does: follow to the provider, come back with the callback's query."""
    async with (
        aiohttp.ClientSession() as http,
        http.get(url, ssl=pki.client_context(), allow_redirects=False) as resp,
    ):
        assert resp.status == 302, await resp.text()
        location = resp.headers["Location"]
    assert location.startswith(REDIRECT + "?")
    return {k: v[0] for k, v in parse_qs(urlsplit(location).query).items()}


async def sign_in(client: OidcClient, pki: Pki) -> tuple[Pending, dict[str, str]]:
    pending, url = await client.start("/kl/c/kind-dev")
    return pending, await authorize(url, pki)


async def test_code_flow_signs_in(idp: OidcProvider, pki: Pki, client: OidcClient) -> None:
    pending, query = await sign_in(client, pki)
    code = check_callback(query, pending)
    session = await client.exchange(code, pending)
    assert session.sub == "user-alice" and session.name == "Alice Example"
    assert session.bearer.count(".") == 2 and session.refresh_token
    assert session.expires_at > time.time() + 200
    # The token request repeated the redirect_uri and proved PKCE.
    sent = idp.token_requests[-1]
    assert sent["redirect_uri"] == REDIRECT
    assert sent["code_verifier"] == pending.verifier
    assert sent["grant_type"] == "authorization_code" and "client_secret" not in sent


async def test_refresh_gives_a_new_bearer_and_rotated_refresh_token(
    idp: OidcProvider, pki: Pki, client: OidcClient
) -> None:
    idp.id_token_ttl = 5  # short-lived: the session wants a refresh at once
    pending, query = await sign_in(client, pki)
    first = await client.exchange(check_callback(query, pending), pending)
    assert first.needs_refresh(time.time())
    await asyncio.sleep(1.1)  # iat/exp are whole seconds: make the new token differ
    second = await client.refresh(first)
    assert second.sub == first.sub and second.bearer != first.bearer
    assert second.refresh_token != first.refresh_token
    assert second.signed_in_at == first.signed_in_at
    assert idp.token_requests[-1]["grant_type"] == "refresh_token"
    # The used refresh token is gone at the provider: a replay is refused, clearly.
    with pytest.raises(OidcError, match="refresh token unknown, used or revoked"):
        await client.refresh(first)
    with pytest.raises(OidcError, match="no refresh token"):
        await client.refresh(UserSession(**{**first.to_dict(), "refresh_token": None}))


async def test_key_rotation_is_followed(idp: OidcProvider, pki: Pki, client: OidcClient) -> None:
    pending, query = await sign_in(client, pki)
    assert await client.exchange(check_callback(query, pending), pending)
    idp.rotate(drop_old=True)  # new key id, the old key withdrawn
    pending, query = await sign_in(client, pki)
    session = await client.exchange(check_callback(query, pending), pending)
    assert session.sub == "user-alice"


@pytest.mark.parametrize(
    ("misbehave", "message"),
    [
        ({"id_token_overrides": {"aud": "another-app"}}, "not for this client"),
        ({"id_token_overrides": {"iss": "https://evil.example.com"}}, "issuer is"),
        ({"id_token_ttl": -600}, "expired"),
        ({"forge_with": RSAKey.generate_key(2048)}, "signature does not verify"),
        ({"id_token_overrides": {"nonce": "from-another-sign-in"}}, "nonce does not match"),
    ],
    ids=["wrong-aud", "wrong-iss", "expired", "bad-signature", "wrong-nonce"],
)
async def test_bad_id_tokens_are_refused(
    idp: OidcProvider, pki: Pki, client: OidcClient, misbehave: dict[str, object], message: str
) -> None:
    for key, value in misbehave.items():
        setattr(idp, key, value)
    pending, query = await sign_in(client, pki)
    with pytest.raises(IdTokenError, match=message):
        await client.exchange(check_callback(query, pending), pending)


async def test_replayed_callback_and_code_are_refused(
    idp: OidcProvider, pki: Pki, client: OidcClient
) -> None:
    pending, query = await sign_in(client, pki)
    code = check_callback(query, pending)
    assert await client.exchange(code, pending)
    # The flow cookie is cleared after the callback: a replay finds nothing pending.
    with pytest.raises(CallbackError, match="no sign-in is in progress"):
        check_callback(query, None)
    # Even with the old pending state, the provider refuses the used code.
    with pytest.raises(OidcError, match="authorization code already used"):
        await client.exchange(code, pending)
    # A callback from another sign-in (state mismatch) is refused before any exchange.
    other, _ = await client.start("/")
    with pytest.raises(CallbackError, match="state does not match"):
        check_callback(query, other)


async def test_pkce_verifier_missing_or_wrong_is_refused(
    idp: OidcProvider, pki: Pki, client: OidcClient
) -> None:
    pending, query = await sign_in(client, pki)
    wrong = Pending(pending.state, pending.nonce, "w" * 43, pending.return_to)
    with pytest.raises(OidcError, match="PKCE verification failed"):
        await client.exchange(query["code"], wrong)
    # Without any verifier (what a client without PKCE sends), straight at the endpoint.
    pending, query = await sign_in(client, pki)
    meta = await client.metadata()
    async with (
        aiohttp.ClientSession() as http,
        http.post(
            meta.token_endpoint,
            data={
                "grant_type": "authorization_code",
                "code": query["code"],
                "redirect_uri": REDIRECT,
            },
            headers={"Authorization": basic_authorization(idp.client_id, "s3cr3t-client")},
            ssl=pki.client_context(),
        ) as resp,
    ):
        body = await resp.json()
    assert resp.status == 400 and body["error_description"] == "PKCE code_verifier missing"


async def test_redirect_uri_must_be_repeated_exactly(
    idp: OidcProvider, pki: Pki, client: OidcClient
) -> None:
    pending, query = await sign_in(client, pki)
    client.config = ClientConfig(
        client.config.issuer,
        client.config.client_id,
        client.config.client_secret,
        REDIRECT + "/other",
    )
    with pytest.raises(OidcError, match="redirect_uri does not match"):
        await client.exchange(query["code"], pending)


async def test_discovery_and_tls_failures_say_what_to_do(idp: OidcProvider, pki: Pki) -> None:
    wrong = make_client(idp, pki, issuer=idp.base_url + "/realms/other")
    try:
        with pytest.raises(OidcError, match=r"answered 404; check --oidc-issuer-url"):
            await wrong.start("/")
    finally:
        await wrong.close()
    # Without --oidc-ca-file the throwaway CA is unknown: TLS verification refuses.
    config = ClientConfig(idp.issuer, idp.client_id, idp.client_secret, REDIRECT)
    untrusted = OidcClient(config)
    try:
        with pytest.raises(OidcError, match="certificate verify failed"):
            await untrusted.start("/")
    finally:
        await untrusted.close()
    with pytest.raises(OidcError, match="--oidc-ca-file"):
        OidcClient(config, ca_file=pki.folder / "missing.crt")
