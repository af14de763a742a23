"""What the email templates show: releases, digests and footers as localized, ready-to-print values.

Everything here depends only on (kind, language, content), never on the subscriber: personal links
are slot markers (see email_mime), so one rendering serves everyone who gets the same content.
"""

from __future__ import annotations

import re
import textwrap
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Literal

from babel import Locale
from babel.dates import format_date, format_interval, format_time, get_timezone_gmt, get_timezone_name
from babel.lists import format_list

from newsroom.config import Settings
from newsroom.content.models import Release
from newsroom.render import haitian, urls
from newsroom.render.i18n import babel_locale, translations
from newsroom.render.markdown import render_markdown

Frequency = Literal["immediate", "daily", "weekly"]
Gettext = Callable[[str], str]


@dataclass(frozen=True)
class Interest:
    """Why someone gets a message: how often they asked for news and on which topics."""

    frequency: Frequency
    topics: tuple[str, ...]

    def __post_init__(self) -> None:
        # the order someone picked topics in changes nothing shown: equal interests share renderings
        object.__setattr__(self, "topics", tuple(sorted(set(self.topics))))


@dataclass(frozen=True)
class ReleaseView:
    """One release as a reader of `reader` gets it, every string localized."""

    slug: str
    lang: str  # the language the text is in (the original when `fallback`)
    dir: str
    title: str
    subtitle: str
    summary: str
    dateline: str
    kind_label: str
    office: str
    when: str
    page_url: str
    pdf_url: str
    fallback_note: str  # "" unless the reader's language is missing
    body_html: str
    body_text: str
    image_url: str
    image_alt: str
    corrections: tuple[tuple[str, str], ...]  # (localized date, note)


@dataclass(frozen=True)
class TopicGroup:
    label: str
    releases: tuple[ReleaseView, ...]


def gettext_for(language: str) -> Gettext:
    return translations(language, "email").gettext


def kind_label(kind: str, _: Gettext) -> str:
    labels = {
        "press-release": _("Press release"),
        "media-advisory": _("Media advisory"),
        "statement": _("Statement"),
    }
    return labels[kind]


def language_name(code: str, reader: str) -> str:
    """`code`'s name in the reader's language, e.g. 'английский' for en read in Russian."""
    if reader == "ht":
        return haitian.LANGUAGE_NAMES.get(code, code)
    names = Locale.parse(babel_locale(reader)).languages
    return names.get(code) or names.get(code.split("-")[0]) or code


def format_moment(moment: datetime, language: str, settings: Settings) -> str:
    """Date and time in the site's time zone as the reader writes them, with the UTC offset."""
    local = moment.astimezone(settings.zone)
    if language == "ht":
        return haitian.format_moment(local, _gmt(local, "en"))
    locale = Locale.parse(babel_locale(language))
    pattern = str(locale.datetime_formats["long"]).replace("'", "")
    day = format_date(local, "long", locale=locale)
    clock = format_time(local, "short", locale=locale)
    zone = get_timezone_name(local, "short", locale=locale)
    if zone[:1] in "+-":  # no abbreviation in this language: say GMT-05:00 rather than -0500
        zone = _gmt(local, language)
    return f"{pattern.replace('{0}', clock).replace('{1}', day)} ({zone})"


def _gmt(local: datetime, language: str) -> str:
    # a real minus sign, which browsers do not break a line after
    return get_timezone_gmt(local, "long", locale=babel_locale(language)).replace("-", "\u2212")


def format_day(moment: datetime, language: str, settings: Settings) -> str:
    if language == "ht":
        return haitian.format_day(moment.astimezone(settings.zone).date())
    return format_date(moment.astimezone(settings.zone), "long", locale=babel_locale(language))


def format_period(period: tuple[datetime, datetime], language: str, settings: Settings) -> str:
    """A digest's days, end exclusive: '14–20 December 2024' in the reader's language."""
    first = period[0].astimezone(settings.zone).date()
    last = (period[1] - timedelta(microseconds=1)).astimezone(settings.zone).date()
    if language == "ht":
        return haitian.format_day(first) if first == last else haitian.format_period(first, last)
    if first == last:
        return format_date(first, "long", locale=babel_locale(language))
    return format_interval(first, last, "yMMMd", locale=babel_locale(language))


_VIEWS: dict[tuple[object, ...], ReleaseView] = {}
_VIEWS_KEPT = 2048


def release_view(release: Release, reader: str, settings: Settings, full: bool = True) -> ReleaseView:
    """The release for a reader of `reader`; with `full`, its body too (alerts; digests show summaries).
    Kept for reuse: thousands of digests show the same few releases."""
    texts = tuple((t.language, t.revision, t.meta.title, len(t.body)) for t in release.translations.values())
    key = (release.slug, release.revision, texts, reader, full, str(settings.root), settings.site.base_url)
    view = _VIEWS.get(key)
    if view is None:
        if len(_VIEWS) >= _VIEWS_KEPT:
            _VIEWS.clear()
        view = _VIEWS[key] = _release_view(release, reader, settings, full)
    return view


def _release_view(release: Release, reader: str, settings: Settings, full: bool) -> ReleaseView:
    _ = gettext_for(reader)
    text = release.localized(reader)
    note = ""
    if text.is_fallback:
        note = _(
            "This release is not yet available in your language. Here is the original (%(language)s)."
        ) % {"language": language_name(text.language, reader)}
    image = text.images[0] if text.images else None

    def asset(src: str) -> str:
        return src if "://" in src else urls.absolute(settings, urls.release_asset(release.slug, src))

    return ReleaseView(
        slug=release.slug,
        lang=text.language,
        dir=_direction(text.language, settings),
        title=text.title,
        subtitle=text.subtitle,
        summary=text.summary,
        dateline=text.dateline,
        kind_label=kind_label(release.meta.kind, _),
        office=settings.office_label(release.meta.office, reader),
        when=format_moment(release.release_time, reader, settings),
        page_url=urls.absolute(settings, urls.release_page(reader, release.slug)),
        pdf_url=urls.absolute(settings, urls.release_pdf(text.language, release.slug)),
        fallback_note=note,
        body_html=_absolute_assets(render_markdown(text.body), asset) if full else "",
        body_text=markdown_to_text(_absolute_markdown_assets(text.body, asset)) if full else "",
        image_url=asset(image.src) if image else "",
        image_alt=image.alt if image else "",
        corrections=tuple((format_day(fix.date, reader, settings), fix.note) for fix in text.corrections),
    )


def _direction(language: str, settings: Settings) -> str:
    return settings.language(language).dir if language in settings.language_codes else "ltr"


_HTML_SRC = re.compile(r'(<img [^>]*src=")([^"]+)(")')
_MARKDOWN_LINK = re.compile(r"(\]\()([^)\s]+)(\))")


def _absolute_assets(html: str, asset: Callable[[str], str]) -> str:
    """Images beside the release get absolute URLs and a width that fits a phone."""
    html = _HTML_SRC.sub(lambda m: m.group(1) + asset(m.group(2)) + m.group(3), html)
    return html.replace("<img ", '<img style="max-width:100%;height:auto" ')


def _absolute_markdown_assets(body: str, asset: Callable[[str], str]) -> str:
    def absolute(match: re.Match[str]) -> str:
        target = match.group(2)
        local = "://" not in target and not target.startswith(("mailto:", "tel:", "#"))
        return match.group(1) + (asset(target) if local else target) + match.group(3)

    return _MARKDOWN_LINK.sub(absolute, body)


_IMAGE = re.compile(r"!\[([^\]]*)\]\(([^)\s]+)\)")
_LINK = re.compile(r"\[([^\]]+)\]\(([^)\s]+)\)")
_STRONG = re.compile(r"(\*\*|__)(.+?)\1")


def markdown_to_text(body: str) -> str:
    """A Markdown body for the plain-text part: emphasis marks dropped, links as 'text <url>'."""
    body = _IMAGE.sub(lambda m: f"[{m.group(1)}]", body)
    body = _LINK.sub(lambda m: f"{m.group(1)} <{m.group(2)}>", body)
    return _STRONG.sub(lambda m: m.group(2), body)


def topic_groups(
    releases: Sequence[Release], interest: Interest, reader: str, settings: Settings
) -> tuple[TopicGroup, ...]:
    """A digest's releases under the reader's topics (in the site's topic order), newest first,
    each release once: under the first of its topics the reader follows."""
    followed = [topic for topic in settings.topics if topic in interest.topics]
    placed: set[str] = set()
    groups = []
    for topic in followed:
        members = [r for r in releases if topic in r.meta.topics and r.slug not in placed]
        members.sort(key=lambda r: r.release_time, reverse=True)
        placed.update(r.slug for r in members)
        if members:
            views = tuple(release_view(r, reader, settings, full=False) for r in members)
            groups.append(TopicGroup(settings.topic_label(topic, reader), views))
    return tuple(groups)


def why_sentence(interest: Interest | None, reader: str, settings: Settings) -> str:
    """The footer's reason for this email, e.g. 'a daily digest about: Health and Technology'."""
    _ = gettext_for(reader)
    if interest is None:
        return ""
    topics = _topic_list(interest, reader, settings)
    sentences = {
        "immediate": _("You get this email because you signed up for alerts about: %(topics)s."),
        "daily": _("You get this email because you signed up for a daily digest about: %(topics)s."),
        "weekly": _("You get this email because you signed up for a weekly digest about: %(topics)s."),
    }
    return sentences[interest.frequency] % {"topics": topics}


def interest_sentence(interest: Interest | None, reader: str, settings: Settings) -> str:
    """What someone gets, e.g. 'A daily digest about: Health and Technology.'"""
    _ = gettext_for(reader)
    if interest is None:
        return ""
    sentences = {
        "immediate": _("Alerts as soon as news is published, about: %(topics)s."),
        "daily": _("A daily digest about: %(topics)s."),
        "weekly": _("A weekly digest about: %(topics)s."),
    }
    return sentences[interest.frequency] % {"topics": _topic_list(interest, reader, settings)}


def _topic_list(interest: Interest, reader: str, settings: Settings) -> str:
    labels = [settings.topic_label(t, reader) for t in settings.topics if t in interest.topics]
    if reader == "ht":
        return haitian.format_list(labels)
    return format_list(labels, locale=babel_locale(reader)) if labels else ""


def wrap_plain(text: str, width: int = 74) -> str:
    """Plain text wrapped for reading: prose at `width`, list items indented, URLs never broken.
    Lines in scripts without spaces (Chinese) stay whole; mail clients wrap them on screen."""
    out: list[str] = []
    for line in text.split("\n"):
        if len(line) <= width or line == "-- ":  # short lines (and the signature separator) stay as they are
            out.append(line)
            continue
        lead = line[: len(line) - len(line.lstrip(" "))]
        marker = re.match(r"^(\s*(?:[-*+]|\d+[.)])\s+)", line)
        indent = " " * len(marker.group(1)) if marker else lead
        wrapped = textwrap.wrap(
            line.lstrip(" "),
            width,
            initial_indent=lead,
            subsequent_indent=indent,
            break_long_words=False,
            break_on_hyphens=False,
        )
        out.extend(wrapped or [""])
    return "\n".join(out)
