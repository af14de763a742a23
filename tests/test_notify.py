"""Alerts end to end: `notify` queues each release once for the subscribers whose topics it matches,
`deliver` writes real emails (parsed here with Python's email package) in each subscriber's language,
and the one-click unsubscribe link of a delivered email works against the real web app. SQLite, and
PostgreSQL with NEWSROOM_TEST_DATABASE_URL."""

from __future__ import annotations

import re
import shutil
from datetime import UTC, datetime, timedelta
from email.utils import parsedate_to_datetime
from pathlib import Path

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import Engine
from typer.testing import CliRunner

from newsroom import build
from newsroom.cli import app
from newsroom.config import Settings
from newsroom.delivery import queue
from newsroom.delivery.notify import notify
from newsroom.delivery.worker import deliver
from newsroom.subscribers import store
from newsroom.subscribers.db import open_database
from newsroom.web.app import create_app
from tests.conftest import EMBARGOED_WORDS
from tests.notify_support import (
    TITLES,
    add_translation,
    bodies,
    correction,
    outbox_emails,
    subscribe,
    with_email,
    write_release,
)
from tests.support.delivery import SmtpServer, smtp_settings

pytest_plugins = ["tests.support.delivery_fixtures"]

NOW = datetime(2024, 12, 20, 15, 0, tzinfo=UTC)  # 10:00 in New York
SLUG = "winter-checkups"


def everyone(engine: Engine, settings: Settings) -> dict[str, str]:
    """One immediate health subscriber per site language; {address: language}."""
    people = {f"{language}.reader@example.org": language for language in settings.language_codes}
    for address, language in people.items():
        subscribe(engine, address, language)
    return people


def test_each_subscriber_gets_one_alert_in_their_language(db_settings: Settings, engine: Engine) -> None:
    write_release(db_settings.root, SLUG, NOW - timedelta(minutes=10), languages=("ru", "es"))
    people = everyone(engine, db_settings)
    subscribe(engine, "jobs.only@example.org", "en", topics=("jobs",))  # not their topic
    first = notify(db_settings, NOW, engine=engine)
    assert (first.releases, first.emails) == ([SLUG], len(people))
    assert notify(db_settings, NOW + timedelta(minutes=5), engine=engine).emails == 0  # re-run: nothing new
    assert deliver(db_settings, NOW, engine=engine).sent == len(people)

    received = outbox_emails(db_settings)
    assert sorted(received) == sorted(people)
    for address, language in people.items():
        [message] = received[address]
        expected = TITLES[language] if language in ("en", "ru", "es") else TITLES["en"]
        assert message["Subject"] == expected
        assert message["Content-Language"] == language
        text, html = bodies(message)
        assert f'lang="{language}"' in html
        if language in ("zh", "ar", "ht"):  # no translation: the original with a note in their language
            assert 'lang="en"' in html and TITLES["en"] in text
    assert "Штат открывает" in bodies(received["ru.reader@example.org"][0])[0]
    assert 'dir="rtl"' in bodies(received["ar.reader@example.org"][0])[1]
    assert deliver(db_settings, NOW + timedelta(hours=1), engine=engine).sent == 0


def test_every_delivered_email_has_the_headers_inboxes_expect(db_settings: Settings, engine: Engine) -> None:
    write_release(db_settings.root, SLUG, NOW - timedelta(minutes=10))
    people = everyone(engine, db_settings)
    notify(db_settings, NOW, engine=engine)
    deliver(db_settings, NOW, engine=engine)
    ids = set()
    for address, [message] in outbox_emails(db_settings).items():
        assert message.get_content_type() == "multipart/alternative"
        assert [p.get_content_type() for p in message.iter_parts()] == ["text/plain", "text/html"]
        assert message["To"] == address
        assert message["From"].addresses[0].addr_spec == "news@news.example.gov"
        assert message["Reply-To"] == "press.office@news.example.gov"
        assert parsedate_to_datetime(message["Date"]) == NOW
        assert re.fullmatch(r"<[0-9a-f]+\.\d+@news\.example\.gov>", message["Message-ID"])
        ids.add(message["Message-ID"])
        assert message["List-Id"].endswith("<alerts.news.example.gov>")
        https, mailto = re.findall(r"<([^>]+)>", str(message["List-Unsubscribe"]))
        assert https.startswith("https://news.example.gov/unsubscribe/")
        assert mailto.startswith("mailto:unsubscribe@news.example.gov?subject=unsubscribe%20")
        assert message["List-Unsubscribe-Post"] == "List-Unsubscribe=One-Click"
        assert message["Content-Language"] == people[address]
        text, html = bodies(message)
        assert https in text and https in html  # the footer links to the same personal URL
        assert "Press Office, State Capitol, Albany" in text
    assert len(ids) == len(people)  # one Message-ID per person


def test_one_click_unsubscribe_from_a_delivered_alert_stops_the_next_one(
    db_settings: Settings, engine: Engine
) -> None:
    write_release(db_settings.root, SLUG, NOW - timedelta(minutes=10))
    everyone(engine, db_settings)
    notify(db_settings, NOW, engine=engine)
    deliver(db_settings, NOW, engine=engine)
    [message] = outbox_emails(db_settings)["ru.reader@example.org"]
    https = re.findall(r"<([^>]+)>", str(message["List-Unsubscribe"]))[0]
    path = https.removeprefix(db_settings.site.base_url)

    web = create_app(db_settings)
    try:
        client = TestClient(web)  # the mail provider's POST: no cookies, the RFC 8058 body
        answer = client.post(path, data={"List-Unsubscribe": "One-Click"}, follow_redirects=False)
        assert answer.status_code == 200
    finally:
        web.state.web.engine.dispose()
    with engine.connect() as conn:
        person = store.find_subscriber(conn, "ru.reader@example.org")
    assert person is not None and person.status == "unsubscribed"

    shutil.rmtree(db_settings.outbox_dir)
    write_release(db_settings.root, "second-news", NOW + timedelta(minutes=20), title="Second Health News")
    later = NOW + timedelta(minutes=30)
    assert notify(db_settings, later, engine=engine).emails == len(db_settings.language_codes) - 1
    deliver(db_settings, later, engine=engine)
    received = outbox_emails(db_settings)
    assert "ru.reader@example.org" not in received and len(received) == len(db_settings.language_codes) - 1


def test_the_first_run_on_an_existing_archive_alerts_nobody_about_old_releases(
    db_settings: Settings, engine: Engine
) -> None:
    everyone(engine, db_settings)
    subscribe(engine, "all@example.org", "en", topics=())
    report = notify(db_settings, NOW, engine=engine)  # the sample releases are days to weeks old
    assert (report.releases, report.emails, report.sms) == ([], 0, 0)
    wider = with_email(db_settings, alert_max_age_hours=24 * 30)
    assert "health-flu-clinics" in notify(wider, NOW, engine=engine).releases


def test_a_correction_realerts_only_when_it_says_so(db_settings: Settings, engine: Engine) -> None:
    when = NOW - timedelta(hours=3)
    write_release(db_settings.root, SLUG, when)
    everyone(engine, db_settings)
    notify(db_settings, when + timedelta(minutes=1), engine=engine)
    deliver(db_settings, when + timedelta(minutes=1), engine=engine)

    fixed = NOW - timedelta(hours=1)
    write_release(db_settings.root, SLUG, when, corrections=correction(fixed, realert=False))
    quiet = notify(db_settings, NOW, engine=engine)
    assert (quiet.emails, quiet.corrections) == (0, [])

    write_release(db_settings.root, SLUG, when, corrections=correction(fixed, realert=True))
    loud = notify(db_settings, NOW, engine=engine)
    assert loud.emails == len(db_settings.language_codes) and len(loud.corrections) == 1
    assert notify(db_settings, NOW + timedelta(minutes=1), engine=engine).emails == 0
    deliver(db_settings, NOW, engine=engine)
    received = outbox_emails(db_settings)["en.reader@example.org"]
    first, second = (" ".join(bodies(m)[0].split()) for m in received)
    assert "Saturdays, not Sundays" in second and "Saturdays, not Sundays" not in first
    ids = {m["Message-ID"] for m in received}
    assert len(ids) == 2


def test_a_realert_correction_older_than_the_first_alert_is_not_sent_again(
    db_settings: Settings, engine: Engine
) -> None:
    when = NOW - timedelta(hours=2)
    fixed = NOW - timedelta(hours=1)
    write_release(db_settings.root, SLUG, when, corrections=correction(fixed, realert=True))
    everyone(engine, db_settings)
    report = notify(db_settings, NOW, engine=engine)  # the alert already carries the corrected text
    assert (report.releases, report.corrections) == ([SLUG], [])
    assert report.emails == len(db_settings.language_codes)


def test_withdrawn_releases_never_alert(db_settings: Settings, engine: Engine) -> None:
    everyone(engine, db_settings)
    write_release(db_settings.root, "withdrawn-now", NOW - timedelta(minutes=5), status="withdrawn")
    assert notify(db_settings, NOW, engine=engine).emails == 0

    write_release(db_settings.root, SLUG, NOW - timedelta(minutes=5))
    assert notify(db_settings, NOW, engine=engine).emails == len(db_settings.language_codes)
    write_release(db_settings.root, SLUG, NOW - timedelta(minutes=5), status="withdrawn")  # before deliver
    later = NOW + timedelta(minutes=1)
    assert notify(db_settings, later, engine=engine).cancelled == len(db_settings.language_codes)
    assert deliver(db_settings, later, engine=engine).sent == 0
    assert outbox_emails(db_settings) == {}


def test_embargo_a_release_one_minute_after_now_is_not_alerted_until_its_time(
    db_settings: Settings, engine: Engine
) -> None:
    everyone(engine, db_settings)
    write_release(db_settings.root, SLUG, NOW + timedelta(minutes=1), title="Hudson Skyway Checkups")
    assert notify(db_settings, NOW, engine=engine).emails == 0
    assert deliver(db_settings, NOW, engine=engine).sent == 0
    assert outbox_emails(db_settings) == {}

    at_its_time = NOW + timedelta(minutes=1)
    assert notify(db_settings, at_its_time, engine=engine).releases == [SLUG]
    assert deliver(db_settings, at_its_time, engine=engine).sent == len(db_settings.language_codes)
    for [message] in outbox_emails(db_settings).values():
        text, html = bodies(message)
        assert "gondola" not in text + html  # the 2030 sample release never leaks into an alert
        assert EMBARGOED_WORDS[1] not in text + html


def test_wait_policy_holds_missing_languages_then_sends_whichever_exists(
    db_settings: Settings, engine: Engine
) -> None:
    settings = with_email(db_settings, translation_policy="wait", translation_wait_hours=2)
    when = NOW
    folder = write_release(settings.root, SLUG, when, languages=("ru",))
    people = everyone(engine, settings)

    first = notify(settings, when + timedelta(minutes=5), engine=engine)
    assert first.emails == 2  # en (the original) and ru (translated); the others wait
    assert sorted(first.waiting) == [f"{SLUG}:{lang}" for lang in ("ar", "es", "ht", "zh")]

    add_translation(folder, "es")  # arrives within the wait: Spanish readers get Spanish
    assert notify(settings, when + timedelta(minutes=30), engine=engine).emails == 1
    deliver(settings, when + timedelta(minutes=30), engine=engine)
    assert outbox_emails(settings)["es.reader@example.org"][0]["Subject"] == TITLES["es"]

    assert notify(settings, when + timedelta(hours=1), engine=engine).emails == 0  # still waiting
    after_wait = when + timedelta(hours=2, minutes=1)
    assert notify(settings, after_wait, engine=engine).emails == 3  # zh, ar, ht: the original + note
    deliver(settings, after_wait, engine=engine)
    assert outbox_emails(settings)["zh.reader@example.org"][0]["Subject"] == TITLES["en"]

    # Chinese arrives late: the reader who got the fallback is not alerted twice; a new reader gets Chinese.
    add_translation(folder, "zh")
    subscribe(engine, "new.zh.reader@example.org", "zh", now=after_wait)
    late = when + timedelta(hours=3)
    assert notify(settings, late, engine=engine).emails == 1
    deliver(settings, late, engine=engine)
    received = outbox_emails(settings)
    assert len(received["zh.reader@example.org"]) == 1
    assert received["new.zh.reader@example.org"][0]["Subject"] == TITLES["zh"]
    assert sum(len(m) for m in received.values()) == len(people) + 1


def test_fallback_policy_sends_everyone_at_once(db_settings: Settings, engine: Engine) -> None:
    write_release(db_settings.root, SLUG, NOW, languages=())
    everyone(engine, db_settings)
    report = notify(db_settings, NOW + timedelta(minutes=1), engine=engine)
    assert (report.emails, report.waiting) == (len(db_settings.language_codes), [])


def test_sms_subscribers_get_the_alert_through_the_same_stage(db_settings: Settings, engine: Engine) -> None:
    write_release(db_settings.root, SLUG, NOW - timedelta(minutes=10))
    subscribe(engine, "+15185550142", "ru", channel="sms")
    subscribe(engine, "ru.reader@example.org", "ru")
    report = notify(db_settings, NOW, engine=engine)
    assert (report.emails, report.sms) == (1, 1)
    assert notify(db_settings, NOW, engine=engine).sms == 0
    assert deliver(db_settings, NOW, engine=engine).sent == 2
    texts = list((db_settings.outbox_dir / "sms").glob("*.json"))
    assert len(texts) == 1 and "Штат открывает" in texts[0].read_text("utf-8")


def test_alerts_go_out_through_smtp(sample_root: Path, database_url: str, engine: Engine) -> None:
    with SmtpServer() as server:
        settings = smtp_settings(sample_root, database_url, server.port)
        write_release(settings.root, SLUG, NOW - timedelta(minutes=10))
        people = everyone(engine, settings)
        notify(settings, NOW, engine=engine)
        assert deliver(settings, NOW, engine=engine).sent == len(people)
        messages = server.messages()
    assert sorted(server.recipients()) == sorted(people)
    for message in messages:
        assert message.get_content_type() == "multipart/alternative"
        assert message["List-Unsubscribe-Post"] == "List-Unsubscribe=One-Click"


def test_publish_runs_notify_after_the_site_and_before_deliver() -> None:
    names = [name for name, _stage in build.STAGES]
    assert names.index("site") < names.index("notify") < names.index("deliver")


def test_cli_notify_queues_once(
    db_settings: Settings, engine: Engine, monkeypatch: pytest.MonkeyPatch
) -> None:
    write_release(db_settings.root, SLUG, NOW - timedelta(minutes=10))
    everyone(engine, db_settings)
    monkeypatch.setenv("NEWSROOM_DATABASE_URL", str(engine.url.render_as_string(hide_password=False)))
    runner = CliRunner()
    arguments = ["notify", "--root", str(db_settings.root), "--now", "2024-12-20 10:00 America/New_York"]
    first = runner.invoke(app, arguments)
    assert first.exit_code == 0, first.output
    assert "1 release(s) and 0 correction(s) alerted: 6 email(s)" in first.output
    again = runner.invoke(app, arguments)
    assert again.exit_code == 0 and "nothing new to alert" in again.output


def test_goodbye_and_preferences_messages_are_built_for_their_kinds(
    db_settings: Settings, engine: Engine
) -> None:
    person = subscribe(engine, "ru.reader@example.org", "ru")
    with engine.begin() as conn:
        goodbye = store.ensure_notification(conn, kind="goodbye", key="goodbye:1", payload={}, now=NOW)
        changed = store.ensure_notification(
            conn, kind="preferences", key="preferences:1",
            payload={"frequency": "daily", "topics": ["health"]}, now=NOW,
        )  # fmt: skip
        queue.plan(conn, changed, [person], "email", NOW)
        queue.plan(conn, goodbye, [person], "email", NOW)
    assert deliver(db_settings, NOW, engine=engine).sent == 2
    preferences, bye = outbox_emails(db_settings)["ru.reader@example.org"]
    assert "обновлена" in preferences["Subject"] and "Здравоохранение" in bodies(preferences)[0]
    assert bye["Content-Language"] == "ru" and bye["List-Unsubscribe"] is None  # not bulk mail


def test_a_realert_correction_added_after_the_alert_is_sent_even_if_backdated(
    db_settings: Settings, engine: Engine
) -> None:
    when = NOW - timedelta(hours=2)
    write_release(db_settings.root, SLUG, when)
    everyone(engine, db_settings)
    notify(db_settings, when + timedelta(minutes=30), engine=engine)
    backdated = when + timedelta(minutes=10)  # dated before the alert, written into the file after it
    write_release(db_settings.root, SLUG, when, corrections=correction(backdated, realert=True))
    report = notify(db_settings, NOW, engine=engine)
    assert len(report.corrections) == 1 and report.emails == len(db_settings.language_codes)


def test_publish_alerts_once_and_the_alert_links_to_a_page_the_site_has(sample_settings: Settings) -> None:
    settings = sample_settings
    write_release(settings.root, SLUG, NOW - timedelta(minutes=10))
    engine = open_database(settings)
    subscribe(engine, "ru.reader@example.org", "ru")
    engine.dispose()
    first = build.publish(settings, NOW)
    assert [line.split(":")[0] for line in first.summaries] == ["gate", "site", "notify", "deliver"]
    assert "1 release(s)" in first.summaries[2] and first.summaries[3].startswith("deliver: 1 sent")
    again = build.publish(settings, NOW + timedelta(minutes=5))
    assert again.summaries[2:] == ["notify: nothing new to alert", "deliver: nothing due to send"]
    [message] = outbox_emails(settings)["ru.reader@example.org"]
    page = re.search(r"https://news\.example\.gov(/ru/releases/[a-z-]+/)", bodies(message)[0])
    assert page is not None and (settings.site_dir / page.group(1).strip("/") / "index.html").is_file()


def test_alerts_go_to_immediate_subscribers_of_its_topics_or_of_everything(
    db_settings: Settings, engine: Engine
) -> None:
    write_release(db_settings.root, SLUG, NOW - timedelta(minutes=10), topics=("health", "jobs"))
    subscribe(engine, "everything@example.org", "es", topics=())
    subscribe(engine, "jobs@example.org", "en", topics=("jobs", "technology"))
    subscribe(engine, "tech@example.org", "en", topics=("technology",))
    subscribe(engine, "daily@example.org", "en", topics=("health",), frequency="daily")
    assert notify(db_settings, NOW, engine=engine).emails == 2
    deliver(db_settings, NOW, engine=engine)
    received = outbox_emails(db_settings)
    assert sorted(received) == ["everything@example.org", "jobs@example.org"]
    why = " ".join(bodies(received["jobs@example.org"][0])[0].split())
    assert "alerts about: Jobs and workers." in why  # the topic of theirs it matched
