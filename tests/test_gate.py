"""The embargo gate: nothing is public before its time, drafts never, zones and DST respected."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest

from newsroom.config import Settings
from newsroom.content.loader import load_newsroom
from newsroom.content.times import parse_zoned, resolve_now
from newsroom.gate import State, gate, state_at
from tests.conftest import EMBARGOED_SLUG, SAMPLE_NOW


def write_release(root: Path, folder: str, release: str, status: str = "published") -> None:
    path = root / "releases" / "2025" / folder / "en.md"
    path.parent.mkdir(parents=True)
    path.write_text(
        "---\ntitle: Midnight notice\nkind: statement\n"
        f"release: {release}\noffice: governor\ntopics: [health]\nsummary: s\nstatus: {status}\n---\nBody.\n"
    )


def slugs_at(settings: Settings, now: datetime) -> set[str]:
    return {release.slug for release in gate(load_newsroom(settings), now).releases}


def test_embargoed_release_is_absent_before_and_present_after(sample_settings: Settings) -> None:
    newsroom = load_newsroom(sample_settings)
    release_time = newsroom.by_slug(EMBARGOED_SLUG).release_time
    assert EMBARGOED_SLUG not in {
        r.slug for r in gate(newsroom, release_time - timedelta(seconds=1)).releases
    }
    assert EMBARGOED_SLUG in {r.slug for r in gate(newsroom, release_time).releases}


def test_drafts_are_never_public(sample_settings: Settings) -> None:
    newsroom = load_newsroom(sample_settings)
    far_future = datetime(2100, 1, 1, tzinfo=UTC)
    published = gate(newsroom, far_future)
    assert "draft-broadband-plan" not in {r.slug for r in published.releases}
    assert "draft-broadband-plan" not in {r.slug for r in published.withdrawn}
    assert state_at(newsroom.by_slug("draft-broadband-plan"), far_future) is State.DRAFT


def test_withdrawn_release_leaves_listings_but_is_known_for_its_notice(sample_settings: Settings) -> None:
    published = gate(load_newsroom(sample_settings), SAMPLE_NOW)
    assert "withdrawn-bridge-closure" not in {r.slug for r in published.releases}
    assert [r.slug for r in published.withdrawn] == ["withdrawn-bridge-closure"]


def test_withdrawn_release_never_seen_before_its_time(sample_settings: Settings) -> None:
    newsroom = load_newsroom(sample_settings)
    release = newsroom.by_slug("withdrawn-bridge-closure")
    before = gate(newsroom, release.release_time - timedelta(minutes=1))
    assert release not in before.withdrawn
    assert release not in before.releases


@pytest.mark.parametrize(
    ("day", "public_from_utc"),
    [
        ("2025-01-15", datetime(2025, 1, 15, 5, 30, tzinfo=UTC)),
        ("2025-07-15", datetime(2025, 7, 15, 4, 30, tzinfo=UTC)),
    ],
    ids=["winter-EST", "summer-EDT"],
)
def test_a_release_at_half_past_midnight_new_york_follows_daylight_saving(
    sample_settings: Settings, day: str, public_from_utc: datetime
) -> None:
    write_release(sample_settings.root, f"{day}-midnight-notice", f"{day} 00:30 America/New_York")
    assert "midnight-notice" not in slugs_at(sample_settings, public_from_utc - timedelta(seconds=1))
    assert "midnight-notice" in slugs_at(sample_settings, public_from_utc)


def test_offsets_and_zone_names_mean_the_same_instant() -> None:
    assert parse_zoned("2024-11-25 10:00 America/New_York") == parse_zoned("2024-11-25T10:00:00-05:00")
    assert parse_zoned("2024-11-25T15:00:00Z") == parse_zoned("2024-11-25 10:00 America/New_York")


def test_naive_times_are_refused() -> None:
    with pytest.raises(ValueError, match="no time zone"):
        parse_zoned("2024-11-25 10:00")


def test_now_comes_from_the_option_then_the_environment(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("NEWSROOM_NOW", "2024-12-01 09:00 America/New_York")
    assert resolve_now(None) == datetime(2024, 12, 1, 14, 0, tzinfo=UTC)
    assert resolve_now("2024-12-02T00:00:00Z") == datetime(2024, 12, 2, tzinfo=UTC)
    monkeypatch.delenv("NEWSROOM_NOW")
    assert abs(resolve_now(None) - datetime.now(UTC)) < timedelta(minutes=1)


def test_gate_refuses_a_naive_now(sample_settings: Settings) -> None:
    with pytest.raises(ValueError):
        gate(load_newsroom(sample_settings), datetime(2024, 1, 1))


def test_a_listing_headline_is_what_the_localized_release_says(sample_settings: Settings) -> None:
    """Listings read `headline` (cheap) and release pages `localized` (whole): they must agree, for
    translated releases, releases shown in their original, and translations without a summary."""
    releases = load_newsroom(sample_settings).releases
    assert any(r.translations for r in releases) and any(not r.translations for r in releases)
    for release in releases:
        for language in sample_settings.language_codes:
            text = release.localized(language)
            assert release.headline(language) == (text.language, text.title, text.summary)
