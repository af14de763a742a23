"""Site settings: `newsroom.toml`, validated into one frozen model; secrets only from the environment."""

from __future__ import annotations

import os
import re
import tomllib
from datetime import time
from functools import cached_property
from pathlib import Path
from typing import Annotated, Literal
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from pydantic import (
    AfterValidator,
    BaseModel,
    ConfigDict,
    Field,
    ValidationError,
    field_validator,
    model_validator,
)

from newsroom.content.scan import CONFIG_NAME as CONFIG_NAME
from newsroom.content.scan import newsroom_root
from newsroom.diagnostics import Diagnostic, Severity
from newsroom.errors import ConfigError

DEV_SECRET = "development-only-secret-do-not-use"

# Environment variables that override a setting (secrets are never in the file at all).
ENV_OVERRIDES = {
    "NEWSROOM_BASE_URL": ("site", "base_url"),
    "NEWSROOM_DATABASE_URL": ("database", "url"),
    "NEWSROOM_EMAIL_TRANSPORT": ("delivery", "email_transport"),
    "NEWSROOM_SMS_TRANSPORT": ("delivery", "sms_transport"),
    "NEWSROOM_DKIM_SELECTOR": ("email", "dkim_selector"),
    "NEWSROOM_DKIM_DOMAIN": ("email", "dkim_domain"),
}


class Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


def _check_zone(name: str) -> str:
    try:
        ZoneInfo(name)
    except (ZoneInfoNotFoundError, ValueError) as exc:
        raise ValueError(f"unknown time zone {name!r}; use an IANA name like America/New_York") from exc
    return name


ZoneName = Annotated[str, AfterValidator(_check_zone)]
Identifier = Annotated[str, Field(pattern=r"^[a-z0-9][a-z0-9-]*$")]


class Language(Strict):
    """A language the newsroom publishes in."""

    code: Identifier
    name: str
    dir: Literal["ltr", "rtl"] = "ltr"
    locale: str = ""  # Babel locale for dates and numbers; defaults to the code

    @property
    def babel_locale(self) -> str:
        return self.locale or {"zh": "zh_Hans_CN"}.get(self.code, self.code)


class Labels(BaseModel):
    """A label per language code, e.g. a topic's or office's name."""

    model_config = ConfigDict(extra="allow", frozen=True)

    def get(self, language: str, default_language: str) -> str:
        labels: dict[str, str] = self.model_extra or {}
        return labels.get(language) or labels[default_language]

    def languages(self) -> set[str]:
        return set(self.model_extra or {})


class SiteSection(Strict):
    name: str
    names: dict[str, str] = {}
    base_url: Annotated[str, Field(pattern=r"^https?://[^/\s]+(/\S*)?$")]
    default_language: str = "en"
    time_zone: ZoneName = "UTC"
    logo: str = ""  # a file under the newsroom root, used on PDFs and pages

    @field_validator("base_url")
    @classmethod
    def _strip_slash(cls, value: str) -> str:
        return value.rstrip("/")


class EmailSection(Strict):
    sender: str
    reply_to: str = ""
    postal_address: str
    # alerts for a release missing the subscriber's language: send the original at once ("fallback")
    # or wait up to `translation_wait_hours` for a translation ("wait")
    translation_policy: Literal["fallback", "wait"] = "fallback"
    translation_wait_hours: float = 2.0
    # `newsroom notify` alerts releases that became public at most this long ago: the first run
    # against an existing archive does not mail out the whole archive (digests still cover them)
    alert_max_age_hours: float = Field(default=24.0, gt=0)
    # the mailto in List-Unsubscribe; default unsubscribe@<the sender's domain>
    unsubscribe_address: str = ""
    # DKIM signing when NEWSROOM_DKIM_KEY_FILE (a PEM private key) is set; domain defaults to the sender's
    dkim_selector: str = ""
    dkim_domain: str = ""


def _parse_clock(value: str) -> time:
    if not re.fullmatch(r"\d{2}:\d{2}", value):
        raise ValueError(f"{value!r} is not a time of day; write HH:MM, e.g. 21:00")
    return time.fromisoformat(value)


class SmsSection(Strict):
    short_code: str
    keyword: str = "NEWS"
    segment_budget: int = Field(default=2, ge=1, le=10)
    quiet_hours: tuple[str, str] | None = None  # ("21:00", "08:00") in the site's time zone
    program_name: str = ""
    help_contact: str = ""

    @field_validator("quiet_hours")
    @classmethod
    def _clock(cls, value: tuple[str, str] | None) -> tuple[str, str] | None:
        if value is not None:
            for clock in value:
                _parse_clock(clock)
        return value


class SmtpSection(Strict):
    host: str = "127.0.0.1"
    port: int = 25
    security: Literal["none", "starttls", "tls"] = "none"
    username: str = ""  # the password comes from NEWSROOM_SMTP_PASSWORD
    timeout: float = 30.0


class KannelSection(Strict):
    sendsms_url: str = "http://127.0.0.1:13013/cgi-bin/sendsms"
    username: str = "newsroom"  # the password comes from NEWSROOM_KANNEL_PASSWORD
    messages_per_second: float = 10.0


class DeliverySection(Strict):
    email_transport: Literal["outbox", "smtp"] = "outbox"
    sms_transport: Literal["outbox", "kannel"] = "outbox"
    outbox_dir: str = "outbox"
    batch_size: int = Field(default=500, ge=1)
    max_attempts: int = Field(default=6, ge=1)
    smtp: SmtpSection = SmtpSection()
    kannel: KannelSection = KannelSection()


class DatabaseSection(Strict):
    url: str = "sqlite:///var/newsroom.db"


class SettingsFile(Strict):
    """The shape of newsroom.toml."""

    site: SiteSection
    languages: list[Language] = Field(min_length=1)
    topics: dict[Identifier, Labels] = Field(min_length=1)
    offices: dict[Identifier, Labels] = Field(min_length=1)
    email: EmailSection
    sms: SmsSection
    delivery: DeliverySection = DeliverySection()
    database: DatabaseSection = DatabaseSection()

    @model_validator(mode="after")
    def _consistent(self) -> SettingsFile:
        codes = [lang.code for lang in self.languages]
        if len(set(codes)) != len(codes):
            raise ValueError(f"languages: a language code is listed twice: {codes}")
        if self.site.default_language not in codes:
            raise ValueError(
                f"site.default_language {self.site.default_language!r} is not in languages {codes}"
            )
        for kind, table in (("topics", self.topics), ("offices", self.offices)):
            for key, labels in table.items():
                if self.site.default_language not in labels.languages():
                    raise ValueError(
                        f"{kind}.{key}: needs a label in the default language {self.site.default_language!r}"
                    )
                unknown = labels.languages() - set(codes)
                if unknown:
                    raise ValueError(f"{kind}.{key}: labels for unknown languages {sorted(unknown)}")
        return self


class Settings:
    """The validated settings plus where things live on disk. Pass it explicitly; never a global."""

    def __init__(self, root: Path, file: SettingsFile) -> None:
        self.root = root
        self.file = file
        self.site = file.site
        self.languages = file.languages
        self.topics = file.topics
        self.offices = file.offices
        self.email = file.email
        self.sms = file.sms
        self.delivery = file.delivery

    @cached_property
    def zone(self) -> ZoneInfo:
        return ZoneInfo(self.site.time_zone)

    @cached_property
    def language_codes(self) -> list[str]:
        return [lang.code for lang in self.languages]

    def language(self, code: str) -> Language:
        for lang in self.languages:
            if lang.code == code:
                return lang
        raise KeyError(code)

    def site_name(self, language: str) -> str:
        return self.site.names.get(language, self.site.name)

    def topic_label(self, topic: str, language: str) -> str:
        return self.topics[topic].get(language, self.site.default_language)

    def office_label(self, office: str, language: str) -> str:
        return self.offices[office].get(language, self.site.default_language)

    @property
    def releases_dir(self) -> Path:
        return self.root / "releases"

    @property
    def site_dir(self) -> Path:
        return self.root / "site"

    @property
    def var_dir(self) -> Path:
        return self.root / "var"

    @property
    def outbox_dir(self) -> Path:
        return self.root / self.delivery.outbox_dir

    @property
    def database_url(self) -> str:
        """The database URL, with a relative SQLite path taken relative to the newsroom root."""
        url = self.file.database.url
        prefix = "sqlite:///"
        if url.startswith(prefix) and not url.startswith(prefix + "/") and url != "sqlite:///:memory:":
            return prefix + str(self.root / url[len(prefix) :])
        return url


def secret(name: str, default: str = "") -> str:
    """A secret from the environment (NEWSROOM_<NAME>); never read from newsroom.toml."""
    return os.environ.get(f"NEWSROOM_{name.upper()}", default)


def find_root(start: Path) -> Path:
    """The directory holding newsroom.toml: `start` or one of its parents."""
    root = newsroom_root(start)
    if root is None:
        where = start.resolve()
        raise ConfigError(
            f"no {CONFIG_NAME} in {where} or its parents (fix: run inside a newsroom or pass --root DIR)"
        )
    return root


def load_settings(root: Path, environ: dict[str, str] | None = None) -> Settings:
    """Read and validate newsroom.toml under `root`; every problem is reported at once."""
    settings, problems = read_settings(root, environ)
    if settings is None:
        raise ConfigError("\n".join(p.format() for p in problems))
    return settings


def read_settings(
    root: Path, environ: dict[str, str] | None = None
) -> tuple[Settings | None, list[Diagnostic]]:
    """Validate newsroom.toml: the settings, or None and every problem found."""
    path = root / CONFIG_NAME
    try:
        text = path.read_text(encoding="utf-8")
        data = tomllib.loads(text)
    except FileNotFoundError:
        hint = "run `newsroom` where newsroom.toml is, or pass --root"
        return None, [_problem(CONFIG_NAME, 1, "file not found", hint)]
    except UnicodeDecodeError:
        return None, [_problem(CONFIG_NAME, 1, "file is not UTF-8", "save it as UTF-8")]
    except tomllib.TOMLDecodeError as exc:
        line = int(m.group(1)) if (m := re.search(r"line (\d+)", str(exc))) else 1
        return None, [_problem(CONFIG_NAME, line, f"invalid TOML: {exc}", "check quoting and brackets")]
    _apply_env(data, os.environ if environ is None else environ)
    try:
        file = SettingsFile.model_validate(data)
    except ValidationError as exc:
        return None, [
            _problem(
                CONFIG_NAME,
                _toml_line(text, [str(p) for p in err["loc"]]),
                f"{'.'.join(str(p) for p in err['loc']) or 'settings'}: "
                + str(err["msg"]).removeprefix("Value error, "),
                "see the comments in the sample newsroom.toml",
            )
            for err in exc.errors()
        ]
    return Settings(root, file), []


def _problem(path: str, line: int, message: str, hint: str) -> Diagnostic:
    return Diagnostic(path, line, Severity.ERROR, message, hint)


def _apply_env(data: dict[str, object], environ: dict[str, str] | os._Environ[str]) -> None:
    for variable, (section, key) in ENV_OVERRIDES.items():
        if environ.get(variable):
            table = data.setdefault(section, {})
            if isinstance(table, dict):
                table[key] = environ[variable]


def _toml_line(text: str, loc: list[str]) -> int:
    """Best-effort line of the deepest key in `loc` (tomllib keeps no positions)."""
    line = 1
    lines = text.splitlines()
    for key in loc:
        if key.isdigit():
            continue
        pattern = re.compile(rf"^\s*(\[+[^\]]*\b{re.escape(key)}\b[^\]]*\]+|\"?{re.escape(key)}\"?\s*=)")
        for number in range(line - 1, len(lines)):
            if pattern.search(lines[number]):
                line = number + 1
                break
    return line
