"""Email messages as a mail client and a reader see them: parsed with Python's `email` package."""

from __future__ import annotations

import base64
import re
import shutil
import subprocess
from datetime import date, timedelta
from email.header import decode_header, make_header
from email.message import EmailMessage
from pathlib import Path

import dkim
import pytest
from babel.dates import format_date
from babel.messages.extract import extract_from_file

from newsroom.config import Settings, load_settings
from newsroom.errors import ConfigError, RenderError
from newsroom.gate import Published
from newsroom.render import email as email_render
from newsroom.render.email import (
    KINDS,
    Content,
    DkimSigner,
    Interest,
    Kind,
    MessageCache,
    PreparedMessage,
    personalise,
    prepare_message,
)
from newsroom.render.email_dkim import dkim_signer
from newsroom.render.i18n import LOCALE_DIR, translations
from newsroom.render.markdown import render_markdown
from newsroom.subscribers.tokens import ExpiredToken, read_token
from tests.conftest import REPO, SAMPLE_NOW
from tests.email_support import LINK, content_for, links, parse, parts, published

KEYS = ["test-secret"]
LANGUAGES = ("en", "es", "ru", "zh", "ar", "ht")
BULK_HEADERS = ("List-Id", "List-Unsubscribe", "List-Unsubscribe-Post")


@pytest.fixture
def view(sample_settings: Settings) -> Published:
    return published(sample_settings, SAMPLE_NOW)


def prepared(
    kind: Kind, language: str, view: Published, slug: str = "new-york-experience"
) -> PreparedMessage:
    return prepare_message(kind, language, content_for(kind, view, slug), view.settings, view.now)


@pytest.mark.parametrize("kind", KINDS)
@pytest.mark.parametrize("language", LANGUAGES)
def test_every_message_is_a_well_formed_two_part_email(kind: Kind, language: str, view: Published) -> None:
    data = personalise(prepared(kind, language, view), 17, "reader@example.org", keys=KEYS)
    message = parse(data)

    assert b"NRSLOT" not in data  # every personal slot was filled
    assert message.get_content_type() == "multipart/alternative"
    assert [p.get_content_type() for p in message.iter_parts()] == ["text/plain", "text/html"]
    assert not message.defects and all(not p.defects for p in message.iter_parts())
    text, html = parts(message)
    assert len(text) > 200 and "Press Office, State Capitol, Albany" in text
    assert re.search(rf'<html lang="{language}" dir="(ltr|rtl)"', html)
    assert "\\u{" not in html  # no Rust-escaped characters leaking from MJML into alt or aria-label
    assert message["To"] == "reader@example.org"
    assert message["From"].addresses[0].addr_spec == "news@news.example.gov"
    assert decoded_display_name(message) == view.settings.site_name(language)
    assert message["Reply-To"] == "press.office@news.example.gov"
    assert message["Subject"] and message["Date"].datetime == SAMPLE_NOW
    assert re.fullmatch(r"<[0-9a-f]+\.17@news\.example\.gov>", message["Message-ID"])
    assert message["Content-Language"] == language
    assert message["MIME-Version"] == "1.0"
    if kind in ("alert", "daily", "weekly"):
        assert message["List-Unsubscribe-Post"] == "List-Unsubscribe=One-Click"
        unsubscribe = re.findall(r"<([^>]+)>", message["List-Unsubscribe"])
        assert unsubscribe[0].startswith("https://news.example.gov/unsubscribe/")
        assert unsubscribe[1].startswith("mailto:unsubscribe@news.example.gov?subject=unsubscribe%20")
        assert message["List-Id"].endswith(".news.example.gov>")
    else:
        assert all(message[name] is None for name in BULK_HEADERS)
    for line in data.split(b"\r\n"):
        assert len(line) <= 998
        assert len(line) <= 78 or b"https://" in line or b"mailto:" in line, line


def decoded_display_name(message: EmailMessage) -> str:
    # Python's address parser puts a space between adjacent encoded words of a display name, which
    # RFC 2047 (and mail clients) join without one; decode the raw header the RFC way instead.
    raw = next(value for name, value in message.raw_items() if name == "From")
    return str(make_header(decode_header(raw.rpartition("<")[0].strip()))).strip('"')


def test_links_carry_each_subscribers_own_tokens(view: Published) -> None:
    alert = prepared("alert", "en", view)
    first = links(parse(personalise(alert, 1, "one@example.org", keys=KEYS)))
    second = links(parse(personalise(alert, 2, "two@example.org", keys=KEYS)))

    for subscriber, found in ((1, first), (2, second)):
        # one unsubscribe token shared by the header, the text and the HTML; one preferences token
        assert len(found["unsubscribe"]) == 1 and len(found["preferences"]) == 1
        (unsubscribe,) = found["unsubscribe"]
        (preferences,) = found["preferences"]
        assert read_token(unsubscribe, "unsubscribe", SAMPLE_NOW, KEYS) == subscriber
        assert read_token(preferences, "preferences", SAMPLE_NOW, KEYS) == subscriber
    assert first["unsubscribe"].isdisjoint(second["unsubscribe"])


def test_two_subscribers_get_the_same_bytes_apart_from_their_personal_parts(view: Published) -> None:
    digest = prepared("weekly", "ru", view)
    one = personalise(digest, 1, "one@example.org", keys=KEYS)
    two = personalise(digest, 2, "two@example.org", keys=KEYS)
    assert one != two

    swapped = one.replace(b"one@example.org", b"two@example.org").replace(b".1@news", b".2@news")
    for (_, token_one), (_, token_two) in zip(
        LINK.findall(one.decode()), LINK.findall(two.decode()), strict=True
    ):
        swapped = swapped.replace(token_one.encode(), token_two.encode())
    assert swapped == two


def test_personalising_runs_no_template_or_mjml(view: Published, monkeypatch: pytest.MonkeyPatch) -> None:
    alert = prepared("alert", "es", view)

    def refuse(*args: object, **kwargs: object) -> None:
        raise AssertionError("rendered again")

    monkeypatch.setattr(email_render, "mjml2html", refuse)
    monkeypatch.setattr(email_render, "_environment", refuse)
    monkeypatch.setattr(email_render, "multipart_alternative", refuse)
    messages = [personalise(alert, n, f"r{n}@example.org", keys=KEYS) for n in range(50)]
    assert len(set(messages)) == 50


def test_a_cache_renders_each_distinct_message_once(view: Published) -> None:
    cache = MessageCache(view.settings, view.now)
    for _ in range(20):
        for language in ("en", "ru"):
            cache.get("alert", language, content_for("alert", view))
    assert cache.renders == 2


def test_russian_reader_gets_russian_subject_dates_and_words(view: Published) -> None:
    message = parse(personalise(prepared("alert", "ru", view), 5, "r@example.org", keys=KEYS))
    text, html = parts(message)
    assert message["Subject"] == view.by_slug("new-york-experience").translations["ru"].meta.title
    day = format_date(date(2024, 11, 25), "long", locale="ru")  # '25 ноября 2024 г.' with a narrow space
    for body in (text, html):
        assert day in body
        assert "Отписаться" in body and "Пресс-релиз" in body
    digest = parse(personalise(prepared("daily", "ru", view), 5, "r@example.org", keys=KEYS))
    assert digest["Subject"] == "Новости за день: " + format_date(date(2024, 12, 12), "long", locale="ru")
    assert "1 новый пресс-релиз" in parts(digest)[1]


def test_arabic_email_reads_right_to_left_with_english_passages_left_to_right(view: Published) -> None:
    message = parse(personalise(prepared("alert", "ar", view), 5, "r@example.org", keys=KEYS))
    text, html = parts(message)
    assert '<html lang="ar" dir="rtl"' in html
    assert "إلغاء الاشتراك" in html and "إلغاء الاشتراك:" in text  # "Unsubscribe"
    assert '<div lang="en" dir="ltr"' in html  # no Arabic translation: the English original, marked so
    native = parse(personalise(prepared("alert", "ar", view, "city-digital-services-plain-language"), 5,
                               "r@example.org", keys=KEYS))  # fmt: skip
    native_html = parts(native)[1]
    assert '<div lang="ar" dir="rtl"' in native_html
    alt = view.by_slug("city-digital-services-plain-language").translations["ar"].meta.images[0].alt
    assert f'alt="{alt}"' in html_unescape_refs(native_html)  # vowel signs intact in the alt text


def html_unescape_refs(html: str) -> str:
    return re.sub(r"&#x([0-9a-f]+);", lambda m: chr(int(m.group(1), 16)), html)


def test_a_missing_translation_is_sent_as_the_original_with_a_note(view: Published) -> None:
    slug = next(r.slug for r in view.releases if r.meta.office == "labor")  # English only
    message = parse(personalise(prepared("alert", "ru", view, slug), 5, "r@example.org", keys=KEYS))
    text, html = parts(message)
    note = "Этот пресс-релиз пока не переведён на ваш язык. Ниже — оригинал (английский)."
    assert note in html and note in text.replace("\n", " ")
    assert message["Subject"] == view.by_slug(slug).meta.title  # the English title
    translated = parts(parse(personalise(prepared("alert", "ru", view), 5, "r@example.org", keys=KEYS)))
    assert "пока не переведён" not in translated[1]


def test_a_digest_mixes_translated_and_original_releases(view: Published) -> None:
    message = parse(personalise(prepared("weekly", "zh", view), 5, "r@example.org", keys=KEYS))
    text, html = parts(message)
    flu = view.by_slug(next(r.slug for r in view.releases if "flu" in r.slug))
    assert flu.translations["zh"].meta.title in html  # translated: shown in Chinese, no note
    assert "尚无译文。原文：英语。" in html  # the labor statement exists only in English
    assert text.count("尚无译文") == html.count("尚无译文") == 1
    assert "2 条新闻稿" in html


def test_a_confirmation_link_works_for_seven_days(view: Published) -> None:
    message = parse(personalise(prepared("confirm", "es", view), 9, "r@example.org", keys=KEYS))
    (token,) = links(message)["confirm"]
    assert "unsubscribe" not in links(message)
    assert read_token(token, "confirm", SAMPLE_NOW + timedelta(days=6), KEYS) == 9
    with pytest.raises(ExpiredToken):
        read_token(token, "confirm", SAMPLE_NOW + timedelta(days=8), KEYS)


def test_footer_says_why_the_reader_gets_the_email(view: Published) -> None:
    content = Content(
        Interest("weekly", ("health", "jobs")), releases=(), period=content_for("weekly", view).period
    )
    message = prepare_message("weekly", "es", content, view.settings, view.now)
    text, html = parts(parse(personalise(message, 1, "r@example.org", keys=KEYS)))
    why = "Recibe este correo porque se suscribió a un resumen semanal sobre: Salud y Empleo y trabajadores."
    assert why in html and why in text.replace("\n", " ")


@pytest.mark.parametrize("address", ["a@b.org\r\nBcc: x@y.org", "two words@b.org", "no-at-sign", "<a@b.org>"])
def test_an_address_that_could_inject_headers_is_refused(address: str, view: Published) -> None:
    with pytest.raises(RenderError, match="not a deliverable address"):
        personalise(prepared("goodbye", "en", view), 1, address, keys=KEYS)


def test_an_alert_needs_exactly_one_release(view: Published) -> None:
    with pytest.raises(RenderError, match="exactly one release"):
        prepare_message("alert", "en", Content(Interest("immediate", ("health",))), view.settings, view.now)


def _openssl_key(tmp_path: Path) -> tuple[bytes, bytes]:
    private = tmp_path / "dkim.pem"
    subprocess.run(["openssl", "genrsa", "-traditional", "-out", str(private), "2048"], check=True,
                   capture_output=True)  # fmt: skip
    public = subprocess.run(["openssl", "rsa", "-in", str(private), "-pubout", "-outform", "DER"],
                            check=True, capture_output=True).stdout  # fmt: skip
    return private.read_bytes(), base64.b64encode(public)


@pytest.mark.skipif(shutil.which("openssl") is None, reason="needs openssl to make a test key")
def test_dkim_signature_verifies_and_covers_both_unsubscribe_headers(view: Published, tmp_path: Path) -> None:
    private, public = _openssl_key(tmp_path)
    signer = DkimSigner("news2024", "news.example.gov", private)
    data = personalise(prepared("alert", "ru", view), 3, "r@example.org", keys=KEYS, dkim=signer)

    def dns(name: bytes, timeout: int = 5) -> bytes:
        assert name == b"news2024._domainkey.news.example.gov."
        return b"v=DKIM1; k=rsa; p=" + public

    assert dkim.verify(data, dnsfunc=dns)
    signed = re.search(rb"h=([^;]+);", data.split(b"\r\n\r\n")[0].replace(b"\r\n ", b"")).group(1)  # type: ignore[union-attr]
    names = {name.strip().lower() for name in signed.split(b":")}
    assert {b"list-unsubscribe", b"list-unsubscribe-post", b"from", b"to", b"subject"} <= names
    tampered = data.replace(
        b"List-Unsubscribe-Post: List-Unsubscribe=One-Click", b"List-Unsubscribe-Post: No"
    )
    assert not dkim.verify(tampered, dnsfunc=dns)


def test_markdown_bodies_lose_scripts_and_raw_html() -> None:
    html = render_markdown('Hi <script>alert(1)</script><b onclick="x()">there</b> [a](javascript:alert(1))')
    assert "<script" not in html and "onclick" not in html and 'href="javascript' not in html
    assert "there" in html


def _catalog_msgids() -> set[str]:
    ids: set[str] = set()
    options = {"extensions": "jinja2.ext.i18n", "newstyle_gettext": "true", "trim_blocks": "true"}
    for template in sorted((REPO / "templates" / "email").iterdir()):
        ids.update(_first(m[1]) for m in extract_from_file("jinja2", template, options=options))
    for module in ("email.py", "email_context.py"):
        found = extract_from_file("python", REPO / "newsroom" / "render" / module, keywords={"_": None})
        ids.update(_first(m[1]) for m in found)
    return ids


def _first(message: str | tuple[str, ...]) -> str:
    return message if isinstance(message, str) else message[0]


@pytest.mark.parametrize("language", ["es", "ru", "zh", "ar", "ht"])
def test_every_email_string_is_translated(language: str) -> None:
    assert (LOCALE_DIR / language / "LC_MESSAGES" / "email.po").is_file()
    catalog = translations(language, "email")
    msgids = _catalog_msgids()
    assert len(msgids) > 40
    untranslated = sorted(
        m for m in msgids if catalog.gettext(m) == m and catalog.ngettext(m, m + "s", 5) == m
    )
    assert untranslated == []


SHOTS = Path("/tmp/shots")


@pytest.mark.browser
def test_alert_and_digest_fit_a_phone_and_a_desktop_pane(view: Published, tmp_path: Path) -> None:
    from tests.support.browser import axe_violations, chromium_available, launch_browser, screenshot

    if not chromium_available():
        pytest.skip("needs Debian's chromium")
    cases = [(kind, language) for kind in ("alert", "weekly") for language in ("en", "ru", "ar")]
    with launch_browser() as browser:
        page = browser.new_page()
        for kind, language in cases:
            slug = "city-digital-services-plain-language" if language == "ar" else "new-york-experience"
            data = personalise(prepared(kind, language, view, slug), 1, "r@example.org", keys=KEYS)
            html_file = tmp_path / f"{kind}-{language}.html"
            html_file.write_text(parts(parse(data))[1], encoding="utf-8")
            page.goto(html_file.as_uri())
            for width in (390, 600):
                screenshot(page, SHOTS / f"email-{kind}-{language}-{width}.png", width)
                overflow = page.evaluate("() => document.documentElement.scrollWidth")
                assert overflow <= width, f"{kind} {language} scrolls sideways at {width}px"
            assert page.evaluate("() => getComputedStyle(document.querySelector('h1')).direction") == (
                "rtl" if language == "ar" else "ltr"
            )
            wcag = {"runOnly": ["wcag2a", "wcag2aa", "wcag21a", "wcag21aa"]}
            assert axe_violations(page, wcag) == [], f"{kind} {language}"


def test_haitian_creole_dates_and_lists_are_creole_not_french(view: Published) -> None:
    message = parse(
        personalise(prepared("alert", "ht", view, "health-flu-clinics"), 5, "r@example.org", keys=KEYS)
    )
    text, html = parts(message)
    for body in (text, html):
        assert "12 desanm 2024" in body and "décembre" not in body
    assert "Sante ak Sekirite piblik" in text.replace("\n", " ")


def test_digest_plain_text_keeps_each_item_indented(view: Published) -> None:
    text = parts(parse(personalise(prepared("weekly", "en", view), 5, "r@example.org", keys=KEYS)))[0]
    listing = text[text.index("\n== ") : text.index("\n-- \n")]
    items = [line for line in listing.splitlines() if line]
    assert any(line.startswith("* ") for line in items)
    assert all(line.startswith(("== ", "* ", "  ")) for line in items), listing


def test_goodbye_does_not_say_you_signed_up(view: Published) -> None:
    content = Content(Interest("daily", ("health",)))
    message = prepare_message("goodbye", "en", content, view.settings, view.now)
    text, html = parts(parse(personalise(message, 1, "r@example.org", keys=KEYS)))
    assert "You have unsubscribed" in html
    assert "because you signed up" not in html and "because you signed up" not in text
    assert "/unsubscribe/" not in html and "https://news.example.gov/subscribe" in html


def test_dkim_is_configured_from_the_environment(
    sample_root: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    key = tmp_path / "key.pem"
    key.write_bytes(b"-----BEGIN RSA PRIVATE KEY-----\n")
    monkeypatch.delenv("NEWSROOM_DKIM_KEY_FILE", raising=False)
    assert dkim_signer(load_settings(sample_root, environ={})) is None
    monkeypatch.setenv("NEWSROOM_DKIM_KEY_FILE", str(key))
    with pytest.raises(ConfigError, match="dkim_selector"):
        dkim_signer(load_settings(sample_root, environ={}))
    signer = dkim_signer(load_settings(sample_root, environ={"NEWSROOM_DKIM_SELECTOR": "news2024"}))
    assert signer is not None and (signer.selector, signer.domain) == ("news2024", "news.example.gov")
    monkeypatch.setenv("NEWSROOM_DKIM_KEY_FILE", str(tmp_path / "missing.pem"))
    with pytest.raises(ConfigError, match=r"missing\.pem: cannot read"):
        dkim_signer(load_settings(sample_root, environ={"NEWSROOM_DKIM_SELECTOR": "news2024"}))


def test_same_inputs_give_byte_identical_messages(sample_settings: Settings) -> None:
    first = published(sample_settings, SAMPLE_NOW)
    again = published(sample_settings, SAMPLE_NOW)
    for kind in KINDS:
        one = personalise(prepared(kind, "ar", first), 8, "r@example.org", keys=KEYS)
        two = personalise(prepared(kind, "ar", again), 8, "r@example.org", keys=KEYS)
        assert one == two, kind


def test_topic_order_does_not_make_a_new_message(view: Published) -> None:
    cache = MessageCache(view.settings, view.now)
    period = content_for("daily", view).period
    for topics in (("health", "jobs"), ("jobs", "health"), ("jobs", "health", "jobs")):
        cache.get("daily", "en", Content(Interest("daily", topics), view.releases, period))
    assert cache.renders == 1
