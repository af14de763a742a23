"""Signed subscriber tokens: bound to one subscriber and one purpose; tampering and age are caught."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from newsroom.config import DEV_SECRET
from newsroom.subscribers.tokens import (
    ExpiredToken,
    InvalidToken,
    is_development_key,
    make_token,
    read_token,
    signing_keys,
)

NOW = datetime(2024, 12, 20, 14, 0, tzinfo=UTC)
KEYS = ["a-real-secret-for-tests"]


@pytest.mark.parametrize("purpose", ["unsubscribe", "preferences", "confirm"])
def test_a_token_gives_back_its_subscriber(purpose: str) -> None:
    token = make_token(4242, purpose, NOW, KEYS)  # type: ignore[arg-type]
    assert read_token(token, purpose, NOW, KEYS) == 4242  # type: ignore[arg-type]


def test_a_token_only_opens_the_door_it_was_made_for() -> None:
    unsubscribe = make_token(7, "unsubscribe", NOW, KEYS)
    with pytest.raises(InvalidToken):
        read_token(unsubscribe, "preferences", NOW, KEYS)
    with pytest.raises(InvalidToken):
        read_token(unsubscribe, "confirm", NOW, KEYS)


def test_tokens_differ_per_subscriber_and_purpose() -> None:
    tokens = {make_token(i, p, NOW, KEYS) for i in (1, 2) for p in ("unsubscribe", "preferences")}
    assert len(tokens) == 4


def test_a_tampered_token_is_refused() -> None:
    token = make_token(7, "unsubscribe", NOW, KEYS)
    payload, signature = token.split(".")
    forged = make_token(8, "unsubscribe", NOW, KEYS).split(".")[0] + "." + signature
    for bad in (forged, token[:-2], payload, "", "not-a-token", token + "x"):
        with pytest.raises(InvalidToken):
            read_token(bad, "unsubscribe", NOW, KEYS)


def test_a_token_signed_with_another_key_is_refused() -> None:
    token = make_token(7, "unsubscribe", NOW, ["someone-elses-key"])
    with pytest.raises(InvalidToken):
        read_token(token, "unsubscribe", NOW, KEYS)


def test_a_confirmation_link_expires_after_seven_days() -> None:
    token = make_token(7, "confirm", NOW, KEYS)
    assert read_token(token, "confirm", NOW + timedelta(days=6, hours=23), KEYS) == 7
    with pytest.raises(ExpiredToken) as caught:
        read_token(token, "confirm", NOW + timedelta(days=7, minutes=1), KEYS)
    assert caught.value.subscriber_id == 7


def test_unsubscribe_links_never_expire() -> None:
    token = make_token(7, "unsubscribe", NOW, KEYS)
    assert read_token(token, "unsubscribe", NOW + timedelta(days=3650), KEYS) == 7


def test_old_links_keep_working_while_the_previous_key_is_kept(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("NEWSROOM_SECRET_KEY", "old-key")
    issued = make_token(7, "unsubscribe", NOW)
    monkeypatch.setenv("NEWSROOM_SECRET_KEY", "new-key")
    with pytest.raises(InvalidToken):
        read_token(issued, "unsubscribe", NOW)
    monkeypatch.setenv("NEWSROOM_SECRET_KEY_OLD", "old-key")
    assert read_token(issued, "unsubscribe", NOW) == 7
    assert make_token(7, "unsubscribe", NOW) != issued  # new links use the new key


def test_the_development_key_is_recognised(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("NEWSROOM_SECRET_KEY", raising=False)
    monkeypatch.delenv("NEWSROOM_SECRET_KEY_OLD", raising=False)
    assert signing_keys() == (DEV_SECRET,)
    assert is_development_key()
    monkeypatch.setenv("NEWSROOM_SECRET_KEY", "production-secret")
    assert not is_development_key()
