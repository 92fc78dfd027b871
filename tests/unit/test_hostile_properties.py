"""Property tests (hypothesis) for what hostile clients control: the `Sec-WebSocket-
Protocol` offer and the API path after the cluster name. (The cluster-name resolver and
the kubeconfig merge have theirs in test_cluster_paths_rule.py and
test_kubeconfig_properties.py.)"""

from __future__ import annotations

import base64
import os
import tempfile
from pathlib import Path
from typing import Any
from urllib.parse import unquote

import yaml
from hypothesis import given, settings
from hypothesis import strategies as st
from yarl import URL

from kubelantern.clusters.kubeconfig import load_kubeconfigs
from kubelantern.clusters.paths import ApiPathError, join_upstream, validate_api_path
from kubelantern.proxy.subprotocols import (
    BEARER_PREFIX,
    SESSION_PREFIX,
    Offer,
    SubprotocolError,
    decode_bearer,
    encode_bearer,
    parse_offer,
    redact,
    upstream_protocols,
)
from tests.unit.test_kubeconfig_properties import kubeconfig_files

# RFC 7230 token characters: what a real subprotocol name is made of.
TCHARS = "!#$%&'*+-.^_`|~0123456789abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ"
protocol = st.text(TCHARS, min_size=1, max_size=30).filter(
    lambda p: not p.startswith((BEARER_PREFIX, SESSION_PREFIX))
)
# What a token may be: no whitespace or control characters (it becomes a header value).
token = st.text(
    st.characters(codec="utf-8", min_codepoint=0x21, exclude_characters="\x7f"),
    min_size=1,
    max_size=200,
)
session_id = st.text("abcXYZ019_-", min_size=16, max_size=64)


@settings(max_examples=500, deadline=None)
@given(st.lists(st.text(max_size=200), max_size=5))
def test_any_offer_parses_or_is_refused_with_a_4xx(values: list[str]) -> None:
    try:
        offer = parse_offer(values)
    except SubprotocolError as e:
        assert e.status in (400, 401) and e.message
        return
    for entry in offer.protocols:
        assert entry and entry == entry.strip() and "," not in entry
        assert not entry.startswith((BEARER_PREFIX, SESSION_PREFIX))
    if offer.token is not None:
        assert offer.token and all(0x20 < ord(c) != 0x7F for c in offer.token)


@settings(max_examples=150, deadline=None)
@given(
    protocols=st.lists(protocol, max_size=5),
    secret=st.none() | token,
    session=st.none() | session_id,
    data=st.data(),
)
def test_offer_round_trips_whatever_the_order_and_spacing(
    protocols: list[str], secret: str | None, session: str | None, data: st.DataObject
) -> None:
    entries = list(protocols)
    for extra in (
        encode_bearer(secret) if secret is not None else None,
        SESSION_PREFIX + session if session is not None else None,
    ):
        if extra is not None:
            entries.insert(data.draw(st.integers(0, len(entries))), extra)
    # Spread over header lines with random spaces around the commas.
    lines: list[str] = []
    for entry in entries:
        space = data.draw(st.sampled_from(["", " ", "  "]))
        if lines and data.draw(st.booleans()):
            lines[-1] += f",{space}{entry}{space}"
        else:
            lines.append(f"{space}{entry}")
    assert parse_offer(lines) == Offer(tuple(protocols), secret, session)


@settings(max_examples=300, deadline=None)
@given(token)
def test_every_base64_spelling_of_a_token_decodes_to_it(secret: str) -> None:
    raw = secret.encode()
    for encoded in (base64.urlsafe_b64encode(raw), base64.b64encode(raw)):
        text = encoded.decode()
        assert decode_bearer(text) == secret
        assert decode_bearer(text.rstrip("=")) == secret


@settings(max_examples=300, deadline=None)
@given(protocols=st.lists(protocol, max_size=4), secret=token, session=st.none() | session_id)
def test_upstream_never_gets_the_session_entry_and_the_token_only_when_asked(
    protocols: list[str], secret: str, session: str | None
) -> None:
    offer = Offer(tuple(protocols), secret, session)
    plain = upstream_protocols(offer, None)
    assert plain == tuple(protocols)
    placed = upstream_protocols(offer, secret)
    if protocols:  # kube-apiserver refuses a bearer entry offered alone
        assert placed == (*protocols, encode_bearer(secret))
    else:
        assert placed == ()
    for listed in (plain, placed):
        assert not any(p.startswith(SESSION_PREFIX) for p in listed)
    shown = " ".join(redact(placed))
    assert encode_bearer(secret) not in shown
    assert encode_bearer(secret).removeprefix(BEARER_PREFIX) not in shown


# -- API paths -------------------------------------------------------------------------

segment_chars = st.sampled_from(
    ["a", "b", ".", "..", "%2e", "%2E", "%2f", "%2F", "%5c", "%00", "%0a", "%25", "%252e",
     "\\", "x%2F..", "..%2F", "%2e%2e", ";", "~", "%", "%zz", "é"]
)  # fmt: skip
api_path = st.lists(st.lists(segment_chars, max_size=4).map("".join), min_size=1, max_size=8).map(
    lambda segments: "/" + "/".join(segments)
)


@settings(max_examples=400, deadline=None)
@given(api_path, st.sampled_from(["", "/k8s/clusters/c-m-abc12", "/prefix/"]))
def test_an_accepted_api_path_never_climbs_out_of_the_cluster_prefix(
    path: str, prefix: str
) -> None:
    try:
        checked = validate_api_path(path)
    except ApiPathError as e:
        assert e.status == 400
        return
    assert checked == path
    # What an API server does with it: decode once, split, resolve dot segments.
    decoded = unquote(path)
    parts = decoded.split("/")
    assert ".." not in parts and "." not in parts, path
    assert "\\" not in decoded and not any(ord(c) < 0x20 or ord(c) == 0x7F for c in decoded)
    server = URL(f"https://127.0.0.1:6443{prefix}")
    joined = join_upstream(server, checked, "a=b")
    assert joined.raw_path.startswith(server.raw_path.rstrip("/") + "/")
    assert joined.host == "127.0.0.1" and joined.port == 6443
    assert joined.raw_query_string == "a=b"


# -- kubeconfig merge order ------------------------------------------------------------

current = st.none() | st.sampled_from(["", "a", "b", "a/b"]) | st.integers(0, 3)


@settings(max_examples=60, deadline=None)
@given(files=kubeconfig_files(), currents=st.lists(current, min_size=4, max_size=4))
def test_current_context_is_the_first_non_empty_one_and_env_order_equals_flag_order(
    files: list[dict[str, Any]], currents: list[Any]
) -> None:
    with tempfile.TemporaryDirectory() as tmp:
        paths = []
        for i, doc in enumerate(files):
            if currents[i] is not None:
                doc = {**doc, "current-context": currents[i]}
            path = Path(tmp) / f"k{i}"
            path.write_text(yaml.safe_dump(doc))
            paths.append(path)
        by_flag = load_kubeconfigs(paths, env={}, home=Path(tmp))
        env = {"KUBECONFIG": os.pathsep.join(str(p) for p in paths)}
        by_env = load_kubeconfigs(None, env=env, home=Path(tmp))
    wanted = next((c for c in currents[: len(files)] if isinstance(c, str) and c), None)
    assert by_flag.current_context == wanted
    assert by_env.current_context == wanted
    assert [(s.name, s.server, s.auth.token) for s in by_flag.specs] == [
        (s.name, s.server, s.auth.token) for s in by_env.specs
    ]
    assert [str(e) for e in by_flag.errors] == [str(e) for e in by_env.errors]
