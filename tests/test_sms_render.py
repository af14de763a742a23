"""SMS alerts as subscribers receive them: their language, a working short link, the opt-out line,
within the segment budget, cut only between words."""

from __future__ import annotations

import re
import shutil
import string
from pathlib import Path

import pytest
from babel.messages.pofile import read_po

from newsroom.config import Settings, load_settings
from newsroom.content.loader import load_newsroom
from newsroom.content.segments import count_segments
from newsroom.content.sms import OPT_OUT, opt_out_line, placeholder_link
from newsroom.errors import RenderError
from newsroom.gate import gate
from newsroom.render.sms import (
    compose_alert,
    fit_text,
    redirect_unit,
    reply_text,
    short_code,
    short_link,
    sms_redirect_units,
)
from tests.conftest import EMBARGOED_WORDS, SAMPLE_NOW
from tests.site_support import build

LOCALE = Path(__file__).resolve().parents[1] / "newsroom" / "locale"
TRANSLATED = ("es", "ru", "zh", "ar", "ht")
LINK = "https://news.example.gov/r/abcdefgh/"
LONG_RUSSIAN = (
    "Губернатор объявила о запуске новой программы бесплатных курсов цифровой грамотности "
    "для пожилых жителей штата во всех публичных библиотеках"
)


def _body(alert_text: str, link: str) -> str:
    return alert_text.split(f" {link}\n", 1)[0]


def _assert_cut_at_word(original: str, body: str) -> None:
    """`body` is `original`, or a prefix of it ending at a word boundary, plus an ellipsis."""
    if body == original:
        return
    assert body.endswith(("...", "…")), body
    prefix = body.removesuffix("...").removesuffix("…")
    assert original.startswith(prefix), (original, body)
    following = original[len(prefix)]
    assert (
        following.isspace() or following in string.punctuation + "，。、；：！？" or following >= "\u4e00"
    ), f"cut inside a word: {prefix!r} + {following!r}"


def test_every_sample_alert_fits_and_ends_with_the_readers_opt_out(sample_settings: Settings) -> None:
    published = gate(load_newsroom(sample_settings), SAMPLE_NOW)
    assert published.releases
    for release in published.releases:
        for language in sample_settings.language_codes:
            alert = compose_alert(release, language, sample_settings)
            assert alert.count.segments <= sample_settings.sms.segment_budget, alert
            assert alert.text.endswith(f"{alert.link}\n{opt_out_line(language)}")
            localized = release.localized(language)
            # a language the release lacks gets the original's link, which leads to the original's page
            assert alert.link == short_link(sample_settings, release.slug, localized.language)
            _assert_cut_at_word(
                " ".join((localized.sms or localized.title).split()), _body(alert.text, alert.link)
            )


def test_a_translated_alert_is_sent_whole_in_the_readers_language(sample_settings: Settings) -> None:
    release = load_newsroom(sample_settings).by_slug("new-york-experience")
    alert = compose_alert(release, "ru", sample_settings)
    assert alert.text == (f"Губернатор Хокул запустила стратегию NYX {alert.link}\nДля отписки ответьте STOP")
    assert not alert.shortened
    assert alert.is_ucs2


def test_a_long_text_is_cut_between_words_keeping_link_and_opt_out() -> None:
    opt_out = opt_out_line("ru")
    text, shortened = fit_text(LONG_RUSSIAN, LINK, opt_out, budget=2)
    assert shortened
    assert text.endswith("…")
    _assert_cut_at_word(LONG_RUSSIAN, text)
    message = f"{text} {LINK}\n{opt_out}"
    assert count_segments(message).segments == 2
    # the longest cut that fits: one more word would not
    next_word = LONG_RUSSIAN[len(text) - 1 :].split()[0]
    longer = text[:-1] + " " + next_word + "…"
    assert count_segments(f"{longer} {LINK}\n{opt_out}").segments > 2


def test_one_segment_budget_still_cuts_at_a_word() -> None:
    text, shortened = fit_text(
        "Free flu shots this week in Albany, Syracuse and Buffalo. " * 3, LINK, OPT_OUT, 1
    )
    assert shortened and text.endswith("...")  # GSM-7 stays GSM-7: three dots, not "…"
    assert count_segments(f"{text} {LINK}\n{OPT_OUT}").segments == 1
    assert not text.endswith(",...")  # no dangling comma before the ellipsis


def test_chinese_is_cut_after_punctuation_or_between_characters() -> None:
    text = "卫生局宣布，全州将开设免费流感疫苗接种点，无需保险或身份证件，欢迎所有居民前往接种。" * 3
    cut, shortened = fit_text(text, LINK, opt_out_line("zh"), 2)
    assert shortened and cut.endswith("…")
    assert text.startswith(cut[:-1])
    assert count_segments(f"{cut} {LINK}\n{opt_out_line('zh')}").segments <= 2


def test_typographic_quotes_do_not_turn_english_into_ucs2() -> None:
    text, _ = fit_text("Governor’s “New York Experience” plan — simpler services…", LINK, OPT_OUT, 2)
    assert text == 'Governor\'s "New York Experience" plan - simpler services...'
    assert count_segments(f"{text} {LINK}\n{OPT_OUT}").encoding == "GSM-7"


def test_a_budget_that_leaves_no_room_for_text_is_a_clear_error() -> None:
    with pytest.raises(RenderError, match=r"raise sms\.segment_budget"):
        fit_text("Словосочетаниекотороеневлезаетникуда " * 2, LINK + "x" * 20, opt_out_line("ru"), 1)


def test_short_links_are_stable_distinct_and_as_long_as_the_checks_assume(sample_settings: Settings) -> None:
    codes = {short_code(slug, lang) for slug in ("a", "b", "new-york-experience") for lang in ("en", "ru")}
    assert len(codes) == 6
    assert short_code("new-york-experience", "ru") == short_code("new-york-experience", "ru")
    assert all(re.fullmatch(r"[a-z2-7]{8}", code) for code in codes)
    link = short_link(sample_settings, "new-york-experience", "ru")
    assert len(link) == len(placeholder_link(sample_settings.site.base_url))


def test_redirect_pages_forward_to_the_release_in_the_readers_language(sample_settings: Settings) -> None:
    published = gate(load_newsroom(sample_settings), SAMPLE_NOW)
    artifacts = {
        a.path: a.data.decode() for unit in sms_redirect_units(published) for a in unit.render(*unit.args)
    }
    for release in published.releases:
        for language in sample_settings.language_codes:
            alert = compose_alert(release, language, sample_settings)
            page = artifacts[alert.link.removeprefix(sample_settings.site.base_url + "/") + "index.html"]
            shown = language if language in release.languages else release.language  # no page in others
            target = f"{sample_settings.site.base_url}/{shown}/releases/{release.slug}/"
            assert f'content="0; url={target}"' in page
            assert f'<a href="{target}">' in page
            assert f'<html lang="{shown}"' in page  # the page speaks the language it leads to
    ar_page = artifacts[f"r/{short_code('city-digital-services-plain-language', 'ar')}/index.html"]
    assert 'dir="rtl"' in ar_page and "الانتقال إلى البيان الصحفي" in ar_page
    # one page per language a release exists in, none for the languages it lacks
    expected = {
        f"r/{short_code(release.slug, language)}/index.html"
        for release in (*published.releases, *published.withdrawn)
        for language in release.languages
    }
    assert set(artifacts) == expected
    assert f"r/{short_code('new-york-experience', 'ht')}/index.html" not in artifacts
    everything = "\n".join([*artifacts, *artifacts.values()])
    for word in EMBARGOED_WORDS:
        assert word not in everything


def test_every_short_link_in_the_built_site_leads_to_a_page_that_exists(sample_root: Path) -> None:
    build(sample_root, SAMPLE_NOW)
    site = (sample_root / "site").resolve()
    settings = load_settings(sample_root, environ={})
    base = settings.site.base_url
    published = gate(load_newsroom(settings), SAMPLE_NOW)
    sent = {
        compose_alert(release, language, settings).link
        for release in published.releases
        for language in settings.language_codes
    }
    redirects = sorted(site.glob("r/*/index.html"))
    assert {f"{base}/{page.parent.relative_to(site)}/" for page in redirects} >= sent
    for redirect in redirects:
        target = re.search(r'content="0; url=([^"]+)"', redirect.read_text("utf-8"))
        assert target is not None and target[1].startswith(base + "/"), redirect
        assert (site / target[1].removeprefix(base + "/") / "index.html").is_file(), (redirect, target[1])


def test_redirect_unit_keys_change_only_with_their_inputs(sample_settings: Settings) -> None:
    published = gate(load_newsroom(sample_settings), SAMPLE_NOW)
    first = {unit.name: unit.key for unit in sms_redirect_units(published)}
    again = {unit.name: unit.key for unit in sms_redirect_units(published)}
    assert first == again
    releases = (*published.releases, *published.withdrawn)
    assert set(first) == {redirect_unit(release.slug) for release in releases}


def test_check_warns_with_the_real_localized_opt_out(sample_root: Path) -> None:
    # 75 Cyrillic letters fit two segments with the English "Reply STOP to end", not with the Russian line.
    ru = sample_root / "releases/2024/2024-11-25-new-york-experience/ru.md"
    text = ("Губернатор Хокул запустила стратегию NYX для простых и быстрых госуслуг штата")[:75]
    assert len(text) == 75
    ru.write_text(re.sub(r"(?m)^sms: .*$", f"sms: {text}", ru.read_text("utf-8")), "utf-8")
    warnings = [
        d for d in load_newsroom(load_settings(sample_root, environ={})).diagnostics if "SMS" in d.message
    ]
    assert [(d.path.endswith("ru.md"), "UCS-2" in d.message) for d in warnings] == [(True, True)]


def test_the_sample_newsroom_has_no_sms_warnings(sample_settings: Settings) -> None:
    assert not [d for d in load_newsroom(sample_settings).diagnostics if "SMS" in d.message]


@pytest.mark.parametrize("kind", ["help", "join", "stop", "start", "confirm"])
def test_replies_are_translated_short_and_name_the_keywords(sample_settings: Settings, kind: str) -> None:
    english = reply_text(kind, "en", sample_settings)  # type: ignore[arg-type]
    for language in sample_settings.language_codes:
        reply = reply_text(kind, language, sample_settings)  # type: ignore[arg-type]
        assert count_segments(reply).segments <= 2, (language, reply)
        assert reply.startswith(sample_settings.sms.program_name)
        assert language == "en" or reply != english
        expected = {"help": ["STOP", "news.example.gov"], "join": ["HELP", "STOP"], "stop": ["START"],
                    "start": ["HELP", "STOP"], "confirm": ["YES"]}[kind]  # fmt: skip
        for keyword in expected:
            assert keyword in reply, (language, reply)


@pytest.mark.parametrize("language", TRANSLATED)
def test_sms_catalog_is_complete(language: str) -> None:
    with (LOCALE / language / "LC_MESSAGES" / "sms.po").open("rb") as po:
        catalog = read_po(po)
    messages = [m for m in catalog if m.id]
    assert len(messages) >= 7
    for message in messages:
        assert isinstance(message.string, str) and message.string and not message.fuzzy, message.id
        assert re.findall(r"{\w+}", str(message.id)) == re.findall(r"{\w+}", message.string), message.id


def test_a_translation_without_sms_text_is_checked_with_its_own_opt_out(sample_root: Path) -> None:
    # The English text fits two GSM-7 segments with "Reply STOP to end" but not with the longer
    # Spanish line; es.md has no `sms:`, so its alert is this text plus "Responda STOP para cancelar".
    folder = sample_root / "releases/2024/2024-12-05-dmv-office-hours-media-advisory"
    english = ("The DMV will open six offices on weekday evenings and Saturday mornings. " * 4)[:245].strip()
    original = folder / "en.md"
    original.write_text(re.sub(r"(?m)^sms: .*$", f"sms: {english}", original.read_text("utf-8")), "utf-8")
    spanish = folder / "es.md"
    spanish.write_text(re.sub(r"(?m)^sms: .*\n", "", spanish.read_text("utf-8")), "utf-8")
    warnings = [
        d for d in load_newsroom(load_settings(sample_root, environ={})).diagnostics if "SMS" in d.message
    ]
    assert [Path(d.path).name for d in warnings] == ["es.md"]


def test_check_and_sender_read_the_same_opt_out_line(sample_settings: Settings) -> None:
    from newsroom.render.sms import opt_out

    lines = {language: opt_out(language) for language in sample_settings.language_codes}
    assert lines == {language: opt_out_line(language) for language in sample_settings.language_codes}
    assert len(set(lines.values())) == len(lines)  # really translated, every one


def test_chinese_prefers_a_cut_at_punctuation_to_one_inside_a_word() -> None:
    clause = "全州将开设免费流感疫苗接种点" * 5  # 70 characters, then a comma
    text = clause + "，" + "欢迎所有居民前往附近的接种点接种疫苗" * 4
    cut, _ = fit_text(text, LINK, opt_out_line("zh"), 2)
    assert cut == clause + "…"  # not 15 characters further, inside a word
    # ...but a comma that would lose most of the room is not worth it: cut between ideographs
    short_clause = "卫生局宣布，" + "欢迎所有居民前往附近的接种点接种疫苗" * 6
    cut, _ = fit_text(short_clause, LINK, opt_out_line("zh"), 2)
    assert len(cut) > 60 and short_clause.startswith(cut[:-1])


def test_nothing_but_punctuation_is_never_an_alert() -> None:
    with pytest.raises(RenderError):
        fit_text("— " + "Словосочетаниекотороеневлезаетникуда" * 3, LINK + "x" * 20, opt_out_line("ru"), 1)


def test_two_releases_whose_short_links_collide_are_refused() -> None:
    from newsroom.render.sms import check_unique_codes

    # Found by a birthday search over "release-N" (40-bit codes collide after about a million slugs).
    assert short_code("release-452945", "en") == short_code("release-847464", "en")
    check_unique_codes([("release-452945", "en"), ("release-452945", "ru"), ("release-1", "en")])
    with pytest.raises(
        RenderError, match=r"r/5bn6oynw/ would serve both release-452945 \(en\) and release-847464"
    ):
        check_unique_codes([("release-452945", "en"), ("release-847464", "en")])


def test_a_build_with_two_releases_whose_short_links_collide_fails_and_names_them(sample_root: Path) -> None:
    source = sample_root / "releases" / "2024" / "2024-11-25-new-york-experience"
    for folder in ("2024-11-20-release-452945", "2024-11-21-release-847464"):
        shutil.copytree(source, source.parent / folder)

    with pytest.raises(
        RenderError, match=r"r/5bn6oynw/ would serve both release-452945 \(en\) and release-847464 \(en\)"
    ):
        build(sample_root, SAMPLE_NOW)
    assert not (sample_root / "site").exists()  # nothing half-built is left where the site goes
