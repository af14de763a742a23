"""Inbound SMS keywords: what a resident's text to the short code asks for, and what we reply.

Matching rules (carrier keyword rules, made forgiving because a missed STOP is the worst error):
- Case, accents, spaces and punctuation do not matter: "stop", " Stop. ", "S T O P", "s-t-o-p!" and
  "Stóp" all read as STOP (text is NFKD-folded, marks, spaces and punctuation removed).
- The whole message is the keyword, or a stop word is its first word: "STOP please", "Stop texting
  me" opt out (consent first); START/HELP/join words count only as the whole message, so
  "don't start" or "help me with my license" are not taken as commands.
- Localized keywords are accepted too; the replies still name the English keywords (STOP, HELP,
  START), which every carrier also honours:
    stop:  СТОП ОТПИСАТЬСЯ ОТПИСКА (ru), ALTO PARAR PARE BAJA CANCELAR (es), 停止 退订 取消 (zh),
           توقف إيقاف إلغاء (ar), KANPE SISPANN RETE ANILE (ht)
    start: SÍ/SI (es), ДА (ru), 是 (zh), نعم (ar), WI (ht) — "yes" to a confirmation request
    help:  AYUDA (es), ПОМОЩЬ СПРАВКА (ru), 帮助 (zh), مساعدة (ar), ÈD (ht)
  A localized keyword also tells us the language to reply in when the number is unknown.
- The join keyword (sms.keyword, e.g. NEWS) subscribes; "NEWS RU" / "NEWS ES" also picks the
  language of the alerts.
Anything else is UNKNOWN: the web app replies with the help text at most once a day per number.
"""

from __future__ import annotations

import unicodedata
from dataclasses import dataclass
from enum import StrEnum

from newsroom.config import Settings
from newsroom.render.sms import ReplyKind, reply_text


class Intent(StrEnum):
    STOP = "stop"
    START = "start"
    HELP = "help"
    JOIN = "join"
    UNKNOWN = "unknown"


@dataclass(frozen=True)
class Inbound:
    intent: Intent
    language: str | None  # the language of a localized keyword or "NEWS <lang>"; None if not known
    keyword: str  # the normalized keyword that matched ("" for UNKNOWN)


# keyword -> (intent, language it is written in, or None for the English carrier keywords)
_KEYWORDS: dict[str, tuple[Intent, str | None]] = {}


def _register(intent: Intent, language: str | None, words: str) -> None:
    for word in words.split():
        _KEYWORDS[normalize(word)] = (intent, language)


def normalize(text: str) -> str:
    """Casefolded, accents and Arabic vowel marks dropped, spaces and punctuation removed."""
    decomposed = unicodedata.normalize("NFKD", text.casefold())
    return "".join(ch for ch in decomposed if unicodedata.category(ch)[0] in "LN")


def _words(text: str) -> list[str]:
    """The message split into words (on spaces and punctuation), each normalized."""
    spaced = "".join(ch if unicodedata.category(ch)[0] in "LNM" else " " for ch in text)
    return [word for word in (normalize(part) for part in spaced.split()) if word]


def parse_inbound(text: str, settings: Settings) -> Inbound:
    """What an inbound text asks for."""
    whole = normalize(text)
    join = normalize(settings.sms.keyword)
    if whole in _KEYWORDS:
        intent, language = _KEYWORDS[whole]
        return Inbound(intent, language, whole)
    if whole == join:
        return Inbound(Intent.JOIN, None, join)
    words = _words(text)
    if words and _KEYWORDS.get(words[0], (None, None))[0] is Intent.STOP:
        return Inbound(Intent.STOP, _KEYWORDS[words[0]][1], words[0])
    for word, (intent, language) in _KEYWORDS.items():
        # Chinese writes no spaces: "停止发送" (stop sending) starts with the stop word.
        if intent is Intent.STOP and _is_cjk(word) and whole.startswith(word):
            return Inbound(Intent.STOP, language, word)
    if len(words) == 2 and words[0] == join and words[1] in settings.language_codes:
        return Inbound(Intent.JOIN, words[1], join)
    return Inbound(Intent.UNKNOWN, None, "")


def _is_cjk(word: str) -> bool:
    return all(unicodedata.name(ch, "").startswith("CJK UNIFIED IDEOGRAPH") for ch in word)


_REPLY_FOR: dict[Intent, ReplyKind] = {
    Intent.STOP: "stop",
    Intent.START: "start",
    Intent.HELP: "help",
    Intent.JOIN: "join",
    Intent.UNKNOWN: "help",
}


def reply_language(inbound: Inbound, subscriber_language: str | None, settings: Settings) -> str:
    """Reply in the language of a localized keyword, else the subscriber's, else the site default."""
    for language in (inbound.language, subscriber_language):
        if language in settings.language_codes:
            return language
    return settings.site.default_language


def reply_for(inbound: Inbound, subscriber_language: str | None, settings: Settings) -> str:
    """The one reply for an inbound text (UNKNOWN gets the help text; the caller rate-limits it)."""
    language = reply_language(inbound, subscriber_language, settings)
    return reply_text(_REPLY_FOR[inbound.intent], language, settings)


_register(Intent.STOP, None, "STOP STOPALL UNSUBSCRIBE CANCEL END QUIT")
_register(Intent.START, None, "START UNSTOP YES")
_register(Intent.HELP, None, "HELP INFO")
_register(Intent.STOP, "ru", "СТОП ОТПИСАТЬСЯ ОТПИСКА")
_register(Intent.STOP, "es", "ALTO PARAR PARE BAJA CANCELAR")
_register(Intent.STOP, "zh", "停止 退订 取消")
_register(Intent.STOP, "ar", "توقف إيقاف إلغاء")
_register(Intent.STOP, "ht", "KANPE SISPANN RETE ANILE")
_register(Intent.START, "es", "SÍ")
_register(Intent.START, "ru", "ДА")
_register(Intent.START, "zh", "是")
_register(Intent.START, "ar", "نعم")
_register(Intent.START, "ht", "WI")
_register(Intent.HELP, "es", "AYUDA")
_register(Intent.HELP, "ru", "ПОМОЩЬ СПРАВКА")
_register(Intent.HELP, "zh", "帮助")
_register(Intent.HELP, "ar", "مساعدة")
_register(Intent.HELP, "ht", "ÈD")
