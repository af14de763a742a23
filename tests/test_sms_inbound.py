"""Texts to the short code change subscriptions at once, land in the consent log, and get one reply."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from sqlalchemy import Engine

from newsroom.config import Settings
from newsroom.content.loader import load_newsroom
from newsroom.delivery.sms_alerts import plan_sms_alert
from newsroom.delivery.sms_inbound import InboundOutcome, handle_inbound
from newsroom.delivery.sms_keywords import Intent
from newsroom.delivery.worker import deliver
from newsroom.render.sms import reply_text
from newsroom.subscribers import actions, store
from newsroom.subscribers.store import Subscription

pytest_plugins = ["tests.support.delivery_fixtures"]

NOW = datetime(2024, 12, 20, 15, 0, tzinfo=UTC)  # 10:00 in New York, outside quiet hours
RU_PHONE = "+15185550401"
STRANGER = "+15185550499"


def add(
    engine: Engine, number: str, language: str, *, confirmed: bool = True, topics: tuple[str, ...] = ()
) -> int:
    with engine.begin() as conn:
        return actions.subscribe(
            conn, email=None, phone=number, language=language,
            subscriptions=[Subscription("sms", "immediate", topics)],
            source="web", now=NOW - timedelta(days=3), confirmed=confirmed,
        ).subscriber_id  # fmt: skip


def text_in(
    engine: Engine, settings: Settings, sender: str, text: str, now: datetime = NOW
) -> InboundOutcome:
    with engine.begin() as conn:
        return handle_inbound(conn, settings, sender=sender, text=text, now=now)


def sms_alert_count(engine: Engine, settings: Settings, slug: str = "health-flu-clinics") -> int:
    release = load_newsroom(settings).by_slug(slug)
    with engine.begin() as conn:
        plan_sms_alert(conn, settings, release, NOW)
    return deliver(settings, NOW, engine=engine).sent


def history(engine: Engine, number: str) -> list[tuple[str, str]]:
    with engine.begin() as conn:
        return [(row["action"], row["source"]) for row in store.consent_history(conn, address=number)]


def test_stop_unsubscribes_at_once_and_confirms_in_the_subscribers_language(
    db_settings: Settings, engine: Engine
) -> None:
    subscriber = add(engine, RU_PHONE, "ru")
    outcome = text_in(engine, db_settings, RU_PHONE, "stop")
    assert (outcome.intent, outcome.subscriber_id, outcome.changed) == (Intent.STOP, subscriber, True)
    assert outcome.reply == reply_text("stop", "ru", db_settings)
    assert history(engine, RU_PHONE)[-1] == ("unsubscribe", "sms")
    with engine.begin() as conn:
        assert store.suppression_of(conn, RU_PHONE) == "unsubscribed"
        assert not store.get_subscriber(conn, subscriber).subscriptions  # type: ignore[union-attr]
    assert sms_alert_count(engine, db_settings) == 0  # no alert reaches them any more


def test_a_second_stop_changes_nothing_but_still_confirms(db_settings: Settings, engine: Engine) -> None:
    add(engine, RU_PHONE, "ru")
    text_in(engine, db_settings, RU_PHONE, "СТОП")
    again = text_in(engine, db_settings, RU_PHONE, "STOP")
    assert (again.changed, again.reply) == (False, reply_text("stop", "ru", db_settings))
    assert [action for action, _ in history(engine, RU_PHONE)].count("unsubscribe") == 1


def test_stop_from_an_unknown_number_suppresses_it(db_settings: Settings, engine: Engine) -> None:
    outcome = text_in(engine, db_settings, STRANGER, "Alto")
    assert outcome.changed and outcome.subscriber_id is None
    assert outcome.reply == reply_text("stop", "es", db_settings)  # a Spanish keyword, a Spanish reply
    with engine.begin() as conn:
        assert store.suppression_of(conn, STRANGER) == "unsubscribed"
    assert history(engine, STRANGER) == [("unsubscribe", "sms")]


def test_start_after_stop_resubscribes_and_alerts_flow_again(db_settings: Settings, engine: Engine) -> None:
    add(engine, RU_PHONE, "ru")
    text_in(engine, db_settings, RU_PHONE, "STOP")
    outcome = text_in(engine, db_settings, RU_PHONE, "Start")
    assert (outcome.intent, outcome.changed) == (Intent.START, True)
    assert outcome.reply == reply_text("start", "ru", db_settings)
    with engine.begin() as conn:
        assert store.suppression_of(conn, RU_PHONE) is None
    assert history(engine, RU_PHONE)[-1] == ("subscribe", "sms")
    assert sms_alert_count(engine, db_settings) == 1


def test_the_join_keyword_subscribes_a_new_number_with_the_carrier_texts(
    db_settings: Settings, engine: Engine
) -> None:
    outcome = text_in(engine, db_settings, STRANGER, "news")
    assert (outcome.intent, outcome.changed) == (Intent.JOIN, True)
    assert "Msg & data rates may apply" in outcome.reply and "Msg freq varies" in outcome.reply
    with engine.begin() as conn:
        subscriber = store.find_subscriber(conn, STRANGER)
    assert subscriber is not None and subscriber.status == "active" and subscriber.language == "en"
    assert history(engine, STRANGER) == [("subscribe", "sms")]
    assert sms_alert_count(engine, db_settings) == 1


def test_join_with_a_language_sets_it(db_settings: Settings, engine: Engine) -> None:
    outcome = text_in(engine, db_settings, STRANGER, "NEWS ES")
    assert outcome.reply == reply_text("join", "es", db_settings)
    with engine.begin() as conn:
        assert store.find_subscriber(conn, STRANGER).language == "es"  # type: ignore[union-attr]


def test_yes_confirms_a_web_sign_up_with_its_topics(db_settings: Settings, engine: Engine) -> None:
    subscriber = add(engine, RU_PHONE, "ru", confirmed=False, topics=("transportation",))
    assert sms_alert_count(engine, db_settings) == 0  # pending: nothing is sent before YES
    outcome = text_in(engine, db_settings, RU_PHONE, "yes")
    assert (outcome.intent, outcome.subscriber_id, outcome.changed) == (Intent.START, subscriber, True)
    with engine.begin() as conn:
        confirmed = store.get_subscriber(conn, subscriber)
    assert confirmed is not None and confirmed.status == "active"
    assert confirmed.subscriptions == (Subscription("sms", "immediate", ("transportation",)),)
    assert history(engine, RU_PHONE)[-1] == ("confirm", "sms")


def test_yes_again_keeps_the_topics_an_active_number_chose(db_settings: Settings, engine: Engine) -> None:
    subscriber = add(engine, RU_PHONE, "ru", topics=("transportation",))
    outcome = text_in(engine, db_settings, RU_PHONE, "YES")
    assert (outcome.changed, outcome.reply) == (False, reply_text("start", "ru", db_settings))
    with engine.begin() as conn:
        kept = store.get_subscriber(conn, subscriber)
    assert kept is not None and kept.subscriptions == (Subscription("sms", "immediate", ("transportation",)),)
    assert history(engine, RU_PHONE) == [("subscribe", "web")]


def test_help_changes_nothing(db_settings: Settings, engine: Engine) -> None:
    add(engine, RU_PHONE, "ru")
    outcome = text_in(engine, db_settings, RU_PHONE, "HELP")
    assert (outcome.changed, outcome.reply) == (False, reply_text("help", "ru", db_settings))
    assert history(engine, RU_PHONE) == [("subscribe", "web"), ("help", "sms")]  # answered, on record
    with engine.begin() as conn:
        assert store.find_subscriber(conn, RU_PHONE).subscriptions == (  # type: ignore[union-attr]
            Subscription("sms", "immediate", ()),
        )


def test_unknown_text_gets_the_help_reply_at_most_once_a_day(db_settings: Settings, engine: Engine) -> None:
    first = text_in(engine, db_settings, STRANGER, "what time is the clinic?")
    assert first.reply == reply_text("help", "en", db_settings)
    recent = text_in(engine, db_settings, STRANGER, "hello?", now=NOW + timedelta(hours=3))
    assert recent.reply == ""
    other = text_in(engine, db_settings, RU_PHONE, "hello?", now=NOW + timedelta(hours=3))
    assert other.reply == first.reply  # the limit is per number
    later = text_in(engine, db_settings, STRANGER, "hello?", now=NOW + timedelta(hours=25))
    assert later.reply == first.reply
    with engine.begin() as conn:
        logged = store.consent_history(conn, address=STRANGER)
    assert [(row["action"], row["detail"]["replied"]) for row in logged] == [
        ("unknown", True),
        ("unknown", False),
        ("unknown", True),
    ]
    assert all("clinic" not in str(row["detail"]) for row in logged)  # what people write is not kept
    with engine.begin() as conn:
        assert store.find_subscriber(conn, STRANGER) is None and store.suppression_of(conn, STRANGER) is None
