"""Render site pages: build each page's context and fill its Jinja2 template (runs in worker processes)."""

from __future__ import annotations

import hashlib
from collections.abc import Callable
from dataclasses import dataclass
from datetime import date
from functools import cache, lru_cache
from pathlib import Path
from types import SimpleNamespace
from typing import TYPE_CHECKING, Any, NamedTuple

import jinja2
from babel.core import get_global
from babel.dates import format_skeleton
from babel.support import NullTranslations
from markupsafe import Markup

from newsroom.content.models import Release
from newsroom.render import haitian, i18n, urls
from newsroom.render.base import Artifact
from newsroom.render.i18n import babel_locale, long_date, translations
from newsroom.render.site_text import (
    host_domain,
    language_name,
)

if TYPE_CHECKING:
    from newsroom.config import Settings
    from newsroom.render.site import SiteInputs

TEMPLATES = Path(__file__).resolve().parents[2] / "templates" / "site"
STATIC_FILES = ("site.css", "print.css")
CSS_URL = "/static/site.css"
PRINT_CSS_URL = "/static/print.css"


@cache
def environment() -> jinja2.Environment:
    """One environment for every language, so each template is compiled once per process.

    Pages get their language's `_` and `ngettext` in the render context (see `_template_i18n`), and
    the macros as `m`, made once per language with them (see `chrome`). Templates are not re-read
    while the process lives: `newsroom serve` clears this cache before each rebuild."""
    options: dict[str, Any] = {
        "autoescape": True,
        "trim_blocks": True,
        "lstrip_blocks": True,
        "keep_trailing_newline": True,
        "undefined": jinja2.StrictUndefined,
    }
    env = jinja2.Environment(
        loader=jinja2.FileSystemLoader(TEMPLATES),
        auto_reload=False,
        bytecode_cache=_bytecode_cache(options),
        **options,
    )
    env.globals["foreign"] = foreign
    return env


def foreign(fragment_lang: str, page_lang: str, dirs: dict[str, str]) -> Markup:
    """` lang="ru" dir="ltr"` on a fragment whose language differs from the page's, else nothing
    (a function, not a macro: pages call it for many fragments, and a macro call costs ten times more)."""
    if fragment_lang == page_lang:
        return Markup()
    return Markup(' lang="{}" dir="{}"').format(fragment_lang, dirs[fragment_lang])


def kind_label(kind: str, language: str) -> str:
    """'Press release', 'Media advisory' or 'Statement' in the reader's language."""
    gettext = translations(language, "site").gettext
    if kind == "media-advisory":
        return gettext("Media advisory")
    if kind == "statement":
        return gettext("Statement")
    return gettext("Press release")


def _bytecode_cache(options: dict[str, Any]) -> jinja2.BytecodeCache | None:
    """Compiled templates kept between runs, in Jinja's private folder in the system's temp dir:
    compiling them was 70 ms of every build. An entry is used only while its template's source is
    unchanged (Jinja checks a checksum) and with the same options (they name the entry); without a
    usable temp dir, templates are compiled each time."""
    tag = hashlib.sha256(repr(sorted(options.items())).encode()).hexdigest()[:12]
    try:
        return jinja2.FileSystemBytecodeCache(pattern=f"__newsroom_site_{tag}_%s.cache")
    except OSError:
        return None


@lru_cache(maxsize=32)  # keyed by the catalog object: a reloaded catalog gets new callables
def _template_i18n(catalog: NullTranslations) -> dict[str, Callable[..., Markup]]:
    """`_` and `ngettext` for templates, as Jinja's i18n extension makes them with newstyle=True
    and autoescaping: the translation is markup, its %-variables are escaped; results without
    variables are remembered, since every page repeats the same strings."""
    plain: dict[str, Markup] = {}

    def gettext(message: str, **variables: Any) -> Markup:
        if variables:
            return Markup(catalog.gettext(message)) % variables
        translated = plain.get(message)
        if translated is None:
            translated = plain[message] = Markup(catalog.gettext(message)) % variables
        return translated

    def ngettext(singular: str, plural: str, num: int, **variables: Any) -> Markup:
        variables.setdefault("num", num)
        return Markup(catalog.ngettext(singular, plural, num)) % variables

    return {"_": gettext, "gettext": gettext, "ngettext": ngettext}


def page(language: str, template: str, path: str, context: dict[str, Any]) -> Artifact:
    context.update(_template_i18n(translations(language, "site")))
    html = environment().get_template(template).render(context)
    return Artifact(path, html.encode("utf-8"))


def file_for(url: str) -> str:
    """The file behind a page URL: '/ru/' -> 'ru/index.html'."""
    path = url.lstrip("/")
    return path + "index.html" if path.endswith("/") or not path else path


# --- shared context --------------------------------------------------------------------------------


def chrome(site: SiteInputs, language: str) -> dict[str, Any]:
    """What every page of a language shows: banner, header, footer, filters (a new dict per page)."""
    context = dict(_chrome(site.settings, language))
    env, catalog = environment(), translations(language, "site")
    context["parts"] = _page_parts(env, catalog, site.settings, language)
    context["m"] = _macros(env, catalog, site.settings, language)
    return context


@lru_cache(maxsize=64)  # keyed by the environment and catalog too: `serve` reloads both
def _page_parts(
    env: jinja2.Environment, catalog: NullTranslations, settings: Settings, language: str
) -> SimpleNamespace:
    """The pieces of base.html that are the same on every page of a language, rendered once."""
    module = _language_module(env, "_page_parts.html", catalog, settings, language)
    names = ("head_links", "top", "actions", "footer", "filters")
    return SimpleNamespace(**{name: getattr(module, name)() for name in names})


@lru_cache(maxsize=64)
def _macros(env: jinja2.Environment, catalog: NullTranslations, settings: Settings, language: str) -> Any:
    """_macros.html with the language's `_`, made once: imported `with context` by every page, it
    was run again for each one."""
    return _language_module(env, "_macros.html", catalog, settings, language)


def _language_module(
    env: jinja2.Environment, template: str, catalog: NullTranslations, settings: Settings, language: str
) -> Any:
    context = {**_chrome(settings, language), **_template_i18n(catalog)}
    return env.get_template(template).make_module(context)


@lru_cache(maxsize=64)  # the same for every page of a language: made once per process
def _chrome(settings: Settings, language: str) -> dict[str, Any]:
    return {
        "lang": language,
        "dir": settings.language(language).dir,
        "site_name": settings.site_name(language),
        "home_url": urls.home(language),
        "home_absolute": urls.absolute(settings, urls.home(language)),
        "dirs": {lang.code: lang.dir for lang in settings.languages},
        "og_locale": _og_locale(language),
        "og_locales": {code: _og_locale(code) for code in settings.language_codes},
        "archive_url": archive_index(language),
        "subscribe_url": urls.SUBSCRIBE,
        "rss_url": urls.rss_feed(language),
        "atom_url": urls.atom_feed(language),
        "css_url": CSS_URL,
        "print_css_url": PRINT_CSS_URL,
        "banner_domain": host_domain(settings.site.base_url),
        "sms_keyword": settings.sms.keyword,
        "sms_number": settings.sms.short_code,
        "press_email": settings.email.reply_to,
        "topics": [
            (settings.topic_label(t, language), urls.topic_page(language, t)) for t in settings.topics
        ],
        "offices": [
            (settings.office_label(o, language), urls.office_page(language, o)) for o in settings.offices
        ],
    }


@cache
def _og_locale(language: str) -> str:
    """OpenGraph wants language_TERRITORY (ru_RU, zh_CN); CLDR's likely subtags supply the territory."""
    code = babel_locale(language)
    likely = str(get_global("likely_subtags").get(code.split("_")[0], code))
    parts = likely.split("_")
    return f"{parts[0]}_{parts[-1]}" if len(parts) > 1 else parts[0]


@dataclass(frozen=True)
class Link:
    code: str  # language code
    name: str  # the language's own name
    url: str  # site-relative
    absolute: str
    dir: str


def _language_links(settings: Settings, codes: list[str], url_of: Any) -> list[Link]:
    return [
        Link(
            code,
            settings.language(code).name,
            url_of(code),
            urls.absolute(settings, url_of(code)),
            settings.language(code).dir,
        )
        for code in settings.language_codes
        if code in codes
    ]


def meta(
    settings: Settings, language: str, url_of: Any, codes: list[str], title: str, description: str
) -> SimpleNamespace:
    """Canonical URL, hreflang alternates (+ x-default: the default language or the original).

    Templates read what pages are given as `page.title`; on a namespace that is one attribute
    lookup, on a dict Jinja tries the attribute first and catches the error (7x slower)."""
    links = _language_links(settings, codes, url_of)
    default = settings.site.default_language if settings.site.default_language in codes else codes[0]
    return SimpleNamespace(
        title=title,
        description=description,
        canonical=urls.absolute(settings, url_of(language)),
        alternates=links,
        x_default=urls.absolute(settings, url_of(default)),
        switcher=links,
    )


class Entry(NamedTuple):
    """One release in a listing, in the reader's language or the original with a note (a tuple:
    a month of the archive lists dozens, and a frozen dataclass took longer to make)."""

    url: str
    title: str
    lang: str  # the language the title and summary are in
    dir: str
    summary: str
    date: str
    iso: str
    kind_label: str
    office: str
    missing_note: str  # "Available in English only", in the reader's language; "" when translated


def entry(settings: Settings, release: Release, language: str) -> Entry:
    text_language, title, summary = release.headline(language)
    released = release.release_time.astimezone(settings.zone)
    note = ""
    if text_language != language:
        gettext = translations(language, "site").gettext
        note = gettext("Available in %(language)s only") % {
            "language": language_name(text_language, language)
        }
    return Entry(
        url=urls.release_page(text_language, release.slug),
        title=title,
        lang=text_language,
        dir=settings.language(text_language).dir,
        summary=summary,
        date=long_date(released, language),
        iso=released.isoformat(),
        kind_label=kind_label(release.kind, language),
        office=settings.office_label(release.office, language),
        missing_note=note,
    )


def archive_index(language: str) -> str:
    return f"/{language}/archive/"


# --- listings --------------------------------------------------------------------------------------


def _listing(
    site: SiteInputs, language: str, releases: tuple[Release, ...], url_of: Any, title: str, **extra: Any
) -> list[Artifact]:
    settings = site.settings
    context = chrome(site, language)
    description = extra.pop("description", "") or title
    context["page"] = meta(settings, language, url_of, settings.language_codes, title, description)
    context["entries"] = [entry(settings, r, language) for r in releases]
    context.update(extra)
    return [page(language, extra.get("template", "listing.html"), file_for(url_of(language)), context)]


def render_home(site: SiteInputs, language: str, releases: tuple[Release, ...]) -> list[Artifact]:
    gettext = translations(language, "site").gettext
    return _listing(
        site,
        language,
        releases,
        urls.home,
        site.settings.site_name(language),
        heading=gettext("Latest news"),
        template="home.html",
        description=gettext("News releases, statements and media advisories."),
    )


def render_topic(
    site: SiteInputs, language: str, releases: tuple[Release, ...], topic: str
) -> list[Artifact]:
    label = site.settings.topic_label(topic, language)
    return _listing(
        site,
        language,
        releases,
        lambda code: urls.topic_page(code, topic),
        label,
        heading=label,
        feeds=(urls.rss_feed(language, topic=topic), urls.atom_feed(language, topic=topic)),
    )


def render_office(
    site: SiteInputs, language: str, releases: tuple[Release, ...], office: str
) -> list[Artifact]:
    label = site.settings.office_label(office, language)
    return _listing(
        site,
        language,
        releases,
        lambda code: urls.office_page(code, office),
        label,
        heading=label,
        feeds=(urls.rss_feed(language, office=office), urls.atom_feed(language, office=office)),
    )


def render_month(
    site: SiteInputs,
    language: str,
    releases: tuple[Release, ...],
    month: tuple[int, int],
    newer: tuple[int, int] | None,
    older: tuple[int, int] | None,
) -> list[Artifact]:
    label = _month_label(*month, language)
    return _listing(
        site,
        language,
        releases,
        lambda code: urls.archive_page(code, *month),
        label,
        heading=label,
        newer=(_month_label(*newer, language), urls.archive_page(language, *newer)) if newer else None,
        older=(_month_label(*older, language), urls.archive_page(language, *older)) if older else None,
    )


def render_archive_index(
    site: SiteInputs, language: str, _releases: tuple[Release, ...], counts: tuple[tuple[int, int, int], ...]
) -> list[Artifact]:
    gettext = translations(language, "site").gettext
    years: dict[int, list[tuple[str, str, int]]] = {}
    for year, month, count in counts:
        link = (_month_label(year, month, language), urls.archive_page(language, year, month), count)
        years.setdefault(year, []).append(link)
    return _listing(
        site,
        language,
        (),
        archive_index,
        gettext("Archive"),
        heading=gettext("Archive"),
        years=years,
        template="archive.html",
    )


@lru_cache(maxsize=4096)
def _month_label(year: int, month: int, language: str) -> str:
    """'Декабрь 2024', 'diciembre de 2024' -> capitalized as a heading."""
    if language == "ht":
        return f"{haitian.MONTHS[month - 1].capitalize()} {year}"
    text = format_skeleton("yMMMM", date(year, month, 1), locale=i18n.locale(language))
    return text[:1].upper() + text[1:]


# --- site-wide pages -------------------------------------------------------------------------------


def render_static(site: SiteInputs) -> list[Artifact]:
    return [Artifact(f"static/{name}", (TEMPLATES / "static" / name).read_bytes()) for name in STATIC_FILES]


def render_landing(site: SiteInputs) -> list[Artifact]:
    """The page at /: one link per language, each named in its own language."""
    settings = site.settings
    language = settings.site.default_language
    context = chrome(site, language)
    context["page"] = meta(settings, language, lambda code: "/", [language], settings.site_name(language), "")
    context["page"].alternates = []
    context["languages"] = _language_links(settings, settings.language_codes, urls.home)
    context["names"] = [(link, settings.site_name(link.code)) for link in context["languages"]]
    return [page(language, "landing.html", "index.html", context)]


def render_not_found(site: SiteInputs) -> list[Artifact]:
    settings = site.settings
    language = settings.site.default_language
    context = chrome(site, language)
    title = translations(language, "site").gettext("Page not found")
    context["page"] = meta(settings, language, lambda code: "/404.html", [language], title, "")
    context["page"].alternates = []
    context["languages"] = _language_links(settings, settings.language_codes, urls.home)
    context["notices"] = [
        (
            link,
            translations(link.code, "site").gettext("Page not found"),
            translations(link.code, "site").gettext("Go to the newsroom home page"),
        )
        for link in context["languages"]
    ]
    return [page(language, "404.html", "404.html", context)]
