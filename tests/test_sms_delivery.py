"""SMS alerts through the subscribers database and the delivery queue: each subscriber gets the alert
in their language, once, after quiet hours unless urgent; through the outbox and through Kannel."""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from sqlalchemy import Engine

from newsroom.config import Settings
from newsroom.content.loader import load_newsroom
from newsroom.delivery.kannel import KannelConfigError, KannelTransport
from newsroom.delivery.messages import BuildContext, Notification, Recipient
from newsroom.delivery.sms_alerts import plan_sms_alert
from newsroom.delivery.sms_builders import build_sms_alert
from newsroom.delivery.sms_inbound import handle_inbound
from newsroom.delivery.worker import deliver
from newsroom.errors import RenderError
from newsroom.render.sms import compose_alert, reply_text
from newsroom.subscribers import actions, store
from newsroom.subscribers.store import Subscription
from tests.sms_support import StandInWebApp, settings_for_gateway, wait_for_handset
from tests.support.kannel import KannelGateway, kannel_missing

pytest_plugins = ["tests.support.delivery_fixtures"]

DAY = datetime(2024, 12, 20, 15, 0, tzinfo=UTC)  # 10:00 in New York
NIGHT = datetime(2024, 12, 21, 3, 0, tzinfo=UTC)  # 22:00 in New York: quiet hours
MORNING = datetime(2024, 12, 21, 13, 0, tzinfo=UTC)  # 08:00 in New York


def phone(n: int) -> str:
    return f"+1518555{n:04d}"


def add_sms_subscribers(engine: Engine, settings: Settings, topics: tuple[str, ...] = ()) -> dict[str, str]:
    """One active SMS subscriber per site language; {phone: language}."""
    people = {phone(300 + n): language for n, language in enumerate(settings.language_codes)}
    with engine.begin() as conn:
        for number, language in people.items():
            actions.subscribe(
                conn, email=None, phone=number, language=language,
                subscriptions=[Subscription("sms", "immediate", topics)],
                source="sms", now=DAY - timedelta(days=1), confirmed=True,
            )  # fmt: skip
    return people


def outbox_texts(settings: Settings) -> dict[str, str]:
    records = [json.loads(p.read_text("utf-8")) for p in (settings.outbox_dir / "sms").glob("*.json")]
    return {record["to"]: record["text"] for record in records}


def test_each_subscriber_gets_the_alert_in_their_language_once(db_settings: Settings, engine: Engine) -> None:
    people = add_sms_subscribers(engine, db_settings)
    release = load_newsroom(db_settings).by_slug("new-york-experience")
    with engine.begin() as conn:
        assert plan_sms_alert(conn, db_settings, release, DAY) == len(people)
        assert plan_sms_alert(conn, db_settings, release, DAY) == 0  # planning twice queues nothing twice
    report = deliver(db_settings, DAY, engine=engine)
    again = deliver(db_settings, DAY + timedelta(hours=1), engine=engine)
    assert (report.sent, again.sent) == (len(people), 0)
    texts = outbox_texts(db_settings)
    assert texts == {
        number: compose_alert(release, lang, db_settings).text for number, lang in people.items()
    }
    assert texts[phone(302)].startswith(
        "Губернатор Хокул запустила стратегию NYX https://news.example.gov/r/"
    )


def test_alerts_queued_at_night_wait_for_the_morning(db_settings: Settings, engine: Engine) -> None:
    people = add_sms_subscribers(engine, db_settings)
    release = load_newsroom(db_settings).by_slug("health-flu-clinics")
    with engine.begin() as conn:
        plan_sms_alert(conn, db_settings, release, NIGHT)
    assert deliver(db_settings, NIGHT + timedelta(minutes=5), engine=engine).sent == 0
    assert deliver(db_settings, MORNING - timedelta(minutes=1), engine=engine).sent == 0
    assert deliver(db_settings, MORNING, engine=engine).sent == len(people)


def test_urgent_alerts_go_out_at_night(db_settings: Settings, engine: Engine, sample_root: Path) -> None:
    people = add_sms_subscribers(engine, db_settings)
    original = sample_root / "releases/2024/2024-11-25-new-york-experience/en.md"
    original.write_text(original.read_text("utf-8").replace("urgent: false", "urgent: true"), "utf-8")
    release = load_newsroom(db_settings).by_slug("new-york-experience")
    assert release.meta.urgent
    with engine.begin() as conn:
        plan_sms_alert(conn, db_settings, release, NIGHT)
    assert deliver(db_settings, NIGHT, engine=engine).sent == len(people)


def test_only_subscribers_of_the_release_topics_are_queued(db_settings: Settings, engine: Engine) -> None:
    add_sms_subscribers(engine, db_settings, topics=("transportation",))
    release = load_newsroom(db_settings).by_slug("health-flu-clinics")  # topic: health
    with engine.begin() as conn:
        assert plan_sms_alert(conn, db_settings, release, DAY) == 0


def test_the_builder_refuses_an_embargoed_release(sample_settings: Settings) -> None:
    context = BuildContext(sample_settings, DAY)
    notification = Notification(1, "alert", "alert:future-embargoed-announcement",
                                {"slug": "future-embargoed-announcement"})  # fmt: skip
    with pytest.raises(RenderError, match="no public release"):
        build_sms_alert(context, notification, Recipient(1, 1, "sms", phone(1), "en"))


def test_an_unknown_language_gets_the_default_language(sample_settings: Settings) -> None:
    context = BuildContext(sample_settings, DAY)
    notification = Notification(1, "alert", "alert:health-flu-clinics", {"slug": "health-flu-clinics"})
    message = build_sms_alert(context, notification, Recipient(1, 1, "sms", phone(1), "fr"))
    assert message.text.endswith("\nReply STOP to end")  # type: ignore[union-attr]


@pytest.mark.kannel
@pytest.mark.skipif(kannel_missing() is not None, reason=str(kannel_missing()))
def test_alerts_reach_phones_through_kannel(db_settings: Settings, engine: Engine) -> None:
    people = add_sms_subscribers(engine, db_settings)
    release = load_newsroom(db_settings).by_slug("new-york-experience")
    with engine.begin() as conn:
        plan_sms_alert(conn, db_settings, release, DAY)
    with KannelGateway("http://127.0.0.1:9/sms/inbound") as gateway:
        settings = settings_for_gateway(db_settings, gateway)
        transport = KannelTransport(settings, password=gateway.password)
        report = deliver(settings, DAY, engine=engine, transports={"sms": transport})
        shown = wait_for_handset(gateway, lambda all_: len(all_) >= len(people))
    assert report.sent == len(people)
    assert {m.receiver: m.text for m in shown} == {
        number: compose_alert(release, language, settings).text for number, language in people.items()
    }


@pytest.mark.kannel
@pytest.mark.skipif(kannel_missing() is not None, reason=str(kannel_missing()))
def test_stop_from_a_phone_unsubscribes_and_the_reply_arrives(db_settings: Settings, engine: Engine) -> None:
    people = add_sms_subscribers(engine, db_settings)
    russian = next(number for number, language in people.items() if language == "ru")

    def answer(query: dict[str, str]) -> str:
        with engine.begin() as conn:
            return handle_inbound(conn, db_settings, sender=query["from"], text=query["text"], now=DAY).reply

    with StandInWebApp(answer) as app, KannelGateway(f"{app.base_url}/sms/inbound") as gateway:
        gateway.send_from_phone(russian, "12345", "Стоп")
        (reply,) = wait_for_handset(gateway, lambda shown: any(m.receiver == russian for m in shown))
    assert reply.text == reply_text("stop", "ru", db_settings)
    with engine.begin() as conn:
        assert store.suppression_of(conn, russian) == "unsubscribed"
        history = store.consent_history(conn, address=russian)
    assert (history[-1]["action"], history[-1]["source"], history[-1]["detail"]["keyword"]) == (
        "unsubscribe", "sms", "стоп",
    )  # fmt: skip
    release = load_newsroom(db_settings).by_slug("new-york-experience")
    with engine.begin() as conn:
        plan_sms_alert(conn, db_settings, release, DAY)
    assert deliver(db_settings, DAY, engine=engine).sent == len(people) - 1  # everyone but them


@pytest.mark.kannel
@pytest.mark.skipif(kannel_missing() is not None, reason=str(kannel_missing()))
def test_a_wrong_kannel_password_stops_the_run_and_keeps_the_queue(
    db_settings: Settings, engine: Engine
) -> None:
    people = add_sms_subscribers(engine, db_settings)
    release = load_newsroom(db_settings).by_slug("new-york-experience")
    with engine.begin() as conn:
        plan_sms_alert(conn, db_settings, release, DAY)
    with KannelGateway("http://127.0.0.1:9/sms/inbound") as gateway:
        settings = settings_for_gateway(db_settings, gateway)
        wrong = KannelTransport(settings, password="not-the-password")
        with pytest.raises(KannelConfigError, match="NEWSROOM_KANNEL_PASSWORD"):
            deliver(settings, DAY, engine=engine, transports={"sms": wrong})
        right = KannelTransport(settings, password=gateway.password)
        report = deliver(settings, DAY, engine=engine, transports={"sms": right})
        wait_for_handset(gateway, lambda shown: len(shown) >= len(people))
    assert report.sent == len(people)  # nobody was suppressed or skipped by the failed run
    with engine.begin() as conn:
        assert all(store.suppression_of(conn, number) is None for number in people)
