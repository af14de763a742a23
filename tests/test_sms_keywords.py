"""Inbound keywords: what a resident's text means and the one reply it gets, in their language."""

from __future__ import annotations

import pytest

from newsroom.config import Settings
from newsroom.delivery.sms_keywords import Intent, parse_inbound, reply_for, reply_language
from newsroom.render.sms import reply_text


@pytest.mark.parametrize(
    ("text", "intent", "language"),
    [
        *[(word, Intent.STOP, None) for word in ("STOP", "STOPALL", "UNSUBSCRIBE", "CANCEL", "END", "QUIT")],
        *[(word, Intent.START, None) for word in ("START", "UNSTOP", "YES")],
        *[(word, Intent.HELP, None) for word in ("HELP", "INFO")],
        ("NEWS", Intent.JOIN, None),
        # case, spaces, punctuation, accents
        ("stop", Intent.STOP, None),
        ("  Stop. ", Intent.STOP, None),
        ("S T O P", Intent.STOP, None),
        ("s-t-o-p!", Intent.STOP, None),
        ("Stóp", Intent.STOP, None),
        ("\tquit\n", Intent.STOP, None),
        ("news", Intent.JOIN, None),
        (" N e w s ", Intent.JOIN, None),
        ("Help?", Intent.HELP, None),
        # a stop word leading a sentence opts out; other keywords must be the whole message
        ("Stop texting me please", Intent.STOP, None),
        ("UNSUBSCRIBE me", Intent.STOP, None),
        ("help me renew my license", Intent.UNKNOWN, None),
        ("yes please", Intent.UNKNOWN, None),
        ("don't stop", Intent.UNKNOWN, None),
        # localized keywords carry their language
        ("СТОП", Intent.STOP, "ru"),
        ("стоп", Intent.STOP, "ru"),
        ("Отписаться", Intent.STOP, "ru"),
        ("ALTO", Intent.STOP, "es"),
        ("parar", Intent.STOP, "es"),
        ("Baja", Intent.STOP, "es"),
        ("停止", Intent.STOP, "zh"),
        ("退订。", Intent.STOP, "zh"),
        ("停止发送", Intent.STOP, "zh"),
        ("توقف", Intent.STOP, "ar"),
        ("إلغاء", Intent.STOP, "ar"),
        ("الغاء", Intent.STOP, "ar"),  # written without the hamza
        ("Kanpe", Intent.STOP, "ht"),
        ("sispann", Intent.STOP, "ht"),
        ("Sí", Intent.START, "es"),
        ("si", Intent.START, "es"),
        ("Да", Intent.START, "ru"),
        ("نعم", Intent.START, "ar"),
        ("AYUDA", Intent.HELP, "es"),
        ("помощь", Intent.HELP, "ru"),
        ("帮助", Intent.HELP, "zh"),
        ("èd", Intent.HELP, "ht"),
        # join with a language
        ("NEWS RU", Intent.JOIN, "ru"),
        ("news es", Intent.JOIN, "es"),
        ("NEWS XX", Intent.UNKNOWN, None),
        # anything else
        ("", Intent.UNKNOWN, None),
        ("What time is the flu clinic?", Intent.UNKNOWN, None),
        ("😀", Intent.UNKNOWN, None),
        ("STOPP", Intent.UNKNOWN, None),
    ],
)
def test_keyword_table(sample_settings: Settings, text: str, intent: Intent, language: str | None) -> None:
    inbound = parse_inbound(text, sample_settings)
    assert (inbound.intent, inbound.language) == (intent, language)


def test_the_join_keyword_comes_from_settings(sample_settings: Settings) -> None:
    settings = sample_settings
    settings.sms = settings.sms.model_copy(update={"keyword": "ALERTAS"})
    assert parse_inbound("alertas", settings).intent is Intent.JOIN
    assert parse_inbound("NEWS", settings).intent is Intent.UNKNOWN


def test_stop_reply_is_the_subscribers_language(sample_settings: Settings) -> None:
    inbound = parse_inbound("STOP", sample_settings)
    reply = reply_for(inbound, "ru", sample_settings)
    assert (
        reply == "State News: вы отписались и больше не получите сообщений. Чтобы вернуться, ответьте START."
    )


def test_a_localized_keyword_answers_in_its_language(sample_settings: Settings) -> None:
    assert reply_for(parse_inbound("ALTO", sample_settings), None, sample_settings) == (
        "State News: ya no le enviaremos mensajes. Responda START para volver a suscribirse."
    )
    # an unknown number texting СТОП still gets Russian; a known Spanish subscriber texting СТОП too
    assert reply_language(parse_inbound("СТОП", sample_settings), "es", sample_settings) == "ru"


def test_unknown_numbers_get_the_default_language(sample_settings: Settings) -> None:
    assert reply_language(parse_inbound("HELP", sample_settings), None, sample_settings) == "en"
    assert reply_language(parse_inbound("HELP", sample_settings), "xx", sample_settings) == "en"


def test_each_intent_gets_its_reply(sample_settings: Settings) -> None:
    replies = {
        text: reply_for(parse_inbound(text, sample_settings), "es", sample_settings)
        for text in ("STOP", "START", "HELP", "NEWS", "hola")
    }
    assert replies["STOP"] == reply_text("stop", "es", sample_settings)
    assert replies["START"] == reply_text("start", "es", sample_settings)
    assert replies["NEWS"] == reply_text("join", "es", sample_settings)
    assert replies["HELP"] == replies["hola"] == reply_text("help", "es", sample_settings)
    assert "Msg & data rates may apply" in reply_text("join", "en", sample_settings)
    assert "Pueden aplicarse tarifas de mensajes y datos" in replies["NEWS"]
