"""`newsroom status`: what goes out when, in which languages, and which translations are stale."""

from __future__ import annotations

from dataclasses import asdict, dataclass
from datetime import datetime

from newsroom.content.models import Newsroom
from newsroom.gate import state_at


@dataclass(frozen=True)
class StatusRow:
    slug: str
    kind: str
    office: str
    state: str
    release_time: str  # in the site's time zone, ISO 8601 with offset
    languages: list[str]
    missing: list[str]
    stale: list[str]
    revision: str
    title: str


def status_rows(newsroom: Newsroom, now: datetime) -> list[StatusRow]:
    """One row per release, soonest-upcoming and newest first."""
    zone = newsroom.settings.zone
    return [
        StatusRow(
            slug=release.slug,
            kind=release.kind,
            office=release.office,
            state=state_at(release, now).value,
            release_time=release.release_time.astimezone(zone).isoformat(),
            languages=release.languages,
            missing=release.missing_languages(newsroom.settings),
            stale=release.stale_translations(),
            revision=release.revision,
            title=release.meta.title,
        )
        for release in newsroom.releases
    ]


def rows_as_dicts(rows: list[StatusRow]) -> list[dict[str, object]]:
    return [asdict(row) for row in rows]
