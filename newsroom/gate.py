"""The embargo gate: the one place that decides what may be public at `now`.

Renderers and notifiers only ever receive a `Published` view, never the whole Newsroom.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from enum import StrEnum

from newsroom.config import Settings
from newsroom.content.models import Newsroom, Release


class State(StrEnum):
    DRAFT = "draft"
    SCHEDULED = "scheduled"  # published, but its release time is after now: under embargo
    PUBLIC = "public"
    WITHDRAWN = "withdrawn"


def state_at(release: Release, now: datetime) -> State:
    """What a release is at `now`. A withdrawn release that never went public stays invisible."""
    if release.status == "draft":
        return State.DRAFT
    if release.release_time > now:
        return State.SCHEDULED
    if release.status == "withdrawn":
        return State.WITHDRAWN
    return State.PUBLIC


@dataclass(frozen=True)
class Published:
    """What may be seen at `now`: public releases (newest first) and withdrawn ones (for notices)."""

    settings: Settings
    now: datetime
    releases: tuple[Release, ...]
    withdrawn: tuple[Release, ...]

    def by_slug(self, slug: str) -> Release:
        for release in self.releases:
            if release.slug == slug:
                return release
        raise KeyError(slug)


def gate(newsroom: Newsroom, now: datetime) -> Published:
    if now.tzinfo is None:
        raise ValueError("now must carry a time zone")
    states = [(release, state_at(release, now)) for release in newsroom.releases]
    return Published(
        settings=newsroom.settings,
        now=now,
        releases=tuple(r for r, state in states if state is State.PUBLIC),
        withdrawn=tuple(r for r, state in states if state is State.WITHDRAWN),
    )
