"""The JSON API: the same actions as the pages, for apps and partners; described at /api/openapi.json.

Bodies are JSON only (FastAPI refuses other content types), so a cross-site HTML form cannot post
here and no CSRF token is needed. Tokens are the same signed, purpose-bound tokens as in the emails.
Subscribe answers 202 with the same body whatever the state of the address (no enumeration).
"""

from __future__ import annotations

from typing import Literal

from fastapi import APIRouter, HTTPException, Request
from pydantic import BaseModel, Field

from newsroom.subscribers.store import Subscriber
from newsroom.subscribers.tokens import ExpiredToken, InvalidToken, Purpose, read_token
from newsroom.web import actions
from newsroom.web.app import Web
from newsroom.web.forms import Errors, PreferencesForm, read_address, read_choice, read_preferences
from newsroom.web.views import client_of

Frequency = Literal["immediate", "daily", "weekly"]


class SubscribeRequest(BaseModel):
    address: str = Field(
        max_length=320, description="An email address, or a mobile number (+1 212 555 0123)."
    )
    language: str = Field(description="A language code of the site, e.g. en, es, ru, zh, ar, ht.")
    topics: list[str] = Field(default=[], description="Topic ids; empty means all news.")
    frequency: Frequency = Field(default="immediate", description="For email; texts are always immediate.")


class Accepted(BaseModel):
    status: Literal["accepted"] = "accepted"
    message: str = "If the address can receive messages, we sent it one to confirm the subscription."


class TokenRequest(BaseModel):
    token: str = Field(max_length=500, description="The token from the confirmation link.")


class PreferencesBody(BaseModel):
    language: str
    topics: list[str] = Field(default=[], description="Topic ids; empty means all news.")
    frequency: Frequency = "immediate"
    email: bool = Field(default=True, description="Get news by email (when the subscriber has an address).")
    sms: bool = Field(default=False, description="Get news by text message to `phone`.")
    phone: str | None = Field(default=None, max_length=40, description="A new number must reply YES first.")


class PreferencesView(PreferencesBody):
    status: str
    email_address: str | None


class StatusView(BaseModel):
    status: str


def router_for(web: Web) -> APIRouter:
    router = APIRouter(tags=["subscriptions"])
    settings = web.settings

    def subscriber_id(token: str, purpose: Purpose) -> int:
        try:
            return read_token(token, purpose, web.clock())
        except ExpiredToken:
            raise HTTPException(410, "this link has expired; subscribe again") from None
        except InvalidToken:
            raise HTTPException(400, f"not a valid {purpose} token") from None

    async def load(token: str, purpose: Purpose) -> Subscriber:
        try:
            return await web.run(actions.subscriber, web.engine, subscriber_id(token, purpose))
        except actions.UnknownSubscriber:
            raise HTTPException(404, "no subscription for this token") from None

    def check(errors: Errors) -> None:
        if errors:
            raise HTTPException(422, {"errors": errors.by_field})

    @router.post("/subscribe", status_code=202, response_model=Accepted,
                 responses={422: {"description": "Invalid input: errors by field"}, 429: {}})  # fmt: skip
    async def subscribe(body: SubscribeRequest, request: Request) -> Accepted:
        """Subscribe an email (pending until confirmed by email) or a number (pending until YES)."""
        errors = Errors()
        address = read_address(body.address, errors)
        form = {
            "language": body.language,
            "scope": "some" if body.topics else "all",
            "frequency": body.frequency,
        }
        choice = read_choice(form, body.topics, settings, errors)
        check(errors)
        assert address is not None
        if not web.allow_subscribe(client_of(request), address.value):
            retry = {"Retry-After": str(web.per_target.retry_after())}
            raise HTTPException(429, "too many requests; try again later", headers=retry)
        await web.run(actions.subscribe, web.engine, address, choice, "api", web.clock())
        return Accepted()

    @router.post("/confirm", response_model=StatusView, responses={400: {}, 404: {}, 410: {}})
    async def confirm(body: TokenRequest) -> StatusView:
        """Confirm an email subscription with the token from the confirmation link."""
        subscriber = await load(body.token, "confirm")
        confirmed = await web.run(actions.confirm, web.engine, subscriber.id, web.clock())
        return StatusView(status=confirmed.status)

    @router.get("/preferences/{token}", response_model=PreferencesView, responses={400: {}, 404: {}})
    async def get_preferences(token: str) -> PreferencesView:
        """What the subscriber gets now."""
        return view(await load(token, "preferences"))

    @router.put("/preferences/{token}", response_model=PreferencesView, responses={400: {}, 404: {}, 422: {}})
    async def put_preferences(token: str, body: PreferencesBody) -> PreferencesView:
        """Replace the subscriber's preferences (a new number gets a YES request first)."""
        subscriber = await load(token, "preferences")
        errors = Errors()
        fields = {"language": body.language, "scope": "some" if body.topics else "all",
                  "frequency": body.frequency, "email": "on" if body.email else "",
                  "sms": "on" if body.sms else "", "phone": body.phone or ""}  # fmt: skip
        wanted: PreferencesForm = read_preferences(
            fields, body.topics, settings, bool(subscriber.email), errors
        )
        check(errors)
        outcome = await web.run(
            actions.update_preferences, web.engine, subscriber.id, wanted, "api", web.clock()
        )
        return view(outcome.subscriber)

    @router.post("/unsubscribe/{token}", response_model=StatusView, responses={400: {}})
    async def unsubscribe(token: str) -> StatusView:
        """Stop everything at once (the token from any email's unsubscribe link)."""
        sid = subscriber_id(token, "unsubscribe")
        await web.run(actions.unsubscribe, web.engine, sid, "api", web.clock())
        return StatusView(status="unsubscribed")

    return router


def view(subscriber: Subscriber) -> PreferencesView:
    by_channel = {sub.channel: sub for sub in subscriber.subscriptions}
    main = by_channel.get("email") or by_channel.get("sms")
    return PreferencesView(
        language=subscriber.language,
        topics=list(main.topics) if main else [],
        frequency=main.frequency if main and main.channel == "email" else "immediate",
        email="email" in by_channel,
        sms="sms" in by_channel,
        phone=subscriber.phone,
        status=subscriber.status,
        email_address=subscriber.email,
    )
