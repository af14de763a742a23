"""SMS output: alerts for a release in a subscriber's language, keyword replies, short-link pages.

An alert is the release's `sms:` text (or its headline), a short link and the opt-out line, in the
subscriber's language, within `sms.segment_budget` segments. When it does not fit, the text is cut
at a word boundary and ends with an ellipsis; the link and the opt-out line are never touched.
Alerts depend only on (release, language), never on the subscriber: compose once, send to many.

A language without a translation gets the original's text with the opt-out line in the
subscriber's language (how to stop must always be readable).

Short links are `<base_url>/r/<code>/`, `code` derived from slug and language; `sms_redirect_units`
writes a tiny page there that forwards to the release page in that language. There is one per
language the release exists in: a subscriber whose language it lacks gets the original's link, which
leads where a link of their own would (the original's page), and the site holds a quarter as many
short-link pages (one per translation, not one per site language).
"""

from __future__ import annotations

import base64
import html
import unicodedata
import zlib
from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from typing import Literal
from urllib.parse import urlsplit

from newsroom.config import Settings
from newsroom.content.models import Release
from newsroom.content.segments import SegmentCount, count_segments, is_gsm7
from newsroom.content.sms import assemble, clean_text, short_code_bytes
from newsroom.errors import RenderError
from newsroom.gate import Published
from newsroom.keys import fast_key
from newsroom.render import urls
from newsroom.render.base import Artifact, Unit, release_fingerprint
from newsroom.render.i18n import catalog_fingerprint, translations

# Bump when the redirect page's markup changes, so incremental builds re-render it.
REDIRECT_PAGE_VERSION = 5
# Punctuation a cut text may end on before the ellipsis is added ("plan, ..." reads badly).
_TRAILING = ".,;:!?-–—、，。；：！？"
_CJK_BREAK_AFTER = "、，。；：！？）」』"

ReplyKind = Literal["help", "join", "stop", "start", "confirm"]


@dataclass(frozen=True)
class SmsAlert:
    language: str  # the subscriber's language (of the opt-out line)
    text: str  # exactly what is sent
    link: str
    count: SegmentCount
    shortened: bool  # the release text was cut at a word to fit the budget

    @property
    def is_ucs2(self) -> bool:
        return self.count.encoding == "UCS-2"


def short_code(slug: str, language: str) -> str:
    """A stable 8-character code for (release, language): lowercase base32, GSM-7 safe."""
    return base64.b32encode(short_code_bytes(slug, language)).decode("ascii").lower()


def short_link(settings: Settings, slug: str, language: str) -> str:
    return urls.absolute(settings, urls.short_link(short_code(slug, language)))


def opt_out(language: str) -> str:
    """The line that ends every alert ('Reply STOP to end'). content/sms.py reads the same catalog
    entry for `newsroom check` (content may not import render); a test keeps the two equal."""
    return translations(language, "sms").gettext("Reply STOP to end")


def compose_alert(release: Release, language: str, settings: Settings) -> SmsAlert:
    """The alert for `release` as a subscriber reading `language` receives it."""
    localized = release.localized(language)
    link = short_link(settings, release.slug, localized.language)
    opt_out_text = opt_out(language)
    text, shortened = fit_text(
        localized.sms or localized.title, link, opt_out_text, settings.sms.segment_budget
    )
    message = assemble(text, link, opt_out_text)
    return SmsAlert(language, message, link, count_segments(message), shortened)


def fit_text(text: str, link: str, opt_out: str, budget: int) -> tuple[str, bool]:
    """The text, or its longest word-boundary prefix plus an ellipsis, that fits in `budget` segments.

    Word boundaries are spaces and, in Chinese, punctuation. Chinese without punctuation in reach
    may also be cut between two ideographs, but only when the cut at punctuation would lose more
    than a third of what fits (a clause is rarely longer).
    """
    text = clean_text(text)
    if count_segments(assemble(text, link, opt_out)).segments <= budget:
        return text, False
    at_word = _longest_fit(text, _word_ends(text), link, opt_out, budget)
    at_ideograph = _longest_fit(text, _ideograph_ends(text), link, opt_out, budget)
    if at_word and (not at_ideograph or len(at_word) * 3 >= len(at_ideograph) * 2):
        return at_word, True
    if at_ideograph:
        return at_ideograph, True
    raise RenderError(
        f"an SMS alert cannot fit even one word of {text[:40]!r} with its link and opt-out line in "
        f"{budget} segment(s) (fix: raise sms.segment_budget in newsroom.toml)"
    )


def _longest_fit(text: str, ends: list[int], link: str, opt_out: str, budget: int) -> str:
    """The longest `text[:end]` + ellipsis that fits, for `end` in `ends`; "" if none does."""
    for end in reversed(ends):
        candidate = _with_ellipsis(text[:end], link, opt_out)
        if candidate and count_segments(assemble(candidate, link, opt_out)).segments <= budget:
            return candidate
    return ""


def _word_ends(text: str) -> list[int]:
    """Where a word ends, ascending: before a space, after Chinese punctuation."""
    ends = {i for i, ch in enumerate(text) if ch.isspace() and i > 0}
    ends |= {i + 1 for i, ch in enumerate(text[:-1]) if ch in _CJK_BREAK_AFTER}
    return sorted(ends)


def _ideograph_ends(text: str) -> list[int]:
    """Between two ideographs: Chinese has no spaces, and each ideograph is a word or part of one."""
    return [i + 1 for i in range(len(text) - 1) if _is_ideograph(text[i]) and _is_ideograph(text[i + 1])]


def _is_ideograph(ch: str) -> bool:
    return unicodedata.name(ch, "").startswith("CJK UNIFIED IDEOGRAPH")


def _with_ellipsis(prefix: str, link: str, opt_out: str) -> str:
    """The prefix, without trailing punctuation, plus an ellipsis; "" when no word is left."""
    prefix = prefix.rstrip().rstrip(_TRAILING).rstrip()
    if not prefix:
        return ""
    # "..." keeps a GSM-7 message GSM-7; "…" is one character where UCS-2 is needed anyway.
    return prefix + ("..." if is_gsm7(prefix + link + opt_out) else "…")


# --- replies to keywords and confirmations ------------------------------------------------------


def program_name(settings: Settings, language: str) -> str:
    return settings.sms.program_name or settings.site_name(language)


def help_contact(settings: Settings) -> str:
    """Who to ask: sms.help_contact, else the site's host name."""
    return settings.sms.help_contact or (urlsplit(settings.site.base_url).hostname or settings.site.base_url)


def reply_text(kind: ReplyKind, language: str, settings: Settings) -> str:
    """The short text sent for a keyword (help/join/stop/start) or a web sign-up (confirm)."""
    t = translations(language, "sms")
    templates: dict[ReplyKind, str] = {
        "help": t.gettext(
            "{program}: news alerts. Help: {contact}. Msg & data rates may apply. Reply STOP to end."
        ),
        "join": t.gettext(
            "{program}: you're signed up for news alerts. Msg freq varies. Msg & data rates may apply. "
            "Reply HELP for help, STOP to end."
        ),
        "stop": t.gettext(
            "{program}: you're unsubscribed and will get no more messages. Reply START to rejoin."
        ),
        "start": t.gettext(
            "{program}: you're signed up again for news alerts. Msg freq varies. Msg & data rates may "
            "apply. Reply HELP for help, STOP to end."
        ),
        "confirm": t.gettext(
            "{program}: reply YES to confirm news alerts. Msg freq varies. Msg & data rates may apply."
        ),
    }
    return templates[kind].format(program=program_name(settings, language), contact=help_contact(settings))


# --- short-link pages ---------------------------------------------------------------------------


def sms_redirect_units(published: Published) -> Iterator[Unit]:
    """The short-link pages of every release (public or withdrawn), one page per language it is in,
    in SHORT_LINK_BUCKETS units: a bucket holds the releases whose slug hashes to it.

    A bucket's key is its releases' fingerprints plus what every page shares (catalog, base URL,
    markup version); the pages themselves are made only when the unit renders. Buckets, not a unit
    per release: a page costs next to nothing to make, and at 10,000 releases keying one unit per
    release (and keeping 10,000 more entries in the build's manifest) was a tenth of a rebuild."""
    settings = published.settings
    releases = (*published.releases, *published.withdrawn)
    codes: list[bytes] = []
    buckets: dict[int, list[Release]] = {}
    for release in releases:  # one pass (at 10,000 releases, each was 10-20 ms)
        codes += release.short_codes
        buckets.setdefault(redirect_bucket(release.slug), []).append(release)
    if len(set(codes)) < len(codes):  # a clash (rare): found again and named, pair by pair
        check_unique_codes((release.slug, language) for release in releases for language in release.languages)
    shared = fast_key(
        "sms-redirect", str(REDIRECT_PAGE_VERSION), catalog_fingerprint("sms"), settings.site.base_url,
        *settings.language_codes,
    )  # fmt: skip
    for _, members in sorted(buckets.items()):
        members.sort(key=lambda release: release.slug)
        name = redirect_unit(members[0].slug)
        key = fast_key(shared, *(release_fingerprint(release) for release in members))
        yield Unit(name, key, render_redirects, (tuple(members), settings), group=name)


# 256: at 10,000 releases a bucket holds 40 (a change re-renders 60 pages); 64 buckets made it 250
SHORT_LINK_BUCKETS = 256


def redirect_bucket(slug: str) -> int:
    return zlib.crc32(slug.encode("utf-8")) % SHORT_LINK_BUCKETS


def redirect_unit(slug: str) -> str:
    """The name of the unit that makes the release's short-link pages (see sms_redirect_units)."""
    return f"sms-redirect:{redirect_bucket(slug):02x}"


def check_unique_codes(pairs: Iterable[tuple[str, str]]) -> None:
    """RenderError when two (slug, language) pairs share a short code (40 bits: rare, but then two
    alerts would link to one page). The pairs must be distinct (slugs are unique)."""
    seen: dict[bytes, tuple[str, str]] = {}
    for slug, language in sorted(pairs):  # sorted: the same clash is named every time
        other = seen.setdefault(short_code_bytes(slug, language), (slug, language))
        if other != (slug, language):
            raise RenderError(
                f"SMS short link r/{short_code(slug, language)}/ would serve both "
                f"{other[0]} ({other[1]}) and {slug} ({language}) "
                "(fix: set a different `slug:` on one of them)"
            )


# (code, language, direction, headline, link text, target URL)
RedirectPage = tuple[str, str, str, str, str, str]


def _redirect_page(release: Release, language: str, settings: Settings) -> RedirectPage:
    link_text = translations(language, "sms").gettext("Continue to the news release")
    target = urls.absolute(settings, urls.release_page(language, release.slug))
    _, title, _ = release.headline(language)
    direction = settings.language(language).dir
    return short_code(release.slug, language), language, direction, title, link_text, target


def render_redirects(releases: tuple[Release, ...], settings: Settings) -> list[Artifact]:
    """The releases' short-link pages: one per language each exists in (see compose_alert)."""
    pages = [
        _redirect_page(release, language, settings) for release in releases for language in release.languages
    ]
    return [Artifact(f"r/{page[0]}/index.html", _redirect_html(page).encode("utf-8")) for page in pages]


def _redirect_html(page: RedirectPage) -> str:
    _code, language, direction, headline, link_text, target = page
    href = html.escape(target, quote=True)
    return (
        "<!DOCTYPE html>\n"
        f'<html lang="{html.escape(language)}" dir="{direction}">\n'
        "<head>\n"
        '<meta charset="utf-8">\n'
        '<meta name="viewport" content="width=device-width, initial-scale=1">\n'
        '<meta name="robots" content="noindex">\n'
        f'<meta http-equiv="refresh" content="0; url={href}">\n'
        f'<link rel="canonical" href="{href}">\n'
        f"<title>{html.escape(headline)}</title>\n"
        "<style>body{font-family:system-ui,sans-serif;margin:1.5rem;line-height:1.4}"
        "h1{font-size:1.5rem}a{font-size:1.25rem}</style>\n"
        "</head>\n"
        "<body>\n"
        "<main>\n"
        f"<h1>{html.escape(headline)}</h1>\n"
        f'<p><a href="{href}">{html.escape(link_text)}</a></p>\n'
        "</main>\n"
        "</body>\n"
        "</html>\n"
    )


def alerts_by_language(release: Release, settings: Settings) -> dict[str, SmsAlert]:
    """The alert for every site language: what a fan-out looks up per subscriber."""
    return {language: compose_alert(release, language, settings) for language in settings.language_codes}
