"""error_message: what an upstream error body says, for people (pure)."""

from __future__ import annotations

from kubelantern.clusters.bodies import error_message


def test_status_message_wins() -> None:
    body = b'{"kind":"Status","message":"pods is forbidden","code":403}'
    assert error_message(body, 300) == "pods is forbidden"


def test_rancher_capitalised_message() -> None:
    assert error_message(b'{"type":"error","Message":"origin not allowed"}', 300) == (
        "origin not allowed"
    )


def test_plain_text_is_stripped_and_shortened() -> None:
    assert error_message(b"  Unauthorized\n", 300) == "Unauthorized"
    assert error_message(b"x" * 500, 80) == "x" * 80


def test_empty_body_says_nothing() -> None:
    assert error_message(b" \n", 300) is None
