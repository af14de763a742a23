"""Typed release models: the front matter of originals and translations, and the loaded Newsroom."""

from __future__ import annotations

import functools
import hashlib
import pickle
from collections.abc import Callable, Iterator, Mapping
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import TYPE_CHECKING, Annotated, Any, Literal

from pydantic import BaseModel, BeforeValidator, ConfigDict, Field, field_validator, model_validator

from newsroom.content.sms import short_code_bytes
from newsroom.content.times import parse_zoned
from newsroom.keys import fast_key

if TYPE_CHECKING:
    from newsroom.config import Settings
    from newsroom.diagnostics import Diagnostic

ZonedDateTime = Annotated[datetime, BeforeValidator(parse_zoned)]
Text = Annotated[str, Field(min_length=1)]
Kind = Literal["press-release", "media-advisory", "statement"]
Status = Literal["draft", "published", "withdrawn"]


class Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True, str_strip_whitespace=True)


class Contact(Strict):
    name: Text
    email: str = ""
    phone: str = ""
    role: str = ""

    @field_validator("email")
    @classmethod
    def _email(cls, value: str) -> str:
        if value and (problem := _email_problem(value)) is not None:
            raise ValueError(f"invalid email address {value!r}: {problem}")
        return value

    @field_validator("phone", mode="before")
    @classmethod
    def _phone(cls, value: object) -> object:
        if isinstance(value, int):
            raise ValueError('write the phone number in quotes, e.g. "+1 518 555 0142"')
        if isinstance(value, str) and value and (problem := _phone_problem(value)) is not None:
            raise ValueError(f"invalid phone number {value!r}: {problem}")
        return value


# A newsroom has a few press contacts, repeated on thousands of releases: check each once per process
# (validate_email was a quarter of the time of loading 1,000 releases).
# email_validator and phonenumbers are imported when a file is checked, not when a rebuild starts;
# and a rebuild that reads a few changed files does not check again the contacts that releases from
# the release cache already have (see accept_contacts): importing the two took 60 ms of 0.9 s.
_ACCEPTED: dict[str, set[str]] = {"email": set(), "phone": set()}
_UNSEEN: Iterator[Release] = iter(())  # releases whose contacts are valid, not yet looked at


def accept_contacts(releases: list[Release]) -> None:
    """Take the contacts of these releases (loaded by this code: they passed these checks) as valid.
    They are looked through only as far as a value being checked needs, newest first: the contacts
    of an edited release are most often those of the latest ones (all 10,000 took 25 ms)."""
    global _UNSEEN
    _UNSEEN = reversed(releases)


def _accepted(kind: str, value: str) -> bool:
    known = _ACCEPTED[kind]
    if value in known:
        return True
    for release in _UNSEEN:
        for contact in release.meta.contacts:
            _ACCEPTED["email"].add(contact.email)
            _ACCEPTED["phone"].add(contact.phone)
        if value in known:
            return True
    return False


@functools.lru_cache(maxsize=4096)
def _email_problem(value: str) -> str | None:
    if _accepted("email", value):
        return None
    from email_validator import EmailNotValidError, validate_email

    try:
        validate_email(value, check_deliverability=False)
    except EmailNotValidError as exc:
        return str(exc)
    return None


@functools.lru_cache(maxsize=4096)
def _phone_problem(value: str) -> str | None:
    if _accepted("phone", value):
        return None
    import phonenumbers

    try:
        number = phonenumbers.parse(value, "US")
    except phonenumbers.NumberParseException as exc:
        return str(exc)
    return None if phonenumbers.is_possible_number(number) else "wrong number of digits"


class Image(Strict):
    src: Text
    alt: str = Field(min_length=1, description="describes the image for people who cannot see it")
    caption: str = ""
    credit: str = ""


class Attachment(Strict):
    src: Text
    title: Text


class Correction(Strict):
    date: ZonedDateTime
    note: Text
    realert: bool = False


class Event(Strict):
    start: ZonedDateTime
    end: ZonedDateTime | None = None
    place: Text
    address: str = ""

    @model_validator(mode="after")
    def _ordered(self) -> Event:
        if self.end is not None and self.end < self.start:
            raise ValueError("event end is before its start")
        return self


class OriginalMeta(Strict):
    """Front matter of the original language version: all the metadata."""

    title: Text
    subtitle: str = ""
    kind: Kind
    release: ZonedDateTime
    dateline: str = ""
    office: Text
    topics: list[Text] = Field(min_length=1)
    summary: str = ""
    sms: str = ""
    urgent: bool = False
    status: Status = "published"
    withdrawn_note: str = ""
    slug: Annotated[str, Field(pattern=r"^[a-z0-9][a-z0-9-]*$")] | None = None
    contacts: list[Contact] = []
    images: list[Image] = []
    attachments: list[Attachment] = []
    corrections: list[Correction] = []
    event: Event | None = None

    @model_validator(mode="after")
    def _event_matches_kind(self) -> OriginalMeta:
        if self.kind == "media-advisory" and self.event is None:
            raise ValueError("a media advisory needs an event: with start and place")
        if self.kind != "media-advisory" and self.event is not None:
            raise ValueError("only a media advisory has an event; set kind: media-advisory")
        return self


class ImageText(Strict):
    alt: str = ""
    caption: str = ""


class CorrectionText(Strict):
    note: str = ""


class EventText(Strict):
    place: str = ""


class TranslationMeta(Strict):
    """Front matter of a translation: translated text and the original's revision it translates."""

    revision: Annotated[str, Field(pattern=r"^[0-9a-f]{12}$")]
    title: Text
    subtitle: str = ""
    dateline: str = ""
    summary: str = ""
    sms: str = ""
    images: list[ImageText] = []
    corrections: list[CorrectionText] = []
    event: EventText | None = None


@dataclass(frozen=True)
class Translation:
    language: str
    meta: TranslationMeta
    body: str
    folder: Path  # the release's folder; the file is <language>.md in it
    body_line: int = 1
    digest: str = ""  # a hash of the file's bytes: all the text is made of (see render.base)

    @property
    def path(self) -> Path:
        # worked out, not kept: 16,000 fewer paths to unpickle from the release cache at 10,000
        return self.folder / f"{self.language}.md"

    @property
    def revision(self) -> str:
        return self.meta.revision

    if not TYPE_CHECKING:  # at run time only: type checkers keep seeing the fields the cache leaves out

        def __getattr__(self, name: str) -> object:
            return _missing(self, name, lambda data: hashlib.sha256(data).hexdigest()[:24] == self.digest)


@dataclass(frozen=True)
class Localized:
    """A release's text in one language, falling back field by field to the original."""

    language: str  # the language the text is in
    requested: str  # the language the reader asked for
    title: str
    subtitle: str
    dateline: str
    summary: str
    sms: str
    body: str
    images: tuple[Image, ...]
    corrections: tuple[Correction, ...]
    event: Event | None

    @property
    def is_fallback(self) -> bool:
        """True when the reader's language is missing and this is the original instead."""
        return self.language != self.requested


@dataclass(frozen=True)
class Release:
    """One release folder: the original, its translations, its assets."""

    slug: str
    folder: Path
    language: str  # the original's language
    meta: OriginalMeta
    body: str
    revision: str
    translations: dict[str, Translation] = field(default_factory=dict)
    body_line: int = 1
    body_images: bool = False  # a body (the original's or a translation's) has Markdown images
    fingerprint: str = ""  # what its outputs are made of (see fingerprint_of): kept in the release cache
    # What the gate, listings, feeds and sitemaps read of every release, copied out of `meta`: the
    # release cache restores `meta` only when something asks for it (see _missing), and a
    # rebuild asks for it of the few releases it renders, not of all 10,000 it keys.
    status: Status = field(init=False)
    kind: Kind = field(init=False)
    office: str = field(init=False)
    topics: tuple[str, ...] = field(init=False)
    release_time: datetime = field(init=False)  # in UTC
    updated_time: datetime = field(init=False)  # the release time, or the latest correction's if later
    # shows files from its folder: images or attachments in its front matter, or images in a body
    # (most releases have none, and their units need not look at the disk)
    names_files: bool = field(init=False)
    # its short links' codes (content.sms.short_code_bytes), in `languages` order: every build checks
    # that the 16,000 codes of 10,000 releases differ, and hashing them all again took 70 ms
    short_codes: tuple[bytes, ...] = field(init=False)

    def __post_init__(self) -> None:
        meta, put = self.meta, functools.partial(object.__setattr__, self)  # frozen: no __setattr__
        put("status", meta.status)
        put("kind", meta.kind)
        put("office", meta.office)
        put("topics", tuple(dict.fromkeys(meta.topics)))  # each once: a topic listed twice counts once
        put("release_time", meta.release.astimezone(UTC))
        put("updated_time", max([self.release_time, *(c.date.astimezone(UTC) for c in meta.corrections)]))
        put("names_files", bool(meta.images or meta.attachments or self.body_images))
        put("short_codes", tuple(short_code_bytes(self.slug, language) for language in self.languages))

    if not TYPE_CHECKING:  # at run time only: type checkers keep seeing the fields the cache leaves out

        def __getattr__(self, name: str) -> object:
            return _missing(self, name, lambda data: hashlib.sha256(data).hexdigest()[:12] == self.revision)

    @property
    def path(self) -> Path:
        """The original's file: <language>.md in the folder (worked out, like a translation's)."""
        return self.folder / f"{self.language}.md"

    def source(self, language: str) -> Release | Translation:
        """The file holding `language`'s text (for diagnostics)."""
        return self if language == self.language else self.translations[language]

    @property
    def languages(self) -> list[str]:
        return [self.language, *sorted(self.translations)]

    def stale_translations(self) -> list[str]:
        return sorted(t.language for t in self.translations.values() if t.revision != self.revision)

    def missing_languages(self, settings: Settings) -> list[str]:
        return [code for code in settings.language_codes if code not in self.languages]

    def headline(self, language: str) -> tuple[str, str, str]:
        """(the text's language, title, summary) as a reader of `language` gets them, like `localized`:
        what a listing shows of each release, without making the rest."""
        translation = self.translations.get(language)
        if translation is None:
            return self.language, self.meta.title, self.meta.summary
        return language, translation.meta.title, translation.meta.summary or self.meta.summary

    def localized(self, language: str) -> Localized:
        """The release as a reader of `language` gets it: the translation, else the original."""
        meta = self.meta
        translation = self.translations.get(language)
        if translation is None:
            return Localized(
                self.language, language, meta.title, meta.subtitle, meta.dateline, meta.summary,
                meta.sms, self.body, tuple(meta.images), tuple(meta.corrections), meta.event,
            )  # fmt: skip
        text = translation.meta
        images = tuple(
            image.model_copy(update=_nonempty(text.images[i])) if i < len(text.images) else image
            for i, image in enumerate(meta.images)
        )
        corrections = tuple(
            fix.model_copy(update=_nonempty(text.corrections[i])) if i < len(text.corrections) else fix
            for i, fix in enumerate(meta.corrections)
        )
        event = meta.event
        if event is not None and text.event is not None and text.event.place:
            event = event.model_copy(update={"place": text.event.place})
        return Localized(
            language, language, text.title, text.subtitle or meta.subtitle,
            text.dateline or meta.dateline, text.summary or meta.summary, text.sms or meta.sms,
            translation.body, images, corrections, event,
        )  # fmt: skip


@functools.cache
def content_code() -> str:
    """A hash of this package's code: what a release is made of its files follows from it."""
    files = sorted(Path(__file__).parent.glob("*.py"))
    return fast_key(*(hashlib.sha256(path.read_bytes()).hexdigest() for path in files))


def fingerprint_of(revision: str, translations: Mapping[str, Translation]) -> str:
    """Everything a release's outputs read: the original file (its revision holds status and all
    metadata), each translation's file (its digest) and the code that loaded them."""
    digests = (translations[language].digest for language in sorted(translations))
    return fast_key(content_code(), revision, *digests)


def _missing_body(text: Release | Translation, name: str, same_file: Callable[[bytes], bool]) -> str:
    """The body of a release or translation from the release cache, which leaves bodies out (they
    were 85% of it, and a rebuild needs a few): read again from its file, which must be the file it
    was loaded from. Called for any attribute the object lacks; only `body` may be missing."""
    if name != "body":
        raise AttributeError(f"{type(text).__name__!r} object has no attribute {name!r}")
    from newsroom.content.frontmatter import body_of, decode
    from newsroom.errors import ContentError

    try:
        data = text.path.read_bytes()
    except OSError as exc:
        raise ContentError(
            f"{text.path}: {exc.strerror} while the site was being built (fix: build again)"
        ) from exc
    if not same_file(data):
        raise ContentError(f"{text.path}: changed while the site was being built (fix: build again)")
    body = body_of(decode(data))
    object.__setattr__(text, "body", body)
    return body


def packed_meta(text: Release | Translation) -> bytes:
    """The text's front matter, pickled: how the release cache keeps it (see _missing)."""
    packed = text.__dict__.get(PACKED_META)
    return packed if packed is not None else pickle.dumps(text.meta, pickle.HIGHEST_PROTOCOL)


PACKED_META = "_packed_meta"  # in the __dict__ of a release or translation from the release cache


def _missing(text: Release | Translation, name: str, same_file: Callable[[bytes], bool]) -> object:
    """What the release cache leaves out of a release or translation, made again when asked for:
    its front matter (kept pickled: unpickling 10,000 releases' pydantic models was most of a
    rebuild's load, where it renders a few; the fields every release is keyed by are copied out, see
    Release), its folder's Path (kept as a string: making 11,000 Paths was a tenth of loading the
    cache), its body (read again from its file, which `same_file` checks)."""
    if name == "meta":
        return _restore(text, "meta", PACKED_META, pickle.loads)
    if name == "folder":
        return _restore(text, "folder", FOLDER_TEXT, Path)
    return _missing_body(text, name, same_file)


def folder_text(text: Release | Translation) -> str:
    """The text's folder as a string: how the release cache keeps it (see _missing)."""
    kept = text.__dict__.get(FOLDER_TEXT)
    return kept if kept is not None else str(text.folder)


FOLDER_TEXT = "_folder_text"  # in the __dict__ of a release or translation from the release cache


def _restore(
    text: Release | Translation, name: str, kept_under: str, make: Callable[[Any], object]
) -> object:
    """Attribute `name` of a release or translation from the release cache, made from what the
    cache kept under `kept_under` and set, so it is made once."""
    kept = text.__dict__.get(kept_under)
    if kept is None:
        raise AttributeError(f"{type(text).__name__!r} object has no attribute {name!r}")
    value = make(kept)
    object.__setattr__(text, name, value)
    return value


def _nonempty(model: BaseModel) -> dict[str, object]:
    return {key: value for key, value in model.model_dump().items() if value}


@dataclass(frozen=True)
class Newsroom:
    """Everything loaded from a newsroom folder: settings, valid releases, and the problems found."""

    settings: Settings
    releases: tuple[Release, ...]
    diagnostics: tuple[Diagnostic, ...] = ()

    def by_slug(self, slug: str) -> Release:
        for release in self.releases:
            if release.slug == slug:
                return release
        raise KeyError(slug)
