"""Where every output lives, relative to the site root and as absolute URLs. One scheme for all.

Paths end in '/' for pages (served from index.html). Every renderer, feed, email and SMS builds
its links here, so a page, its PDF, its feeds and the links in alerts always agree.
"""

from __future__ import annotations

from newsroom.config import Settings


def home(language: str) -> str:
    return f"/{language}/"


def release_page(language: str, slug: str) -> str:
    return f"/{language}/releases/{slug}/"


def release_pdf(language: str, slug: str) -> str:
    return f"/{language}/releases/{slug}/{slug}-{language}.pdf"


def release_ics(language: str, slug: str) -> str:
    return f"/{language}/releases/{slug}/{slug}.ics"


def release_asset(slug: str, filename: str) -> str:
    """Images and attachments, shared by all languages of a release."""
    return f"/media/{slug}/{filename}"


def topic_page(language: str, topic: str) -> str:
    return f"/{language}/topics/{topic}/"


def office_page(language: str, office: str) -> str:
    return f"/{language}/offices/{office}/"


def archive_page(language: str, year: int, month: int) -> str:
    return f"/{language}/archive/{year:04d}/{month:02d}/"


def rss_feed(language: str, topic: str | None = None, office: str | None = None) -> str:
    return _feed_folder(language, topic, office) + "feed.xml"


def atom_feed(language: str, topic: str | None = None, office: str | None = None) -> str:
    return _feed_folder(language, topic, office) + "atom.xml"


def _feed_folder(language: str, topic: str | None, office: str | None) -> str:
    if topic:
        return topic_page(language, topic)
    if office:
        return office_page(language, office)
    return home(language)


# The subscription web app (served beside the static site, same origin).
SUBSCRIBE = "/subscribe"


def absolute(settings: Settings, path: str) -> str:
    return settings.site.base_url + path


# Personal links in emails: the token (newsroom.subscribers.tokens) names the subscriber and purpose.
def unsubscribe(token: str) -> str:
    return f"/unsubscribe/{token}"


def preferences(token: str) -> str:
    return f"/preferences/{token}"


def confirm(token: str) -> str:
    return f"/confirm/{token}"
