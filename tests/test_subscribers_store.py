"""The subscribers database on SQLite and PostgreSQL: schema, consent records, suppression rules."""

from __future__ import annotations

from datetime import timedelta

from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext
from sqlalchemy import Engine, inspect

from newsroom.config import Settings
from newsroom.subscribers import actions, store
from newsroom.subscribers.db import migrate, open_database
from newsroom.subscribers.store import Subscription
from tests.conftest import SAMPLE_NOW

pytest_plugins = ["tests.support.delivery_fixtures"]

NOW = SAMPLE_NOW


def test_the_database_is_created_on_first_use_and_matches_the_code(db_settings: Settings) -> None:
    engine = open_database(db_settings)
    migrate(engine)  # a second run is a no-op
    with engine.connect() as conn:
        assert compare_metadata(MigrationContext.configure(conn), store.metadata) == []
        tables = set(inspect(conn).get_table_names())
    assert {
        "subscribers",
        "subscriptions",
        "consent_log",
        "suppressions",
        "notifications",
        "deliveries",
    } <= tables
    engine.dispose()


def test_by_default_the_database_is_a_sqlite_file_under_var(sample_settings: Settings) -> None:
    assert not (sample_settings.root / "var").exists()
    open_database(sample_settings).dispose()
    assert (sample_settings.root / "var" / "newsroom.db").is_file()


def subscribe_on_the_web(engine: Engine, email: str, **changes: object) -> int:
    with engine.begin() as conn:
        return actions.subscribe(
            conn,
            email=email,
            phone=None,
            language=str(changes.get("language", "es")),
            subscriptions=[Subscription("email", "weekly", ("health",))],
            source="web",
            now=NOW,
            confirmed=False,
        ).subscriber_id


def test_double_opt_in_preferences_and_unsubscribe_are_all_on_record(engine: Engine) -> None:
    person = subscribe_on_the_web(engine, "Ana@Example.org")
    with engine.begin() as conn:
        assert store.get_subscriber(conn, person).status == "pending"  # type: ignore[union-attr]
        assert actions.confirm(conn, person, source="email", now=NOW + timedelta(minutes=5))
        assert not actions.confirm(conn, person, source="email", now=NOW + timedelta(minutes=6))
        actions.change_preferences(
            conn,
            person,
            language="en",
            subscriptions=[Subscription("email", "daily", ("health", "jobs"))],
            source="web",
            now=NOW + timedelta(days=1),
        )
        assert actions.unsubscribe(conn, person, source="email", now=NOW + timedelta(days=2))
        assert not actions.unsubscribe(conn, person, source="email", now=NOW + timedelta(days=3))
        after = store.get_subscriber(conn, person)
        history = store.consent_history(conn, subscriber_id=person)
        reason = store.suppression_of(conn, "ana@example.org")
    assert after is not None and after.status == "unsubscribed" and after.subscriptions == ()
    assert after.confirmed_at == NOW + timedelta(minutes=5)
    assert [(h["action"], h["source"]) for h in history] == [
        ("subscribe", "web"),
        ("confirm", "email"),
        ("preferences", "web"),
        ("unsubscribe", "email"),
    ]
    assert history[0]["address"] == "ana@example.org"
    assert history[2]["detail"]["subscriptions"] == [
        {"channel": "email", "frequency": "daily", "topics": ["health", "jobs"]}
    ]
    assert reason == "unsubscribed"


def test_subscribing_again_lifts_an_unsubscribe_but_never_a_bounce_or_complaint(engine: Engine) -> None:
    came_back = subscribe_on_the_web(engine, "back@example.org")
    bounced = subscribe_on_the_web(engine, "bounced@example.org")
    complained = subscribe_on_the_web(engine, "angry@example.org")
    with engine.begin() as conn:
        for person in (came_back, bounced, complained):
            actions.confirm(conn, person, source="email", now=NOW)
        actions.unsubscribe(conn, came_back, source="web", now=NOW)
        store.suppress(conn, "bounced@example.org", "bounce", NOW, "550 no such user")
        actions.complaint(conn, "angry@example.org", source="api", now=NOW)
    for email in ("back@example.org", "bounced@example.org", "angry@example.org"):
        subscribe_on_the_web(engine, email)
    with engine.begin() as conn:
        for person in (came_back, bounced, complained):
            actions.confirm(conn, person, source="email", now=NOW + timedelta(days=1))
        reasons = {
            e: store.suppression_of(conn, e)
            for e in ("back@example.org", "bounced@example.org", "angry@example.org")
        }
        actions_logged = [h["action"] for h in store.consent_history(conn, address="angry@example.org")]
    assert reasons == {
        "back@example.org": None,
        "bounced@example.org": "bounce",
        "angry@example.org": "complaint",
    }
    assert actions_logged == ["subscribe", "confirm", "complaint", "subscribe", "confirm"]


def test_a_stronger_suppression_replaces_an_unsubscribe(engine: Engine) -> None:
    with engine.begin() as conn:
        store.suppress(conn, "x@example.org", "unsubscribed", NOW)
        store.suppress(conn, "x@example.org", "complaint", NOW)
        store.suppress(conn, "x@example.org", "unsubscribed", NOW)
        assert store.suppression_of(conn, "x@example.org") == "complaint"
        assert not store.lift_suppression(conn, "x@example.org")


def test_sms_unsubscribe_leaves_email_alone(engine: Engine) -> None:
    with engine.begin() as conn:
        person = actions.subscribe(
            conn,
            email="both@example.org",
            phone="+12125550134",
            language="ru",
            subscriptions=[Subscription("email"), Subscription("sms")],
            source="cli",
            now=NOW,
            confirmed=True,
        ).subscriber_id
        actions.unsubscribe(conn, person, channels=["sms"], source="sms", now=NOW, detail={"keyword": "СТОП"})
        after = store.get_subscriber(conn, person)
        assert store.suppression_of(conn, "+12125550134") == "unsubscribed"
        assert store.suppression_of(conn, "both@example.org") is None
        [entry] = [
            h for h in store.consent_history(conn, subscriber_id=person) if h["action"] == "unsubscribe"
        ]
    assert after is not None and after.status == "active"
    assert [s.channel for s in after.subscriptions] == ["email"]
    assert entry["channel"] == "sms" and entry["detail"] == {"keyword": "СТОП"}
