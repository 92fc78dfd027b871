"""Client subprotocol offers: bearer extraction (lenient), garbage, upstream lists."""

from __future__ import annotations

import base64

import pytest

from kubelantern.proxy.subprotocols import (
    BEARER_PREFIX,
    Offer,
    SubprotocolError,
    decode_bearer,
    encode_bearer,
    parse_offer,
    redact,
    upstream_protocols,
)

TOKEN = "token-x7k2p:l0ngsecretvalue0123456789"
# A token whose base64 holds `+` and `/` in the standard alphabet: `?>?>` -> Pz4/Pg==
AWKWARD = "a?>?>~~~"


def test_encode_is_raw_url_base64() -> None:
    entry = encode_bearer(AWKWARD)
    encoded = entry.removeprefix(BEARER_PREFIX)
    assert "=" not in encoded and "+" not in encoded and "/" not in encoded
    assert base64.urlsafe_b64decode(encoded + "=" * (-len(encoded) % 4)).decode() == AWKWARD


@pytest.mark.parametrize(
    "encoded",
    [
        base64.urlsafe_b64encode(AWKWARD.encode()).decode().rstrip("="),  # RawURL (kube)
        base64.urlsafe_b64encode(AWKWARD.encode()).decode(),  # URL, padded
        base64.b64encode(AWKWARD.encode()).decode(),  # btoa(): standard, padded
        base64.b64encode(AWKWARD.encode()).decode().rstrip("="),  # btoa() minus padding
    ],
)
def test_decode_is_lenient_like_headlamp(encoded: str) -> None:
    assert decode_bearer(encoded) == AWKWARD


def test_parse_offer_takes_out_the_bearer_entry_and_keeps_order() -> None:
    offer = parse_offer([f"v5.channel.k8s.io, {encode_bearer(TOKEN)}", "v4.channel.k8s.io"])
    assert offer == Offer(("v5.channel.k8s.io", "v4.channel.k8s.io"), TOKEN)


def test_no_header_and_blank_header_mean_no_protocols() -> None:
    assert parse_offer([]) == Offer(())
    assert parse_offer(["  "]) == Offer(())


@pytest.mark.parametrize(
    ("values", "status", "text"),
    [
        ([f"{encode_bearer('a')},{encode_bearer('b')},v4.channel.k8s.io"], 400, "more than one"),
        ([f"{BEARER_PREFIX}!!notbase64!!,v4.channel.k8s.io"], 401, "invalid base64"),
        ([f"{BEARER_PREFIX},v4.channel.k8s.io"], 401, "empty bearer"),
        (["v4.channel.k8s.io,,binary.k8s.io"], 400, "empty entry"),
        ([f"{BEARER_PREFIX}{base64.b64encode(b'a b').decode()},x"], 401, "invalid characters"),
        ([f"{BEARER_PREFIX}{base64.b64encode(bytes([0xFF, 0xFE])).decode()},x"], 401, "UTF-8"),
    ],
)
def test_garbage_offers_are_refused_with_a_clear_status(
    values: list[str], status: int, text: str
) -> None:
    with pytest.raises(SubprotocolError) as err:
        parse_offer(values)
    assert err.value.status == status
    assert text in err.value.message
    assert "a b" not in err.value.message  # never echo the token


def test_upstream_list_places_token_only_next_to_another_protocol() -> None:
    offer = Offer(("v4.channel.k8s.io",), TOKEN)
    assert upstream_protocols(offer, None) == ("v4.channel.k8s.io",)
    assert upstream_protocols(offer, TOKEN) == ("v4.channel.k8s.io", encode_bearer(TOKEN))
    # kube-apiserver refuses a bearer entry on its own ("missing additional subprotocol").
    assert upstream_protocols(Offer((), TOKEN), TOKEN) == ()


def test_redact_hides_tokens() -> None:
    shown = redact(["v4.channel.k8s.io", encode_bearer(TOKEN)])
    assert shown == ["v4.channel.k8s.io", BEARER_PREFIX + "<redacted>"]
