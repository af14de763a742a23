"""Email messages: render each distinct message once, then personalise it by byte substitution.

    prepared = prepare_message("alert", "ru", Content(interest, releases=(release,)), settings, now)
    for subscriber_id, address in recipients:
        data = personalise(prepared, subscriber_id, address, now=now)   # bytes of a whole .eml

`prepare_message` runs Jinja2, MJML and the MIME assembly once per (kind, language, content) and
returns the message's bytes with holes for what differs per person: To, Date, Message-ID and the
signed unsubscribe / preferences / confirm links (in the List-Unsubscribe header, the HTML and the
text). `personalise` fills the holes: a token HMAC or two and a `b"".join`, so fan-out costs
microseconds per subscriber. Optional DKIM signing (`DkimSigner`) happens after, per message.

Alerts and digests are bulk mail: they carry List-Id, List-Unsubscribe (https + mailto) and RFC 8058
List-Unsubscribe-Post. Confirmation, preferences-changed and goodbye messages answer something the
person did; they have no List-* headers.
"""

from __future__ import annotations

import re
import unicodedata
from collections import OrderedDict
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime
from email.utils import format_datetime, parseaddr
from functools import cache, lru_cache
from pathlib import Path
from typing import Any, Literal
from urllib.parse import urlsplit

from jinja2 import Environment, FileSystemLoader, StrictUndefined, select_autoescape
from markupsafe import Markup, escape
from mjml import mjml2html

from newsroom.config import Settings
from newsroom.content.models import Release
from newsroom.errors import RenderError
from newsroom.render import urls
from newsroom.render.base import digest
from newsroom.render.email_context import (
    Interest,
    format_day,
    format_period,
    gettext_for,
    interest_sentence,
    language_name,
    release_view,
    topic_groups,
    why_sentence,
    wrap_plain,
)
from newsroom.render.email_dkim import DkimSigner
from newsroom.render.email_mime import (
    SAFE_VALUE,
    SLOT_PATTERN,
    address_header,
    compact,
    fill,
    header,
    multipart_alternative,
    quoted_printable,
    slot,
)
from newsroom.render.i18n import translations
from newsroom.subscribers.tokens import Purpose, make_token

__all__ = [
    "KINDS",
    "Content",
    "DkimSigner",
    "Interest",
    "MessageCache",
    "PreparedMessage",
    "personalise",
    "prepare_message",
]

TEMPLATES = Path(__file__).resolve().parents[2] / "templates" / "email"
Kind = Literal["alert", "daily", "weekly", "confirm", "preferences", "goodbye"]
KINDS: tuple[Kind, ...] = ("alert", "daily", "weekly", "confirm", "preferences", "goodbye")
BULK: frozenset[str] = frozenset({"alert", "daily", "weekly"})
FONTS = (
    '-apple-system, "Segoe UI", Roboto, "Noto Sans", "Noto Sans Arabic", "Noto Naskh Arabic", '
    '"Noto Sans CJK SC", "PingFang SC", "Microsoft YaHei", Arial, sans-serif'
)
_ADDRESS = re.compile(r"[^\s<>,;:\"()\[\]\\]+@[^\s<>,;:\"()\[\]\\]+")


@dataclass(frozen=True)
class Content:
    """What a message says, apart from who it goes to.

    alert: exactly one release; daily/weekly: the period's releases (any number, grouped by the
    reader's topics) and `period` = (start, end) with end exclusive; confirm/preferences: the
    interest asked for or now in force; goodbye: nothing. `interest` is the footer's "why".
    """

    interest: Interest | None = None
    releases: tuple[Release, ...] = ()
    period: tuple[datetime, datetime] | None = None

    def key(self) -> tuple[object, ...]:
        return (self.interest, tuple(_fingerprint(r) for r in self.releases), self.period)


def _fingerprint(release: Release) -> tuple[object, ...]:
    # Releases are immutable while a process runs; slug + revisions + translated titles is enough
    # to tell contents apart without hashing whole bodies on every lookup.
    texts = tuple((t.language, t.revision, t.meta.title, len(t.body)) for t in release.translations.values())
    return (release.slug, release.revision, release.meta.status, len(release.meta.corrections), texts)


@dataclass(frozen=True)
class PreparedMessage:
    """A message rendered once: byte segments with named slots between them (see email_mime)."""

    kind: str
    language: str
    key: str  # hash of (kind, language, content): Message-IDs and the MIME boundary derive from it
    subject: str
    date: datetime
    segments: tuple[bytes, ...]
    slots: tuple[str, ...]
    base_url: str
    domain: str
    unsubscribe_mailbox: str
    needed: frozenset[str] = field(init=False)

    def __post_init__(self) -> None:
        object.__setattr__(self, "needed", frozenset(self.slots))

    @property
    def size(self) -> int:
        return sum(len(s) for s in self.segments)


def prepare_message(
    kind: Kind, language: str, content: Content, settings: Settings, now: datetime
) -> PreparedMessage:
    """Render `kind` in `language` for `content` once: Jinja2 + MJML + MIME, personal parts as slots."""
    _check_content(kind, content)
    if language not in settings.language_codes:
        raise RenderError(f"email: language {language!r} is not one of the site's {settings.language_codes}")
    context = _context(kind, language, content, settings, now)
    html = mjml2html(_environment(language).get_template(f"{kind}.mjml").render(context), fonts={})
    text = wrap_plain(_environment(language).get_template(f"{kind}.txt").render(context)).strip() + "\n"
    # Bulk messages with equal content share a key, so a retried send keeps its Message-ID; a
    # confirmation sent twice must not (mail clients would hide the second as a duplicate).
    moment = "" if kind in BULK else now.isoformat()
    key = digest(kind, language, content.key(), settings.site.base_url, moment)
    _check_base_url(settings.site.base_url)
    domain = _site_domain(settings)
    pieces = multipart_alternative(
        _headers(kind, language, context["subject"], settings, domain),
        quoted_printable(text),
        quoted_printable(html),
        boundary=f"=_newsroom_{key}",
    )
    segments, slots = compact(pieces)
    return PreparedMessage(
        kind=kind,
        language=language,
        key=key,
        subject=context["subject"],
        date=now,
        segments=segments,
        slots=slots,
        base_url=settings.site.base_url,
        domain=domain,
        unsubscribe_mailbox=_unsubscribe_mailbox(settings),
    )


def personalise(
    prepared: PreparedMessage,
    subscriber_id: int,
    address: str,
    *,
    now: datetime | None = None,
    keys: Sequence[str] | None = None,
    dkim: DkimSigner | None = None,
) -> bytes:
    """The whole message for one subscriber: slots filled, DKIM-signed when a signer is given.
    `now` is when it is sent (the Date header, a confirmation token's start); default: prepare time."""
    if not _ADDRESS.fullmatch(address):
        raise RenderError(f"email: {address!r} is not a deliverable address (one addr-spec, no spaces)")
    moment = now or prepared.date
    values = _personal_values(prepared, subscriber_id, address, moment, keys)
    data = fill(prepared.segments, prepared.slots, values)
    return dkim.sign(data) if dkim is not None else data


def _personal_values(
    prepared: PreparedMessage, subscriber_id: int, address: str, now: datetime, keys: Sequence[str] | None
) -> dict[str, bytes]:
    needed = prepared.needed
    values = {
        "to": address.encode("utf-8"),
        "date": _date_header(now),
        "message_id": f"<{prepared.key}.{subscriber_id}@{prepared.domain}>".encode("ascii"),
    }
    if "unsubscribe_url" in needed:
        token = make_token(subscriber_id, "unsubscribe", now, keys)
        values["unsubscribe_url"] = (prepared.base_url + urls.unsubscribe(token)).encode("ascii")
        mailto = f"mailto:{prepared.unsubscribe_mailbox}?subject=unsubscribe%20{token}"
        values["unsubscribe_mailto"] = mailto.encode("ascii")
    for purpose, path in (("preferences", urls.preferences), ("confirm", urls.confirm)):
        name = f"{purpose}_url"
        if name in needed:
            purpose_token = make_token(subscriber_id, _purpose(purpose), now, keys)
            values[name] = (prepared.base_url + path(purpose_token)).encode("ascii")
    return values


def _purpose(name: str) -> Purpose:
    return "preferences" if name == "preferences" else "confirm"


@cache
def _date_header_cached(timestamp: float) -> bytes:
    return format_datetime(datetime.fromtimestamp(timestamp, UTC)).encode("ascii")


def _date_header(now: datetime) -> bytes:
    return _date_header_cached(int(now.timestamp()))


class MessageCache:
    """Prepared messages by (kind, language, content), least recently used dropped beyond `size`:
    a delivery worker asks it for each delivery and renders only what it has not seen lately."""

    def __init__(self, settings: Settings, now: datetime, size: int = 512) -> None:
        self.settings = settings
        self.now = now
        self.size = size
        self.renders = 0
        self._entries: OrderedDict[tuple[object, ...], PreparedMessage] = OrderedDict()

    def get(self, kind: Kind, language: str, content: Content) -> PreparedMessage:
        key = (kind, language, content.key())
        prepared = self._entries.get(key)
        if prepared is None:
            prepared = prepare_message(kind, language, content, self.settings, self.now)
            self.renders += 1
            self._entries[key] = prepared
            if len(self._entries) > self.size:
                self._entries.popitem(last=False)
        else:
            self._entries.move_to_end(key)
        return prepared


def _check_content(kind: Kind, content: Content) -> None:
    if kind not in KINDS:
        raise RenderError(f"email: unknown message kind {kind!r}; use one of {KINDS}")
    if kind == "alert" and len(content.releases) != 1:
        raise RenderError(f"email: an alert is about exactly one release, got {len(content.releases)}")
    if kind in ("daily", "weekly") and content.period is None:
        raise RenderError(f"email: a {kind} digest needs its period (start, end)")
    if kind in BULK | {"confirm", "preferences"} and content.interest is None:
        raise RenderError(f"email: a {kind} message needs the subscriber's interest (topics, frequency)")


def _context(
    kind: Kind, language: str, content: Content, settings: Settings, now: datetime
) -> dict[str, Any]:
    _ = gettext_for(language)
    site_name = settings.site_name(language)
    context: dict[str, Any] = {
        "kind": kind,
        "lang": language,
        "dir": settings.language(language).dir,
        "start": "right" if settings.language(language).dir == "rtl" else "left",
        "fonts": FONTS,
        "site_name": site_name,
        "home_url": urls.absolute(settings, urls.home(language)),
        "subscribe_url": urls.absolute(settings, urls.SUBSCRIBE),
        "postal_address": settings.email.postal_address,
        "why": why_sentence(content.interest, language, settings),
        "interest": interest_sentence(content.interest, language, settings),
        "unsubscribe_url": slot("unsubscribe_url"),
        "preferences_url": slot("preferences_url"),
        "confirm_url": slot("confirm_url"),
        "releases": (),
        "groups": (),
    }
    if kind == "alert":
        view = release_view(content.releases[0], language, settings)
        context.update(release=view, subject=view.title, preview=view.summary or view.subtitle)
    elif kind in ("daily", "weekly"):
        assert content.interest is not None and content.period is not None  # by _check_content
        groups = topic_groups(content.releases, content.interest, language, settings)
        count = sum(len(group.releases) for group in groups)
        context.update(groups=groups, count=count, period=format_period(content.period, language, settings))
        context["preview"] = " · ".join(v.title for g in groups for v in g.releases)[:150]
        if kind == "daily":
            context["subject"] = _("Daily news digest: %(date)s") % {"date": context["period"]}
        else:
            context["subject"] = _("Weekly news digest: %(period)s") % {"period": context["period"]}
    elif kind == "confirm":
        context["subject"] = _("Please confirm your subscription to %(site)s") % {"site": site_name}
        context["preview"] = _("One click and you are done. The link works for 7 days.")
        context["why"] = _("You get this email because someone asked to subscribe this address.")
    elif kind == "preferences":
        context["subject"] = _("Your subscription to %(site)s has been updated") % {"site": site_name}
        context["preview"] = context["why"]
        context["today"] = format_day(now, language, settings)
    else:
        context["subject"] = _("You have unsubscribed from %(site)s") % {"site": site_name}
        context["preview"] = _("You will not get any more emails from us.")
        context["why"] = ""  # they have just left: no "you get this because you signed up"
    _check_no_markers(context)
    return context


def _check_no_markers(context: dict[str, Any]) -> None:
    """Release text that happened to contain a slot marker would be replaced per subscriber."""
    for name in ("release", "groups", "subject", "preview"):
        if SLOT_PATTERN.search(repr(context.get(name))):
            raise RenderError(f"email: content contains a reserved marker (NRSLOT_…): {name}")


@lru_cache(maxsize=4096)
def _headers(
    kind: str, language: str, subject: str, settings: Settings, domain: str
) -> tuple[list[Any], ...]:
    _, sender = parseaddr(settings.email.sender)
    fields = [
        address_header("From", settings.site_name(language), sender),
        header("To", slot("to")),
        header("Subject", subject),
        header("Date", slot("date")),
        header("Message-ID", slot("message_id")),
        header("Content-Language", language),
    ]
    if settings.email.reply_to:
        fields.append(header("Reply-To", settings.email.reply_to))
    if kind in BULK:
        list_label = "alerts" if kind == "alert" else f"{kind}-digest"
        fields += [
            header("List-Id", f'"{settings.site.name}" <{list_label}.{domain}>'),
            header("List-Unsubscribe", f"<{slot('unsubscribe_url')}>,\r\n <{slot('unsubscribe_mailto')}>"),
            header("List-Unsubscribe-Post", "List-Unsubscribe=One-Click"),
        ]
    return tuple(fields)


def _site_domain(settings: Settings) -> str:
    return urlsplit(settings.site.base_url).hostname or "localhost"


def _unsubscribe_mailbox(settings: Settings) -> str:
    if settings.email.unsubscribe_address:
        return settings.email.unsubscribe_address
    _, sender = parseaddr(settings.email.sender)
    return "unsubscribe@" + sender.rpartition("@")[2]


def _check_base_url(base_url: str) -> None:
    """Links are substituted into QP bodies, HTML attributes and headers as they are."""
    if not SAFE_VALUE.fullmatch(base_url):
        raise RenderError(
            f"email: site.base_url {base_url!r} has characters that links in email cannot carry "
            "(fix: a plain https://host/path URL)"
        )


_ESCAPED_BY_MJML = frozenset({"Mn", "Me", "Cc", "Cf", "Zs", "Zl", "Zp"})


def mjml_attribute(value: str) -> Markup:
    """`value` escaped for an MJML attribute (and mj-title, which becomes one). mrml writes combining
    marks (Arabic vowel signs) and special spaces in attributes as Rust escapes ('\\u{64b}'), so
    they go in as character references, which it leaves alone."""
    escaped = str(escape(value))
    return Markup(
        "".join(
            f"&#x{ord(char):x};" if char != " " and unicodedata.category(char) in _ESCAPED_BY_MJML else char
            for char in escaped
        )
    )


@cache
def _environment(language: str) -> Environment:
    """Templates with the `email` catalog of `language` installed (`_`, `gettext`, `ngettext`)."""
    env = Environment(
        loader=FileSystemLoader(TEMPLATES),
        autoescape=select_autoescape(enabled_extensions=("mjml",), default_for_string=True),
        undefined=StrictUndefined,
        extensions=["jinja2.ext.i18n"],
        trim_blocks=True,
        lstrip_blocks=True,
        keep_trailing_newline=True,
        auto_reload=False,  # templates do not change while a process runs; skip a stat() per render
    )
    env.filters["language_name"] = language_name
    env.filters["mjml_attribute"] = mjml_attribute
    env.install_gettext_translations(translations(language, "email"), newstyle=True)  # type: ignore[attr-defined]
    return env
