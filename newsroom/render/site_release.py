"""Render one release's pages: the page per language, its .ics event, its media, withdrawal notices."""

from __future__ import annotations

from datetime import datetime
from html import escape
from types import SimpleNamespace
from typing import TYPE_CHECKING, Any

from newsroom.content.body import is_local_asset, scan_body
from newsroom.content.models import Localized, Release
from newsroom.render import site_pages as pages
from newsroom.render import urls
from newsroom.render.base import Artifact
from newsroom.render.i18n import translations
from newsroom.render.site_text import (
    body_html,
    date_text,
    datetime_text,
    host_domain,
    ics_event,
    iso,
    json_ld,
    time_text,
)

if TYPE_CHECKING:
    from newsroom.config import Settings
    from newsroom.render.site import SiteInputs


def render_release(site: SiteInputs, release: Release, language: str) -> list[Artifact]:
    settings = site.settings
    text = release.localized(language)
    meta = release.meta
    context = pages.chrome(site, language)
    page_url = urls.release_page(language, release.slug)
    fields = _field_languages(release, language)
    description = text.summary or text.subtitle or text.title
    context["page"] = pages.meta(
        settings,
        language,
        lambda code: urls.release_page(code, release.slug),
        release.languages,
        text.title,
        description,
    )
    image = (
        urls.absolute(settings, urls.release_asset(release.slug, meta.images[0].src)) if meta.images else ""
    )
    page = context["page"]
    page.og = SimpleNamespace(type="article", image=image, image_alt=text.images[0].alt if image else "")
    page.published = iso(release.release_time, settings.zone)
    page.modified = iso(release.updated_time, settings.zone)
    page.jsonld = json_ld(
        _news_article(settings, release, text, description, (page.published, page.modified))
    )
    context.update(
        release=release,
        text=text,
        kind_label=pages.kind_label(meta.kind, language),
        office=(settings.office_label(meta.office, language), urls.office_page(language, meta.office)),
        topics=[(settings.topic_label(t, language), urls.topic_page(language, t)) for t in meta.topics],
        released=datetime_text(release.release_time, language, settings.zone),
        released_iso=page.published,
        body=_with_dateline(
            body_html(text.body, release.slug), text.dateline, fields.dateline, language, settings
        ),
        images=[(urls.release_asset(release.slug, i.src), i) for i in text.images],
        attachments=[(urls.release_asset(release.slug, a.src), a.title) for a in meta.attachments],
        corrections=[
            (date_text(c.date, language, settings.zone), iso(c.date, settings.zone), c.note)
            for c in text.corrections
        ],
        event=_event(settings, text.event, language),
        field_lang=fields,
        ics_url=urls.release_ics(language, release.slug) if text.event else "",
        pdf_url=urls.release_pdf(language, release.slug),
    )
    artifacts = [pages.page(language, "release.html", pages.file_for(page_url), context)]
    if text.event is not None:
        artifacts.append(_ics(settings, release, text, description))
    return artifacts


def _with_dateline(body: str, dateline: str, dateline_lang: str, language: str, settings: Settings) -> str:
    """'ALBANY, N.Y. — ' runs into the first paragraph, as on the wire."""
    if not dateline or not body.startswith("<p>"):
        return body
    attrs = (
        ""
        if dateline_lang == language
        else f' lang="{dateline_lang}" dir="{settings.language(dateline_lang).dir}"'
    )
    return f'<p><span class="dateline"{attrs}>{escape(dateline)} —</span> {body[3:]}'


def _field_languages(release: Release, language: str) -> SimpleNamespace:
    """Which language each optional field is in: a translation may leave some to the original."""
    translation = release.translations.get(language)
    original = release.language
    if translation is None:
        return SimpleNamespace(
            subtitle=language,
            dateline=language,
            place=language,
            images=[language] * len(release.meta.images),
            corrections=[language] * len(release.meta.corrections),
        )
    text = translation.meta

    def pick(value: str) -> str:
        return language if value else original

    return SimpleNamespace(
        subtitle=pick(text.subtitle),
        dateline=pick(text.dateline),
        place=pick(text.event.place if text.event else ""),
        images=[
            pick(text.images[i].caption if i < len(text.images) else "")
            for i in range(len(release.meta.images))
        ],
        corrections=[
            pick(text.corrections[i].note if i < len(text.corrections) else "")
            for i in range(len(release.meta.corrections))
        ],
    )


def _event(settings: Settings, event: Any, language: str) -> SimpleNamespace | None:
    if event is None:
        return None
    return SimpleNamespace(
        start=datetime_text(event.start, language, settings.zone),
        start_iso=iso(event.start, settings.zone),
        end=_event_end(event.start, event.end, language, settings) if event.end else "",
        end_iso=iso(event.end, settings.zone) if event.end else "",
        place=event.place,
        address=event.address,
    )


def _event_end(start: datetime, end: datetime, language: str, settings: Settings) -> str:
    """Only the time when the event ends on the day it starts: '11:00 AM EST – 12:00 PM EST'."""
    local_start, local_end = start.astimezone(settings.zone), end.astimezone(settings.zone)
    if local_start.date() != local_end.date():
        return datetime_text(end, language, settings.zone)
    return f"{time_text(local_end, language)} {local_end.tzname()}"


def _ics(settings: Settings, release: Release, text: Localized, description: str) -> Artifact:
    language = text.requested
    assert text.event is not None
    page = urls.absolute(settings, urls.release_page(language, release.slug))
    location = ", ".join(part for part in (text.event.place, text.event.address) if part)
    data = ics_event(
        uid=f"{release.slug}-{language}@{host_domain(settings.site.base_url).lstrip('.')}",
        stamp=release.updated_time,
        start=text.event.start,
        end=text.event.end,
        summary=text.title,
        location=location,
        description=f"{description}\n{page}",
        url=page,
        language=language,
    )
    return Artifact(urls.release_ics(language, release.slug).lstrip("/"), data)


def _news_article(
    settings: Settings, release: Release, text: Localized, description: str, times: tuple[str, str]
) -> dict[str, object]:
    """schema.org NewsArticle: translations point at each other, corrections are listed. `times`:
    when it was published and last modified, in ISO 8601."""
    language = text.requested

    def page(code: str) -> str:
        return urls.absolute(settings, urls.release_page(code, release.slug))

    office = {"@type": "GovernmentOrganization", "name": settings.office_label(release.meta.office, language)}
    data: dict[str, object] = {
        "@context": "https://schema.org",
        "@type": "NewsArticle",
        "@id": page(language),
        "url": page(language),
        "mainEntityOfPage": page(language),
        "headline": text.title,
        "description": description,
        "inLanguage": language,
        "datePublished": times[0],
        "dateModified": times[1],
        "author": office,
        "publisher": {
            "@type": "GovernmentOrganization",
            "name": settings.site_name(language),
            "url": urls.absolute(settings, urls.home(language)),
        },
        "articleSection": [settings.topic_label(t, language) for t in release.meta.topics],
    }
    if release.meta.images:
        data["image"] = [
            urls.absolute(settings, urls.release_asset(release.slug, i.src)) for i in release.meta.images
        ]
    if text.corrections:
        data["correction"] = [
            {"@type": "CorrectionComment", "text": c.note, "datePublished": iso(c.date, settings.zone)}
            for c in text.corrections
        ]
    if language == release.language:
        others = [code for code in release.languages if code != language]
        if others:
            data["workTranslation"] = [
                {"@type": "NewsArticle", "@id": page(c), "inLanguage": c} for c in others
            ]
    else:
        data["translationOfWork"] = {
            "@type": "NewsArticle",
            "@id": page(release.language),
            "inLanguage": release.language,
        }
    return data


def render_withdrawn(site: SiteInputs, release: Release, language: str) -> list[Artifact]:
    settings = site.settings
    text = release.localized(language)
    gettext = translations(language, "site").gettext
    context = pages.chrome(site, language)
    context["page"] = pages.meta(
        settings,
        language,
        lambda code: urls.release_page(code, release.slug),
        release.languages,
        gettext("Release withdrawn"),
        gettext("This release has been withdrawn."),
    )
    context.update(
        text=text,
        released=date_text(release.release_time, language, settings.zone),
        note=release.meta.withdrawn_note,
        note_lang=release.language,
        note_dir=settings.language(release.language).dir,
    )
    return [
        pages.page(
            language, "withdrawn.html", pages.file_for(urls.release_page(language, release.slug)), context
        )
    ]


def media_files(release: Release) -> list[str]:
    """Files beside the release that its pages link to: images, attachments, images in the body."""
    names = {image.src for image in release.meta.images} | {a.src for a in release.meta.attachments}
    for body in [release.body, *(t.body for t in release.translations.values())]:
        if "![" in body:
            names |= {src for _, src, _ in scan_body(body).images if is_local_asset(src)}
    return sorted(name for name in names if (release.folder / name).is_file())


def render_media(release: Release) -> list[Artifact]:
    return [
        Artifact(urls.release_asset(release.slug, name).lstrip("/"), (release.folder / name).read_bytes())
        for name in media_files(release)
    ]
