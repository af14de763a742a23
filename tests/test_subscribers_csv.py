"""Staff work with subscriber lists: CSV import/export and the `newsroom subscribers` commands."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from typer.testing import CliRunner

from newsroom.cli import app
from newsroom.subscribers import store
from newsroom.subscribers.db import engine_for
from tests.conftest import SAMPLE_NOW

pytest_plugins = ["tests.support.delivery_fixtures"]

GOOD_AND_BAD = """\
email,phone,language,topics,frequency,channel
ana@example.org,,es,health;jobs,immediate,email
Li.Wei@Example.org,+1 212 555 0134,zh,,daily,email;sms
bad-address,,en,,,
sam@example.org,,xx,,,
,,en,,,
pat@example.org,,en,gardening,weekly,email
,(212) 555-0199,ht,,,sms
kim@example.org,,,,monthly,
lee@example.org,,en,,,sms
"""


@pytest.fixture
def newsroom(sample_root: Path, database_url: str, monkeypatch: pytest.MonkeyPatch) -> Path:
    """The sample newsroom, its database on the test database, commands run at SAMPLE_NOW."""
    monkeypatch.setenv("NEWSROOM_DATABASE_URL", database_url)
    monkeypatch.setenv("NEWSROOM_NOW", SAMPLE_NOW.isoformat())
    return sample_root


def run(root: Path, *args: str) -> tuple[int, str]:
    result = CliRunner().invoke(app, [*args, "--root", str(root)])
    return result.exit_code, result.output


def write(root: Path, name: str, text: str) -> Path:
    path = root / name
    path.write_text(text, encoding="utf-8")
    return path


def test_import_reports_bad_rows_by_line_and_imports_the_good_ones(newsroom: Path) -> None:
    csv_file = write(newsroom, "list.csv", GOOD_AND_BAD)
    code, output = run(newsroom, "subscribers", "import", str(csv_file))
    assert code == 1, output
    for line, words in (
        (4, "bad-address"),
        (5, "language 'xx'"),
        (6, "neither an email nor a phone"),
        (7, "gardening"),
        (9, "frequency 'monthly'"),
        (10, "channel sms needs a phone number"),
    ):
        assert f"list.csv:{line}: error: " in output and words in output, (line, output)
    assert "3 added" in output and "6 bad row(s)" in output
    code, listing = run(newsroom, "subscribers", "export")
    assert code == 0
    assert listing.splitlines() == [
        "email,phone,language,topics,frequency,channel",
        "ana@example.org,,es,health;jobs,immediate,email",
        "li.wei@example.org,+12125550134,zh,,daily,email;sms",
        ",+12125550199,ht,,immediate,sms",
    ]


def test_importing_twice_changes_nothing(newsroom: Path, database_url: str) -> None:
    csv_file = write(newsroom, "list.csv", GOOD_AND_BAD)
    run(newsroom, "subscribers", "import", str(csv_file))
    _, before = run(newsroom, "subscribers", "export")
    _, output = run(newsroom, "subscribers", "import", str(csv_file))
    _, after = run(newsroom, "subscribers", "export")
    assert "0 added, 0 updated, 3 unchanged" in output
    assert before == after
    with engine_for(database_url).connect() as conn:
        assert store.count_consent_actions(conn) == {"import": 4}  # one per address, from the first import


def test_export_round_trips_through_import(newsroom: Path, tmp_path: Path, database_url: str) -> None:
    people = """\
email,phone,language,topics,frequency,channel
ana@example.org,+12125550134,es,health,daily,email
ana@example.org,+12125550134,es,,immediate,sms
bo@example.org,,ar,jobs;technology,weekly,email
"""
    run(newsroom, "subscribers", "import", str(write(newsroom, "people.csv", people)))
    exported = newsroom / "export.csv"
    code, output = run(newsroom, "subscribers", "export", str(exported))
    assert code == 0, output
    text = exported.read_text(encoding="utf-8")
    assert text.splitlines() == [
        "email,phone,language,topics,frequency,channel",
        "ana@example.org,+12125550134,es,health,daily,email",
        "ana@example.org,+12125550134,es,,immediate,sms",
        "bo@example.org,,ar,jobs;technology,weekly,email",
    ]
    # into a second, empty newsroom database: the same list comes out again
    other = f"sqlite:///{tmp_path / 'other.db'}"
    env = {"NEWSROOM_DATABASE_URL": other, "NEWSROOM_NOW": SAMPLE_NOW.isoformat()}
    runner = CliRunner()
    imported = runner.invoke(app, ["subscribers", "import", str(exported), "--root", str(newsroom)], env=env)
    assert imported.exit_code == 0, imported.output
    again = runner.invoke(app, ["subscribers", "export", "--root", str(newsroom)], env=env)
    assert again.output == text


def test_import_never_re_adds_someone_who_unsubscribed(newsroom: Path) -> None:
    csv_file = write(newsroom, "list.csv", "email,language\nana@example.org,es\nbo@example.org,en\n")
    run(newsroom, "subscribers", "import", str(csv_file))
    code, output = run(newsroom, "subscribers", "remove", "ANA@example.org")
    assert code == 0 and "unsubscribed subscriber" in output
    code, output = run(newsroom, "subscribers", "import", str(csv_file))
    assert code == 0
    assert "list.csv:2: warning: ana@example.org unsubscribed: not re-added" in output
    _, listing = run(newsroom, "subscribers", "export")
    assert "ana@example.org" not in listing and "bo@example.org" in listing


def test_a_file_without_address_columns_is_refused_with_the_fix(newsroom: Path) -> None:
    code, output = run(
        newsroom, "subscribers", "import", str(write(newsroom, "x.csv", "name,mail\nAna,a@b.c\n"))
    )
    assert code == 1
    assert "x.csv:1: error: unknown column(s) ['name', 'mail']" in output
    assert "email, phone, language, topics, frequency, channel" in output


def test_add_list_remove_and_stats(newsroom: Path) -> None:
    code, output = run(
        newsroom, "subscribers", "add", "--email", "New@Example.org", "--language", "ru", "--topic", "health"
    )
    assert code == 0 and "added subscriber 1" in output, output
    code, output = run(
        newsroom, "subscribers", "add", "--email", "new@example.org", "--language", "ru", "--topic", "health"
    )
    assert "unchanged: subscriber 1" in output
    code, output = run(newsroom, "subscribers", "add", "--phone", "12")
    assert code == 1 and "phone '12'" in output
    code, output = run(newsroom, "subscribers", "list", "--format", "json")
    [person] = json.loads(output)
    assert person["email"] == "new@example.org" and person["language"] == "ru"
    assert person["subscriptions"] == [{"channel": "email", "frequency": "immediate", "topics": ["health"]}]
    code, output = run(newsroom, "subscribers", "stats")
    assert "subscribers: active: 1" in output and "health: 1" in output
    code, output = run(newsroom, "subscribers", "remove", "new@example.org", "--erase")
    assert code == 0 and "erased" in output
    code, output = run(newsroom, "subscribers", "stats")
    assert "subscribers: none" in output
    assert "suppressions: unsubscribed: 1" in output
    assert "consent log: subscribe: 1, unsubscribe: 1" in output  # the record outlives the person
    code, output = run(newsroom, "subscribers", "remove", "nobody@example.org")
    assert code == 1 and "no subscriber with nobody@example.org" in output


def test_send_test_and_deliver_fill_the_outbox(newsroom: Path) -> None:
    run(newsroom, "subscribers", "add", "--email", "ana@example.org", "--language", "es")
    code, output = run(newsroom, "subscribers", "send-test")
    assert code == 0 and "queued 1 test message" in output
    code, output = run(newsroom, "deliver")
    assert code == 0 and "deliver: 1 sent" in output and "email via outbox" in output
    [eml] = (newsroom / "outbox" / "email" / "new").iterdir()
    assert eml.suffix == ".eml"
    code, output = run(newsroom, "deliver")
    assert "deliver: nothing due to send" in output
