"""Pages of the web app: which language to answer in, and rendering templates/web/ in it.

Language: an explicit choice (?lang= on the URL, or the `lang` field a form was sent from) wins;
then the subscriber's own language on pages reached through their personal link; then the browser's
Accept-Language; then the site default. Strings come from the `web` gettext domain.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from functools import cache
from pathlib import Path
from typing import Any
from urllib.parse import urlencode

from jinja2 import Environment, FileSystemLoader, StrictUndefined, select_autoescape
from markupsafe import Markup, escape

from newsroom.config import Settings
from newsroom.render import urls
from newsroom.render.i18n import text_direction, translations

TEMPLATES = Path(__file__).resolve().parents[2] / "templates" / "web"
STATIC = TEMPLATES / "static"
CSS_URL = "/static/web/web.css"
DOMAIN = "web"


def accepted_languages(header: str) -> list[str]:
    """Language tags from an Accept-Language header, most wanted first (q=0 means "not this")."""
    ranked: list[tuple[float, int, str]] = []
    for position, part in enumerate(header.split(",")[:20]):
        tag, _, params = part.strip().partition(";")
        quality = 1.0
        if params.strip().startswith("q="):
            try:
                quality = float(params.strip()[2:])
            except ValueError:
                continue
        if tag and quality > 0:
            ranked.append((-quality, position, tag.strip().lower()))
    return [tag for _, _, tag in sorted(ranked)]


def choose_language(
    settings: Settings, explicit: str | None, personal: str | None, accept_language: str
) -> str:
    codes = settings.language_codes
    for candidate in (explicit, personal):
        if candidate in codes:
            return candidate
    for tag in accepted_languages(accept_language):
        for code in (tag, tag.split("-")[0]):
            if code in codes:
                return code
    return settings.site.default_language


@cache
def environment() -> Environment:
    return Environment(
        loader=FileSystemLoader(TEMPLATES),
        autoescape=select_autoescape(default=True),
        undefined=StrictUndefined,
        trim_blocks=True,
        lstrip_blocks=True,
    )


def gettext_for(language: str) -> Callable[..., Markup]:
    """`_("text %(name)s", name=...)`: translated, escaped, then filled in with escaped values.

    Values are isolated with <bdi>, so an address or a number keeps its own direction inside an
    Arabic sentence (otherwise "+12125550143" shows as "12125550143+").
    """
    catalog = translations(language, DOMAIN)

    def gettext(message: str, **values: Any) -> Markup:
        text = Markup(escape(catalog.gettext(message)))
        if not values:
            return text
        return text % {name: Markup("<bdi>%s</bdi>") % value for name, value in values.items()}

    return gettext


@dataclass
class Page:
    """One page to render: which template, in which language, with what."""

    template: str
    language: str
    path: str  # the URL path, for the language switcher
    values: dict[str, Any] = field(default_factory=dict)
    csrf_token: str = ""


def render(page: Page, settings: Settings) -> str:
    language = page.language
    context = {
        "lang": language,
        "dir": text_direction(language),
        "_": gettext_for(language),
        "site_name": settings.site_name(language),
        "home_url": urls.home(language),
        "subscribe_url": f"{urls.SUBSCRIBE}?{urlencode({'lang': language})}",
        "css_url": CSS_URL,
        "switcher": [
            {
                "code": lang.code,
                "name": lang.name,
                "dir": lang.dir,
                "url": f"{page.path}?{urlencode({'lang': lang.code})}",
            }
            for lang in settings.languages
        ],
        "languages": [(lang.code, lang.name) for lang in settings.languages],
        "topics": [(key, settings.topic_label(key, language)) for key in settings.topics],
        "csrf_token": page.csrf_token,
        "errors": {},
        **page.values,
    }
    return environment().get_template(page.template).render(context)
