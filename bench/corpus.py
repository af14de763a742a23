"""A seeded corpus of press releases, written three ways: as a newsroom, a Pelican site and a Hugo site.

    python -m bench.corpus --count 1000 --out bench/out/corpus-1000

writes out/newsroom (newsroom.toml + releases/), out/pelican (pelicanconf.py + content/) and out/hugo
(hugo.toml + content/ + layouts/). The same seed gives byte-identical trees. 30% of releases carry two
translations (picked from es, ru, zh, ar, ht); bodies run 300-600 words with headings, lists and quotes.
"""

from __future__ import annotations

import argparse
import hashlib
import json
import random
import shutil
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from pathlib import Path
from zoneinfo import ZoneInfo

from bench.words import VOCABULARIES, Vocabulary
from newsroom.config import Settings, load_settings

REPO = Path(__file__).resolve().parents[1]
ZONE_NAME = "America/New_York"
ZONE = ZoneInfo(ZONE_NAME)
# Every run builds "as of" this moment; embargoed releases are years after it (see _release_time).
NOW = datetime(2026, 7, 1, 12, 0, tzinfo=ZONE)
NOW_TEXT = f"{NOW:%Y-%m-%d %H:%M} {ZONE_NAME}"
FIRST_DAY = datetime(2014, 1, 1, tzinfo=ZONE)
TRANSLATED_SHARE = 0.30
TRANSLATION_LANGUAGES = ("es", "ru", "zh", "ar", "ht")
HUGO_LAYOUTS = Path(__file__).parent / "hugo_layouts"  # a minimal theme: base, page, list
HEADLINE_MAX = 90  # under the editorial limit of 100
PELICAN_PAGE_SIZE = HUGO_PAGE_SIZE = 20
FEED_ITEMS = 50  # the newest 50 in every feed, for both peers (Hugo's default is every page)


@dataclass(frozen=True)
class Text:
    """A release's text in one language."""

    language: str
    title: str
    subtitle: str
    summary: str
    sms: str
    dateline: str
    body: str
    correction_notes: tuple[str, ...] = ()
    event_place: str = ""


@dataclass(frozen=True)
class GeneratedRelease:
    slug: str
    time: datetime  # local, in ZONE
    kind: str
    office: str
    topics: tuple[str, ...]
    status: str
    corrections: tuple[datetime, ...]
    event: tuple[datetime, datetime] | None
    contact_phone: str
    texts: dict[str, Text] = field(default_factory=dict)  # the original (en) first

    @property
    def folder(self) -> str:
        return f"{self.time:%Y}/{self.time:%Y-%m-%d}-{self.slug}"


@dataclass(frozen=True)
class Corpus:
    count: int
    newsroom: Path  # newsroom.toml + releases/
    pelican: Path  # pelicanconf.py + content/
    hugo: Path  # hugo.toml + content/ + layouts/
    releases: tuple[GeneratedRelease, ...]

    @property
    def markdown_files(self) -> int:
        return sum(len(r.texts) for r in self.releases)


# ---------------------------------------------------------------- text


class _Writer:
    """Sentences, paragraphs and bodies in one language from its seed vocabulary."""

    def __init__(self, rng: random.Random, vocabulary: Vocabulary) -> None:
        self.rng = rng
        self.v = vocabulary

    def words(self, low: int, high: int) -> list[str]:
        return [self.rng.choice(self.v.words) for _ in range(self.rng.randint(low, high))]

    def phrase(self, low: int, high: int) -> str:
        words = self.words(low, high)
        return _capitalize(self.v.separator.join(words))

    def sentence(self, low: int = 8, high: int = 18) -> str:
        words = self.words(low, high)
        if len(words) > 9:  # a clause break, as real sentences have
            cut = self.rng.randint(4, len(words) - 4)
            words[cut] += self.v.comma
        return _capitalize(self.v.separator.join(words)) + self.v.full_stop

    def paragraph(self) -> str:
        join = "" if not self.v.separator else " "
        return join.join(self.sentence() for _ in range(self.rng.randint(2, 4)))

    def quote(self) -> str:
        name = self.rng.choice(self.v.names)
        return f"{_capitalize(name)} {self.v.said}: {self.v.open_quote}{self.sentence()}{self.v.close_quote}"

    def body(self, dateline: str) -> str:
        """300-600 words: a lead, a quote, a heading with a list, a block quote, closing paragraphs."""
        target = self.rng.randint(300, 600)
        blocks = [f"{dateline} — {self.paragraph()}", self.quote(), self.paragraph()]
        blocks.append(f"## {self.phrase(2, 5)}")
        blocks.append(
            "\n".join(
                f"- **{self.phrase(1, 3)}{self.v.full_stop}** {self.sentence(6, 12)}"
                for _ in range(self.rng.randint(3, 5))
            )
        )
        blocks.append(f"> {self.sentence()}")
        while _count_words(blocks, self.v) < target:
            blocks.append(self.paragraph())
        return "\n\n".join(blocks) + "\n"

    def headline(self) -> str:
        words = self.words(6, 12)
        while len(self.v.separator.join(words)) > HEADLINE_MAX // (1 if self.v.separator else 3):
            words.pop()
        return _capitalize(self.v.separator.join(words))

    def sms(self) -> str:
        # Cyrillic, Arabic and Chinese go as UCS-2 (67 characters a segment): stay within 2 with the link.
        words = self.words(3, 6)
        while len(self.v.separator.join(words)) > 60:
            words.pop()
        return _capitalize(self.v.separator.join(words)) + self.v.full_stop


def _capitalize(text: str) -> str:
    return text[:1].upper() + text[1:]


def _count_words(blocks: list[str], vocabulary: Vocabulary) -> int:
    if vocabulary.separator:
        return sum(len(block.split()) for block in blocks)
    # Chinese: count vocabulary tokens (about two characters each)
    return sum(len(block) for block in blocks) // 2


def _text(rng: random.Random, language: str, corrections: int, event: bool) -> Text:
    writer = _Writer(rng, VOCABULARIES[language])
    dateline = writer.v.dateline
    return Text(
        language=language,
        title=writer.headline(),
        subtitle=writer.sentence(8, 14),
        summary=" ".join(writer.sentence(10, 16) for _ in range(rng.randint(1, 2))),
        sms=writer.sms(),
        dateline=dateline,
        body=writer.body(dateline),
        correction_notes=tuple(writer.sentence(8, 14) for _ in range(corrections)),
        event_place=writer.v.place if event else "",
    )


# ---------------------------------------------------------------- releases


def generate_releases(count: int, settings: Settings, seed: int = 2024) -> list[GeneratedRelease]:
    """`count` releases, deterministic for a seed; topics and offices from the settings' vocabulary."""
    rng = random.Random(seed)
    offices = sorted(settings.offices)
    topics = sorted(settings.topics)
    languages = [code for code in TRANSLATION_LANGUAGES if code in settings.language_codes]
    return [_release(rng, index, offices, topics, languages) for index in range(count)]


def _release(
    rng: random.Random, index: int, offices: list[str], topics: list[str], languages: list[str]
) -> GeneratedRelease:
    roll = rng.random()
    kind = "media-advisory" if roll < 0.10 else "statement" if roll < 0.20 else "press-release"
    roll = rng.random()
    status = "draft" if roll < 0.005 else "withdrawn" if roll < 0.01 else "published"
    time = _release_time(rng)
    corrections = (time + timedelta(days=1, hours=rng.randint(0, 8)),) if rng.random() < 0.05 else ()
    event = None
    if kind == "media-advisory":
        start = (time + timedelta(days=rng.randint(1, 5))).replace(hour=rng.randint(9, 16), minute=0)
        event = (start, start + timedelta(hours=1))
    texts = {"en": _text(rng, "en", len(corrections), event is not None)}
    if rng.random() < TRANSLATED_SHARE:
        for language in sorted(rng.sample(languages, 2)):
            texts[language] = _text(rng, language, len(corrections), event is not None)
    slug_words = [w for w in texts["en"].title.lower().split() if w.isascii() and w.isalpha()][:6]
    return GeneratedRelease(
        slug="-".join([*slug_words, f"{index:05d}"]),
        time=time,
        kind=kind,
        office=rng.choice(offices),
        topics=tuple(sorted(rng.sample(topics, rng.randint(1, 3)))),
        status=status,
        corrections=corrections,
        event=event,
        contact_phone=f"+1 518 555 {rng.randint(100, 199):04d}",
        texts=texts,
    )


def _release_time(rng: random.Random) -> datetime:
    """Spread over a dozen years before NOW; 0.5% embargoed until years after it."""
    if rng.random() < 0.005:
        base = datetime(2030, 1, 1, tzinfo=ZONE)
        days = rng.randint(0, 700)
    else:
        base = FIRST_DAY
        days = rng.randint(0, (NOW - FIRST_DAY).days - 1)
    return (base + timedelta(days=days)).replace(hour=rng.randint(7, 19), minute=rng.choice(range(0, 60, 5)))


def _stamp(moment: datetime) -> str:
    return f"{moment:%Y-%m-%d %H:%M} {ZONE_NAME}"


# ---------------------------------------------------------------- newsroom tree


def write_newsroom(releases: list[GeneratedRelease], root: Path, toml: Path) -> None:
    """newsroom.toml (the given one) and releases/YYYY/YYYY-MM-DD-slug/{en,xx}.md."""
    root.mkdir(parents=True, exist_ok=True)
    shutil.copy(toml, root / "newsroom.toml")
    for release in releases:
        folder = root / "releases" / release.folder
        folder.mkdir(parents=True, exist_ok=True)
        original = _original_file(release).encode()
        (folder / "en.md").write_bytes(original)
        revision = hashlib.sha256(original).hexdigest()[:12]
        for language, text in release.texts.items():
            if language != "en":
                (folder / f"{language}.md").write_bytes(_translation_file(release, text, revision).encode())


def _yaml(value: str) -> str:
    """A YAML scalar: JSON strings are valid YAML and survive quotes, colons and every script."""
    return json.dumps(value, ensure_ascii=False)


def _original_file(release: GeneratedRelease) -> str:
    text = release.texts["en"]
    lines = [
        "---",
        f"title: {_yaml(text.title)}",
        f"subtitle: {_yaml(text.subtitle)}",
        f"kind: {release.kind}",
        f"release: {_stamp(release.time)}",
        f"dateline: {_yaml(text.dateline)}",
        f"office: {release.office}",
        f"topics: [{', '.join(release.topics)}]",
        f"summary: {_yaml(text.summary)}",
        f"sms: {_yaml(text.sms)}",
        f"status: {release.status}",
    ]
    if release.status == "withdrawn":
        lines.append('withdrawn_note: "This release was issued in error."')
    lines += [
        "contacts:",
        "  - name: Press Office",
        f"    email: press@{release.office}.example.gov",
        f'    phone: "{release.contact_phone}"',
    ]
    if release.corrections:
        lines.append("corrections:")
        for moment, note in zip(release.corrections, text.correction_notes, strict=True):
            lines += [f"  - date: {_stamp(moment)}", f"    note: {_yaml(note)}"]
    if release.event:
        start, end = release.event
        lines += [
            "event:",
            f"  start: {_stamp(start)}",
            f"  end: {_stamp(end)}",
            f"  place: {_yaml(text.event_place)}",
        ]
    return "\n".join([*lines, "---", _body_without_dateline(text)])


def _body_without_dateline(text: Text) -> str:
    """newsroom prints `dateline:` before the first paragraph; Pelican and Hugo, which have no such
    field, get it at the start of the body, so all three pages read alike."""
    return text.body.removeprefix(f"{text.dateline} — ")


def _translation_file(release: GeneratedRelease, text: Text, revision: str) -> str:
    lines = [
        "---",
        f'revision: "{revision}"',
        f"title: {_yaml(text.title)}",
        f"subtitle: {_yaml(text.subtitle)}",
        f"dateline: {_yaml(text.dateline)}",
        f"summary: {_yaml(text.summary)}",
        f"sms: {_yaml(text.sms)}",
    ]
    if text.correction_notes:
        lines.append("corrections:")
        lines += [f"  - note: {_yaml(note)}" for note in text.correction_notes]
    if text.event_place:
        lines += ["event:", f"  place: {_yaml(text.event_place)}"]
    return "\n".join([*lines, "---", _body_without_dateline(text)])


# ---------------------------------------------------------------- Pelican tree

PELICAN_CONF = """\
# Generated by bench/corpus.py: Pelican on the benchmark corpus, default theme, caches on.
AUTHOR = "Press Office"
SITENAME = {site_name}
SITEURL = ""
PATH = "content"
TIMEZONE = "{zone}"
DEFAULT_LANG = "en"
DEFAULT_DATE_FORMAT = "%Y-%m-%d %H:%M"
DEFAULT_PAGINATION = {page_size}
WITH_FUTURE_DATES = False  # embargo: future releases are drafts
ARTICLE_URL = "{{lang}}/releases/{{slug}}/"
ARTICLE_SAVE_AS = "{{lang}}/releases/{{slug}}/index.html"
ARTICLE_LANG_URL = "{{lang}}/releases/{{slug}}/"
ARTICLE_LANG_SAVE_AS = "{{lang}}/releases/{{slug}}/index.html"
DRAFT_LANG_SAVE_AS = DRAFT_SAVE_AS = ""
FEED_ALL_ATOM = "feeds/all.atom.xml"
CATEGORY_FEED_ATOM = "feeds/{{slug}}.atom.xml"
TRANSLATION_FEED_ATOM = "feeds/all-{{lang}}.atom.xml"
FEED_MAX_ITEMS = {feed_items}
RELATIVE_URLS = True
CACHE_CONTENT = True
LOAD_CONTENT_CACHE = True
CACHE_PATH = "cache"
"""


def write_pelican(releases: list[GeneratedRelease], root: Path, settings: Settings) -> None:
    """pelicanconf.py and content/YYYY/slug.LANG.md; translations share the Slug with their own Lang."""
    root.mkdir(parents=True, exist_ok=True)
    conf = PELICAN_CONF.format(
        site_name=repr(settings.site.name), zone=ZONE_NAME, page_size=PELICAN_PAGE_SIZE, feed_items=FEED_ITEMS
    )
    (root / "pelicanconf.py").write_text(conf, encoding="utf-8")
    for release in releases:
        folder = root / "content" / f"{release.time:%Y}"
        folder.mkdir(parents=True, exist_ok=True)
        for language, text in release.texts.items():
            document = _pelican_file(release, text, settings)
            (folder / f"{release.slug}.{language}.md").write_text(document, encoding="utf-8")


def _pelican_file(release: GeneratedRelease, text: Text, settings: Settings) -> str:
    language = text.language
    status = "draft" if release.status == "draft" else "published"
    lines = [
        f"Title: {text.title}",
        f"Date: {release.time:%Y-%m-%d %H:%M}",
        f"Category: {settings.office_label(release.office, language)}",
        f"Tags: {', '.join(settings.topic_label(t, language) for t in release.topics)}",
        f"Slug: {release.slug}",
        f"Lang: {language}",
        f"Summary: {text.summary}",
        f"Status: {status}",
    ]
    if release.corrections:
        lines.append(f"Modified: {release.corrections[-1]:%Y-%m-%d %H:%M}")
    if language != "en":
        lines.append("Translation: true")
    return "\n".join(lines) + "\n\n" + _peer_body(release, text)


def _peer_body(release: GeneratedRelease, text: Text) -> str:
    """What the peers render as the body: the withdrawal notice, or the subtitle and the body."""
    if release.status == "withdrawn":
        return "This release was issued in error.\n"
    return f"*{text.subtitle}*\n\n{text.body}"


# ---------------------------------------------------------------- Hugo tree


def write_hugo(releases: list[GeneratedRelease], root: Path, settings: Settings) -> None:
    """hugo.toml (every newsroom language), minimal layouts, content/releases/slug/index.LANG.md bundles."""
    root.mkdir(parents=True, exist_ok=True)
    (root / "hugo.toml").write_text(_hugo_config(settings), encoding="utf-8")
    shutil.copytree(HUGO_LAYOUTS, root / "layouts")
    for release in releases:
        bundle = root / "content" / "releases" / release.slug
        bundle.mkdir(parents=True, exist_ok=True)
        for language, text in release.texts.items():
            (bundle / f"index.{language}.md").write_text(_hugo_file(release, text), encoding="utf-8")


def _hugo_config(settings: Settings) -> str:
    lines = [
        f'baseURL = "{settings.site.base_url}/"',
        f'title = "{settings.site.name}"',
        'defaultContentLanguage = "en"',
        "defaultContentLanguageInSubdir = true",
        f'timeZone = "{ZONE_NAME}"',
        "[pagination]",
        f"pagerSize = {HUGO_PAGE_SIZE}",
        "[services.rss]",
        f"limit = {FEED_ITEMS}",
        "[taxonomies]",
        'topic = "topics"',
        'office = "offices"',
    ]
    for weight, language in enumerate(settings.languages, start=1):
        lines += [
            f"[languages.{language.code}]",
            f"weight = {weight}",
            f'label = "{language.name}"',
            f'locale = "{language.code}"',
            f'direction = "{language.dir}"',
            f"title = {_yaml(settings.site_name(language.code))}",
        ]
    return "\n".join(lines) + "\n"


def _hugo_file(release: GeneratedRelease, text: Text) -> str:
    lines = [
        "---",
        f"title: {_yaml(text.title)}",
        f"subtitle: {_yaml(text.subtitle)}",
        f"date: {release.time.isoformat()}",
        f"summary: {_yaml(text.summary)}",
        f"kind: {release.kind}",
        f"draft: {'true' if release.status == 'draft' else 'false'}",
        f"offices: [{release.office}]",
        f"topics: [{', '.join(release.topics)}]",
    ]
    if release.corrections:
        lines.append(f"lastmod: {release.corrections[-1].isoformat()}")
    return "\n".join([*lines, "---", _peer_body(release, text)])


# ---------------------------------------------------------------- all three


def write_corpus(count: int, out: Path, seed: int = 2024, toml: Path = REPO / "newsroom.toml") -> Corpus:
    """Write the three trees under `out` (replacing what was there)."""
    if out.exists():
        shutil.rmtree(out)
    settings = load_settings(toml.parent, environ={})
    releases = generate_releases(count, settings, seed)
    corpus = Corpus(count, out / "newsroom", out / "pelican", out / "hugo", tuple(releases))
    write_newsroom(releases, corpus.newsroom, toml)
    write_pelican(releases, corpus.pelican, settings)
    write_hugo(releases, corpus.hugo, settings)
    return corpus


def main() -> None:
    parser = argparse.ArgumentParser(description="Write the benchmark corpus (newsroom, Pelican, Hugo).")
    parser.add_argument("--count", type=int, default=1000)
    parser.add_argument("--seed", type=int, default=2024)
    parser.add_argument("--out", type=Path, default=REPO / "bench" / "out" / "corpus")
    args = parser.parse_args()
    corpus = write_corpus(args.count, args.out, args.seed)
    print(f"{corpus.count} releases ({corpus.markdown_files} Markdown files per tool) under {args.out}")


if __name__ == "__main__":
    main()
