"""Quiet hours in the site's time zone (America/New_York in the sample): night alerts wait for morning."""

from __future__ import annotations

from datetime import UTC, datetime, time
from zoneinfo import ZoneInfo

import pytest

from newsroom.config import Settings
from newsroom.delivery.quiet_hours import quiet_until, send_after

NY = ZoneInfo("America/New_York")


def ny(*args: int) -> datetime:
    return datetime(*args, tzinfo=NY)  # type: ignore[misc]


@pytest.mark.parametrize(
    ("queued", "expected"),
    [
        (ny(2024, 12, 10, 14, 0), ny(2024, 12, 10, 14, 0)),  # afternoon: at once
        (ny(2024, 12, 10, 20, 59), ny(2024, 12, 10, 20, 59)),  # just before quiet hours
        (ny(2024, 12, 10, 21, 0), ny(2024, 12, 11, 8, 0)),  # quiet hours start: next morning
        (ny(2024, 12, 10, 23, 30), ny(2024, 12, 11, 8, 0)),  # before midnight: next morning
        (ny(2024, 12, 11, 0, 15), ny(2024, 12, 11, 8, 0)),  # after midnight: this morning
        (ny(2024, 12, 11, 7, 59), ny(2024, 12, 11, 8, 0)),
        (ny(2024, 12, 11, 8, 0), ny(2024, 12, 11, 8, 0)),  # morning: at once
        (ny(2024, 12, 31, 22, 0), ny(2025, 1, 1, 8, 0)),  # across the new year
    ],
)
def test_quiet_hours_cross_midnight(sample_settings: Settings, queued: datetime, expected: datetime) -> None:
    assert send_after(queued, sample_settings, urgent=False) == expected.astimezone(UTC)


def test_urgent_alerts_ignore_quiet_hours(sample_settings: Settings) -> None:
    queued = ny(2024, 12, 10, 23, 30)
    assert send_after(queued, sample_settings, urgent=True) == queued.astimezone(UTC)


def test_the_window_is_site_local_not_utc(sample_settings: Settings) -> None:
    # 02:00 UTC is 21:00 in New York (EST): quiet, although it is the middle of the night only in NY.
    queued = datetime(2024, 12, 11, 2, 0, tzinfo=UTC)
    assert send_after(queued, sample_settings, urgent=False) == datetime(2024, 12, 11, 13, 0, tzinfo=UTC)


def test_spring_forward_night_releases_at_8_local_edt(sample_settings: Settings) -> None:
    # 2024-03-10: clocks jump 02:00 EST -> 03:00 EDT; the morning is 08:00 EDT = 12:00 UTC, not 13:00.
    queued = ny(2024, 3, 9, 22, 0)  # EST
    assert send_after(queued, sample_settings, urgent=False) == datetime(2024, 3, 10, 12, 0, tzinfo=UTC)


def test_fall_back_night_releases_at_8_local_est(sample_settings: Settings) -> None:
    # 2024-11-03: clocks fall 02:00 EDT -> 01:00 EST; 08:00 EST = 13:00 UTC.
    queued = ny(2024, 11, 2, 23, 0)  # EDT
    assert send_after(queued, sample_settings, urgent=False) == datetime(2024, 11, 3, 13, 0, tzinfo=UTC)
    # 01:30 happens twice that night; both are quiet and both wait for the same morning.
    first = datetime(2024, 11, 3, 1, 30, tzinfo=NY, fold=0)
    second = datetime(2024, 11, 3, 1, 30, tzinfo=NY, fold=1)
    assert first.astimezone(UTC) != second.astimezone(UTC)
    for queued in (first, second):
        assert send_after(queued, sample_settings, urgent=False) == datetime(2024, 11, 3, 13, 0, tzinfo=UTC)


def test_a_morning_that_falls_in_a_dst_gap_opens_just_after_it() -> None:
    # quiet 23:00-02:30: on 2024-03-10 02:30 does not exist in New York; the queue opens at 03:30 EDT.
    opens = quiet_until(ny(2024, 3, 10, 1, 0), time(23, 0), time(2, 30), NY)
    assert opens == datetime(2024, 3, 10, 7, 30, tzinfo=UTC)
    assert opens.astimezone(NY).hour == 3


def test_a_daytime_window_and_no_window(sample_settings: Settings) -> None:
    assert quiet_until(ny(2024, 12, 10, 13, 0), time(12, 0), time(14, 0), NY) == ny(2024, 12, 10, 14, 0)
    assert quiet_until(ny(2024, 12, 10, 15, 0), time(12, 0), time(14, 0), NY) == ny(2024, 12, 10, 15, 0)
    assert quiet_until(ny(2024, 12, 10, 13, 0), time(9, 0), time(9, 0), NY) == ny(2024, 12, 10, 13, 0)


def test_naive_times_are_refused(sample_settings: Settings) -> None:
    with pytest.raises(ValueError, match="time zone"):
        send_after(datetime(2024, 12, 10, 23, 0), sample_settings, urgent=False)
