"""Signed, purpose-bound tokens for the links in emails: unsubscribe, preferences, confirm.

A token names one subscriber and is valid for one purpose only: each purpose signs with its own
derived key (itsdangerous salt), so an unsubscribe token cannot open the preferences page. Tokens
carry no secret data (the subscriber id is readable); they are unforgeable without the key.

Unsubscribe and preference tokens never expire: a link in a years-old email must still work.
A confirmation token expires 7 days after it was issued. No clock is read here: `now` is passed in,
so messages are reproducible and tests can travel in time.

The key is NEWSROOM_SECRET_KEY. Without it the development key is used, which the web app refuses
outside development (`is_development_key`). Rotating: set NEWSROOM_SECRET_KEY_OLD to the previous
key for as long as old links should keep working.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime, timedelta
from functools import cache
from typing import Literal

from itsdangerous import BadSignature, URLSafeSerializer

from newsroom.config import DEV_SECRET, secret

Purpose = Literal["unsubscribe", "preferences", "confirm"]
PURPOSES: tuple[Purpose, ...] = ("unsubscribe", "preferences", "confirm")
LIFETIMES: dict[str, timedelta | None] = {
    "unsubscribe": None,
    "preferences": None,
    "confirm": timedelta(days=7),
}


class InvalidToken(ValueError):
    """The token was not issued by us for this purpose: tampered, truncated, or another purpose's."""


class ExpiredToken(InvalidToken):
    """The token is genuine but too old for its purpose (a confirmation link after 7 days)."""

    def __init__(self, subscriber_id: int, issued: datetime) -> None:
        super().__init__(f"token for subscriber {subscriber_id} issued {issued.isoformat()} has expired")
        self.subscriber_id = subscriber_id
        self.issued = issued


def signing_keys() -> tuple[str, ...]:
    """The keys tokens are checked against, newest last (itsdangerous signs with the last)."""
    old = secret("secret_key_old")
    current = secret("secret_key", DEV_SECRET)
    return (old, current) if old else (current,)


def is_development_key(keys: Sequence[str] | None = None) -> bool:
    """True when tokens would be signed with the public development key (refuse it in production)."""
    return (keys or signing_keys())[-1] == DEV_SECRET


def make_token(subscriber_id: int, purpose: Purpose, now: datetime, keys: Sequence[str] | None = None) -> str:
    """A URL-safe token for `subscriber_id` and `purpose`; expiring purposes record `now`."""
    if purpose not in LIFETIMES:
        raise ValueError(f"unknown token purpose {purpose!r}; use one of {PURPOSES}")
    payload: list[int] = [subscriber_id]
    if LIFETIMES[purpose] is not None:
        payload.append(int(now.timestamp()))
    return _serializer(tuple(keys or signing_keys()), purpose).dumps(payload)


def read_token(token: str, purpose: Purpose, now: datetime, keys: Sequence[str] | None = None) -> int:
    """The subscriber id in `token`; InvalidToken if forged or for another purpose, ExpiredToken if old."""
    try:
        payload = _serializer(tuple(keys or signing_keys()), purpose).loads(token)
    except BadSignature as exc:
        raise InvalidToken(f"not a valid {purpose} token") from exc
    lifetime = LIFETIMES[purpose]
    shape_ok = isinstance(payload, list) and all(type(item) is int for item in payload)
    if not shape_ok or len(payload) != (1 if lifetime is None else 2):
        raise InvalidToken(f"not a valid {purpose} token")
    subscriber_id: int = payload[0]
    if lifetime is not None:
        issued = datetime.fromtimestamp(payload[1], tz=now.tzinfo)
        if now - issued > lifetime:
            raise ExpiredToken(subscriber_id, issued)
    return subscriber_id


@cache
def _serializer(keys: tuple[str, ...], purpose: str) -> URLSafeSerializer:
    # The salt derives a separate signing key per purpose: that is what binds a token to it.
    return URLSafeSerializer(list(keys), salt=f"newsroom.subscriber.{purpose}")
