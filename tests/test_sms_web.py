"""The web app's SMS endpoints, as Kannel calls them: texts to the short code and delivery reports.

Every test runs on SQLite and, when NEWSROOM_TEST_DATABASE_URL is set, on PostgreSQL too.
Kannel itself is in tests/test_sms_web_kannel.py; here the calls are made the way it makes them.
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from datetime import UTC, datetime
from pathlib import Path
from urllib.parse import urlsplit

import pytest
from sqlalchemy import select

from newsroom.content.loader import load_newsroom
from newsroom.delivery.kannel import dlr_url
from newsroom.delivery.sms_alerts import plan_sms_alert
from newsroom.render.sms import reply_text
from newsroom.subscribers import actions, store
from newsroom.subscribers.store import Subscription
from newsroom.subscribers.tokens import make_token
from newsroom.web import actions as web_actions
from tests.web_support import WebRig, csrf_of, link_in, make_rig

pytest_plugins = ["tests.support.web_fixtures"]  # database_url: SQLite and PostgreSQL

NOW = datetime(2024, 12, 20, 15, 0, tzinfo=UTC)  # 10:00 in New York, outside quiet hours
SECRET = "kannel-inbound-test-secret"
RU_PHONE = "+15185550401"
STRANGER = "+15185550499"


@pytest.fixture
def rig(sample_root: Path, database_url: str, monkeypatch: pytest.MonkeyPatch) -> Iterator[WebRig]:
    # The test client is not on loopback, so it must present the shared secret, like a remote Kannel.
    monkeypatch.setenv("NEWSROOM_KANNEL_INBOUND_SECRET", SECRET)
    made = make_rig(sample_root, database_url, NOW)
    yield made
    made.engine.dispose()


def text_in(rig: WebRig, sender: str, text: str, key: str = SECRET) -> tuple[int, str, str]:
    """Kannel's get-url call for one text: (status, reply body, X-Kannel-Coding)."""
    answer = rig.client.get("/sms/inbound", params={"from": sender, "to": "12345", "text": text, "key": key})
    return answer.status_code, answer.text, answer.headers.get("x-kannel-coding", "")


def add_phone(rig: WebRig, number: str, language: str) -> int:
    with rig.engine.begin() as conn:
        return actions.subscribe(
            conn, email=None, phone=number, language=language, subscriptions=[Subscription("sms")],
            source="sms", now=NOW, confirmed=True,
        ).subscriber_id  # fmt: skip


def actions_of(rig: WebRig, address: str) -> list[tuple[str, str]]:
    return [(row["action"], row["source"]) for row in rig.consent(address)]


# --- /sms/inbound -----


def test_stop_unsubscribes_and_the_russian_reply_is_marked_ucs2(rig: WebRig) -> None:
    add_phone(rig, RU_PHONE, "ru")
    status, reply, coding = text_in(rig, RU_PHONE, " Stop ")
    assert (status, reply, coding) == (200, reply_text("stop", "ru", rig.settings), "2")
    subscriber = rig.subscriber(RU_PHONE)
    assert subscriber is not None and subscriber.status == "unsubscribed" and not subscriber.subscriptions
    assert actions_of(rig, RU_PHONE)[-1] == ("unsubscribe", "sms")


def test_the_join_keyword_subscribes_at_once_with_the_carrier_texts(rig: WebRig) -> None:
    status, reply, coding = text_in(rig, STRANGER, "news")
    assert (status, coding) == (200, "0")
    assert reply == reply_text("join", "en", rig.settings)
    assert "Msg & data rates may apply" in reply and "STOP" in reply and "HELP" in reply
    subscriber = rig.subscriber(STRANGER)
    assert subscriber is not None and subscriber.status == "active"
    assert actions_of(rig, STRANGER) == [("subscribe", "sms")]


def test_a_national_sender_number_finds_the_subscriber(rig: WebRig) -> None:
    add_phone(rig, RU_PHONE, "ru")
    assert text_in(rig, RU_PHONE.removeprefix("+"), "STOP")[1] == reply_text("stop", "ru", rig.settings)
    assert rig.subscriber(RU_PHONE).status == "unsubscribed"  # type: ignore[union-attr]


def test_unknown_text_gets_one_help_reply_a_day(rig: WebRig) -> None:
    help_text = reply_text("help", "en", rig.settings)
    assert text_in(rig, STRANGER, "when is the clinic open?")[1] == help_text
    rig.clock.advance(hours=2)
    assert text_in(rig, STRANGER, "hello??")[:2] == (200, "")  # an empty body: Kannel sends nothing
    assert text_in(rig, STRANGER, "HELP")[1] == help_text  # asking for HELP is always answered
    rig.clock.advance(hours=23)
    assert text_in(rig, STRANGER, "hello??")[1] == help_text
    assert [action for action, _ in actions_of(rig, STRANGER)] == ["unknown", "unknown", "help", "unknown"]


@pytest.mark.parametrize("key", ["", "wrong-secret"])
def test_inbound_without_the_secret_is_refused_and_changes_nothing(rig: WebRig, key: str) -> None:
    add_phone(rig, RU_PHONE, "ru")
    assert text_in(rig, RU_PHONE, "STOP", key=key)[0] == 403
    assert rig.subscriber(RU_PHONE).status == "active"  # type: ignore[union-attr]
    assert actions_of(rig, RU_PHONE) == [("subscribe", "sms")]


def test_without_a_secret_only_this_machine_may_call(
    sample_root: Path, database_url: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.delenv("NEWSROOM_KANNEL_INBOUND_SECRET", raising=False)
    rig = make_rig(sample_root, database_url, NOW)
    try:
        # The test client's address is "testclient", not 127.0.0.1.
        assert text_in(rig, STRANGER, "NEWS", key="")[0] == 403
        assert rig.subscriber(STRANGER) is None
    finally:
        rig.engine.dispose()


# --- YES and the per-subscriber status -----


def test_yes_to_a_number_added_on_the_preferences_page_brings_the_chosen_topics(rig: WebRig) -> None:
    assert rig.subscribe("li@example.com").status_code == 200
    rig.deliver()
    confirm = link_in(rig.outbox_emails()[-1], "confirm")
    rig.client.post(confirm, data={"csrf_token": csrf_of(rig.client.get(confirm).text)})
    person = rig.subscriber("li@example.com")
    assert person is not None and person.status == "active"
    path = f"/preferences/{make_token(person.id, 'preferences', NOW)}"
    form = {"csrf_token": csrf_of(rig.client.get(path).text), "language": "en", "scope": "some",
            "topics": ["technology", "health"], "frequency": "daily", "email": "on", "sms": "on",
            "phone": "(212) 555-0143"}  # fmt: skip
    assert rig.client.post(path, data=form).status_code == 200

    status, reply, _ = text_in(rig, "+12125550143", "Yes")
    assert (status, reply) == (200, reply_text("start", "en", rig.settings))
    after = rig.subscriber("li@example.com")
    assert after is not None
    assert set(after.subscriptions) == {
        Subscription("email", "daily", ("health", "technology")),
        Subscription("sms", "immediate", ("health", "technology")),  # what they chose, not everything
    }
    assert actions_of(rig, "+12125550143") == [("subscribe", "web"), ("confirm", "sms")]


def test_yes_by_text_does_not_confirm_an_email_nobody_confirmed(rig: WebRig) -> None:
    with rig.engine.begin() as conn:
        person = actions.subscribe(
            conn, email="ana@example.com", phone=RU_PHONE, language="es",
            subscriptions=[Subscription("email", "immediate", ("health",)), Subscription("sms")],
            source="api", now=NOW, confirmed=False,
        ).subscriber_id  # fmt: skip
        asked = {"frequency": "immediate", "topics": ["health"]}
        web_actions.queue_message(conn, web_actions.CONFIRMATION, person, "email", NOW, asked)
    text_in(rig, RU_PHONE, "SÍ")
    after = rig.subscriber(RU_PHONE)
    assert after is not None and after.status == "active"
    assert after.subscriptions == (Subscription("sms"),)  # the email waits for its own confirmation
    assert [a for a, _ in actions_of(rig, "ana@example.com")] == ["subscribe"]
    assert audience(rig, "email") == [] and audience(rig, "sms") == [RU_PHONE]

    # The email's link, clicked later, confirms the email subscription it asked for.
    with rig.engine.begin() as conn:
        assert actions.confirm(conn, person, source="email", now=NOW, channel="email")
    assert set(rig.subscriber(RU_PHONE).subscriptions) == {  # type: ignore[union-attr]
        Subscription("sms"),
        Subscription("email", "immediate", ("health",)),
    }
    assert audience(rig, "email") == ["ana@example.com"]


def test_the_email_link_does_not_confirm_a_number_that_never_said_yes(rig: WebRig) -> None:
    with rig.engine.begin() as conn:
        person = actions.subscribe(
            conn, email="ana@example.com", phone=RU_PHONE, language="es",
            subscriptions=[Subscription("email"), Subscription("sms")],
            source="api", now=NOW, confirmed=False,
        ).subscriber_id  # fmt: skip
        assert actions.confirm(conn, person, source="email", now=NOW, channel="email")
    assert audience(rig, "email") == ["ana@example.com"] and audience(rig, "sms") == []


def audience(rig: WebRig, channel: str) -> list[str]:
    with rig.engine.begin() as conn:
        return sorted(row.address for row in conn.execute(store.audience_query(channel)))


# --- /sms/dlr -----


def sent_alert(rig: WebRig) -> tuple[int, str]:
    """A Russian subscriber and an alert sent to them (outbox transport): (delivery id, reference)."""
    add_phone(rig, RU_PHONE, "ru")
    release = load_newsroom(rig.settings).by_slug("health-flu-clinics")
    with rig.engine.begin() as conn:
        plan_sms_alert(conn, rig.settings, release, NOW)
    assert rig.deliver().sent == 1
    (record,) = [json.loads(text) for text in rig.outbox_texts()]
    with rig.engine.begin() as conn:
        delivery_id = conn.execute(select(store.deliveries.c.id)).scalar_one()
    return delivery_id, record["reference"]


def report(rig: WebRig, reference: str, status: int, answer: str = "ACK/", **change: str) -> int:
    """Kannel's call to the dlr-url it was given, with its %-escapes filled in."""
    url = urlsplit(dlr_url(rig.settings, reference))
    query = url.query.replace("%d", str(status)).replace("%A", answer).replace("%T", "1734706800")
    params = dict(part.split("=", 1) for part in query.split("&"))
    return rig.client.get(url.path, params={**params, **change}).status_code


def delivery_row(rig: WebRig, delivery_id: int) -> dict[str, object]:
    with rig.engine.begin() as conn:
        query = select(store.deliveries).where(store.deliveries.c.id == delivery_id)
        return dict(conn.execute(query).mappings().one())


def test_a_delivery_report_is_recorded_on_its_delivery(rig: WebRig) -> None:
    delivery_id, reference = sent_alert(rig)
    rig.clock.advance(seconds=5)
    assert report(rig, reference, 8) == 200  # the SMSC took it
    assert report(rig, reference, 1) == 200  # the phone got it
    assert report(rig, reference, 8) == 200  # a late "accepted" does not undo "delivered"
    row = delivery_row(rig, delivery_id)
    assert (row["status"], row["dlr_status"], row["dlr_answer"]) == ("sent", "delivered", "ACK/")
    assert row["dlr_at"] == rig.clock()


def test_a_forged_delivery_report_is_refused(rig: WebRig) -> None:
    delivery_id, reference = sent_alert(rig)
    assert report(rig, reference, 16, sig="0" * 32) == 403
    other = f"{delivery_id + 1:09d}-alert-sms"
    assert report(rig, reference, 16, ref=other) == 403  # a signature is for one reference only
    assert delivery_row(rig, delivery_id)["dlr_status"] is None
    with rig.engine.begin() as conn:
        assert store.suppression_of(conn, RU_PHONE) is None


def test_a_rejected_number_is_suppressed_like_a_bounce(rig: WebRig) -> None:
    delivery_id, reference = sent_alert(rig)
    assert report(rig, reference, 16, answer="NACK/0x0000000b/Invalid Destination Address") == 200
    row = delivery_row(rig, delivery_id)
    assert (row["status"], row["dlr_status"]) == ("failed", "rejected")
    with rig.engine.begin() as conn:
        assert store.suppression_of(conn, RU_PHONE) == "bounce"
    assert actions_of(rig, RU_PHONE)[-1] == ("bounce", "sms")
    assert report(rig, reference, 16) == 200  # Kannel retries the call: no second entry
    assert [a for a, _ in actions_of(rig, RU_PHONE)].count("bounce") == 1


def alerts_sent(rig: WebRig, slugs: list[str]) -> list[str]:
    """The references of the alerts for `slugs`, sent one after another to RU_PHONE."""
    add_phone(rig, RU_PHONE, "ru")
    newsroom = load_newsroom(rig.settings)
    references = []
    for slug in slugs:
        with rig.engine.begin() as conn:
            plan_sms_alert(conn, rig.settings, newsroom.by_slug(slug), NOW)
        assert rig.deliver().sent == 1
        references.append(json.loads(rig.outbox_texts()[-1])["reference"])
    return references


@pytest.mark.parametrize(("states", "suppressed"), [((2, 2, 2), True), ((2, 1, 2), False)])
def test_three_undelivered_in_a_row_suppress_the_number(
    rig: WebRig, states: tuple[int, ...], suppressed: bool
) -> None:
    slugs = ["health-flu-clinics", "labor-statement-winter-jobs", "new-york-experience"]
    for reference, state in zip(alerts_sent(rig, slugs), states, strict=True):
        rig.clock.advance(minutes=1)
        assert report(rig, reference, state, answer="NACK/expired") == 200
    with rig.engine.begin() as conn:
        assert store.suppression_of(conn, RU_PHONE) == ("bounce" if suppressed else None)
    assert [a for a, _ in actions_of(rig, RU_PHONE)].count("bounce") == (1 if suppressed else 0)


def test_an_undelivered_report_is_recorded_but_keeps_the_number(rig: WebRig) -> None:
    delivery_id, reference = sent_alert(rig)
    assert report(rig, reference, 2, answer="NACK/expired") == 200
    assert delivery_row(rig, delivery_id)["dlr_status"] == "undelivered"
    with rig.engine.begin() as conn:
        assert store.suppression_of(conn, RU_PHONE) is None
