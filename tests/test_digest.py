"""Daily and weekly digests: periods follow the site's time zone, one digest per subscriber per period
with what became public in it on their topics, nothing when nothing, a re-run queues nothing new.
SQLite, and PostgreSQL with NEWSROOM_TEST_DATABASE_URL."""

from __future__ import annotations

import re
from datetime import UTC, date, datetime, timedelta

import pytest
from sqlalchemy import Engine
from typer.testing import CliRunner

from newsroom.cli import app
from newsroom.config import Settings
from newsroom.delivery.notify import digest, digest_period
from newsroom.delivery.worker import deliver
from newsroom.errors import NewsroomError
from tests.conftest import EMBARGOED_WORDS, SAMPLE_NOW
from tests.notify_support import bodies, outbox_emails, subscribe, write_release

pytest_plugins = ["tests.support.delivery_fixtures"]

FLU = "Department of Health Opens Free Flu Vaccine Clinics Across the State"
JOBS = "Statement from Labor Commissioner Marisol Ortega on Seasonal Winter Jobs"
DMV = "DMV to Announce Extended Evening and Saturday Office Hours"


def flat(text: str) -> str:
    return " ".join(text.split())


def test_periods_are_calendar_days_and_iso_weeks_in_the_site_time_zone(sample_settings: Settings) -> None:
    late_evening = datetime(2024, 12, 20, 3, 30, tzinfo=UTC)  # still the 19th, 22:30, in New York
    day = digest_period("daily", late_evening, sample_settings)
    assert day.key == "digest:daily:2024-12-18"
    assert (day.start, day.end) == (
        datetime(2024, 12, 18, 5, tzinfo=UTC),
        datetime(2024, 12, 19, 5, tzinfo=UTC),
    )
    week = digest_period("weekly", SAMPLE_NOW, sample_settings)  # a Friday: last week is Mon 9 - Sun 15
    assert week.key == "digest:weekly:2024-W50"
    assert (week.start, week.end) == (
        datetime(2024, 12, 9, 5, tzinfo=UTC),
        datetime(2024, 12, 16, 5, tzinfo=UTC),
    )
    assert digest_period("weekly", SAMPLE_NOW, sample_settings, date(2024, 12, 4)).label == "2024-W49"
    dst = digest_period("daily", SAMPLE_NOW, sample_settings, date(2024, 11, 3))  # clocks go back: 25 hours
    assert dst.end - dst.start == timedelta(hours=25)


def test_one_daily_digest_per_subscriber_with_their_topics_only(
    db_settings: Settings, engine: Engine
) -> None:
    subscribe(engine, "health.en@example.org", "en", topics=("health",), frequency="daily")
    subscribe(engine, "all.zh@example.org", "zh", topics=(), frequency="daily")
    subscribe(engine, "jobs.ru@example.org", "ru", topics=("jobs",), frequency="daily")  # nothing on the 12th
    subscribe(engine, "health.weekly@example.org", "en", topics=("health",), frequency="weekly")
    subscribe(engine, "health.now@example.org", "en", topics=("health",), frequency="immediate")

    report = digest(db_settings, "daily", SAMPLE_NOW, day=date(2024, 12, 12), engine=engine)
    assert (report.key, report.releases, report.planned) == ("digest:daily:2024-12-12", 1, 2)
    again = digest(
        db_settings, "daily", SAMPLE_NOW + timedelta(hours=5), day=date(2024, 12, 12), engine=engine
    )
    assert again.already and again.planned == 0
    assert deliver(db_settings, SAMPLE_NOW, engine=engine).sent == 2

    received = outbox_emails(db_settings)
    assert sorted(received) == ["all.zh@example.org", "health.en@example.org"]
    [english] = received["health.en@example.org"]
    assert english["Subject"] == "Daily news digest: December 12, 2024"
    assert english["List-Id"].endswith("<daily-digest.news.example.gov>")
    assert english["List-Unsubscribe-Post"] == "List-Unsubscribe=One-Click"
    assert FLU in flat(bodies(english)[0])
    [chinese] = received["all.zh@example.org"]
    assert chinese["Content-Language"] == "zh" and "2024年12月12日" in chinese["Subject"]
    assert "州卫生局" in bodies(chinese)[0] or "流感" in bodies(chinese)[0]  # the Chinese translation


def test_a_weekly_digest_gathers_the_week_and_mixes_languages(db_settings: Settings, engine: Engine) -> None:
    subscribe(engine, "es.weekly@example.org", "es", topics=("jobs", "transportation"), frequency="weekly")
    report = digest(db_settings, "weekly", SAMPLE_NOW, engine=engine)  # 2024-W50: Dec 9 - 15
    assert (report.key, report.planned) == ("digest:weekly:2024-W50", 1)
    deliver(db_settings, SAMPLE_NOW, engine=engine)
    [message] = outbox_emails(db_settings)["es.weekly@example.org"]
    text = flat(bodies(message)[0])
    assert message["Subject"].startswith("Resumen semanal")
    assert JOBS in text  # no Spanish translation: the original, with a note in Spanish
    assert DMV not in text  # Dec 5: the week before
    assert "Governor Proposes Plan" not in text  # a draft (Dec 15) is never public


def test_nothing_is_queued_when_nothing_became_public(db_settings: Settings, engine: Engine) -> None:
    subscribe(engine, "all@example.org", "en", topics=(), frequency="daily")
    quiet_day = digest(db_settings, "daily", SAMPLE_NOW, day=date(2024, 12, 14), engine=engine)
    assert (quiet_day.releases, quiet_day.planned) == (0, 0)
    withdrawn_day = digest(db_settings, "daily", SAMPLE_NOW, day=date(2024, 12, 18), engine=engine)
    assert withdrawn_day.planned == 0  # the withdrawn bridge closure never goes out
    assert deliver(db_settings, SAMPLE_NOW, engine=engine).sent == 0


def test_embargo_a_release_one_minute_after_now_is_in_no_digest(
    db_settings: Settings, engine: Engine
) -> None:
    midnight = datetime(2024, 12, 20, 5, 0, tzinfo=UTC)  # 00:00 in New York: the 19th is over
    write_release(
        db_settings.root, "just-before", midnight - timedelta(minutes=1), title="Before Midnight News"
    )
    write_release(
        db_settings.root, "one-minute-later", midnight + timedelta(minutes=1), title="Hudson Skyway News"
    )
    subscribe(engine, "all@example.org", "en", topics=(), frequency="daily")
    assert digest(db_settings, "daily", midnight, engine=engine).planned == 1
    deliver(db_settings, midnight, engine=engine)
    [message] = outbox_emails(db_settings)["all@example.org"]
    text, html = bodies(message)
    assert "Before Midnight News" in text
    for word in ("Hudson Skyway", *EMBARGOED_WORDS):
        assert word not in text and word not in html
    with pytest.raises(NewsroomError, match="period ends"):  # today is not over: no digest of it yet
        digest(db_settings, "daily", midnight, day=date(2024, 12, 20), engine=engine)


def test_cli_digest(db_settings: Settings, engine: Engine, monkeypatch: pytest.MonkeyPatch) -> None:
    subscribe(engine, "all@example.org", "en", topics=(), frequency="daily")
    monkeypatch.setenv("NEWSROOM_DATABASE_URL", engine.url.render_as_string(hide_password=False))
    runner = CliRunner()
    base = ["digest", "daily", "--root", str(db_settings.root), "--now", "2024-12-20 09:00 America/New_York"]
    first = runner.invoke(app, [*base, "--period", "2024-12-12"])
    assert first.exit_code == 0, first.output
    assert "digest:daily:2024-12-12: 1 release(s), 1 digest(s) queued" in first.output
    assert "already queued" in runner.invoke(app, [*base, "--period", "2024-12-12"]).output
    bad = runner.invoke(app, [*base, "--period", "12/12/2024"])
    assert bad.exit_code != 0 and re.search(r"--period .*2024-12-19", bad.output)
