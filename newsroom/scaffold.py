"""`newsroom new`: a release folder with an original and translation stubs, ready to fill in.

The stubs are drafts with TODO markers: they load cleanly, `check` warns about every TODO left,
and nothing goes out until an editor sets `status: published`.
"""

from __future__ import annotations

import re
from datetime import datetime
from pathlib import Path

from newsroom.config import Settings
from newsroom.content.loader import revision_of
from newsroom.errors import ContentError

PLACEHOLDER = "TODO"


def original_text(
    settings: Settings, *, title: str, kind: str, release: datetime, office: str, topics: list[str]
) -> str:
    when = f"{release:%Y-%m-%d %H:%M} {settings.site.time_zone}"
    event = (
        f'event:\n  start: {when}\n  place: "{PLACEHOLDER}: room and building"\n'
        if kind == "media-advisory"
        else ""
    )
    return f"""---
title: {_quote(title)}
kind: {kind}
release: {when}
office: {office}
topics: [{", ".join(topics)}]
summary: "{PLACEHOLDER}: one or two plain-language sentences for listings and digests."
status: draft   # set to published when ready; it goes out at the release time
contacts:
  - name: Press Office
    email: press@example.gov
    phone: "+1 518 555 0100"
{event}---
{PLACEHOLDER}: the first paragraph says who, what, when, where and why in plain language.

"{PLACEHOLDER}: a quote," said {PLACEHOLDER}.
"""


def translation_text(language: str, title: str, revision: str) -> str:
    return f"""---
revision: {revision}
title: {_quote(f"{PLACEHOLDER} ({language}): {title}")}
summary: "{PLACEHOLDER} ({language}): translate the summary."
---
{PLACEHOLDER} ({language}): translate the body.
"""


def _quote(text: str) -> str:
    return '"' + text.replace("\\", "\\\\").replace('"', '\\"') + '"'


def scaffold_release(
    settings: Settings,
    *,
    slug: str,
    title: str,
    kind: str,
    release: datetime,
    office: str,
    topics: list[str],
    translations: list[str],
) -> list[Path]:
    """Create releases/YYYY/YYYY-MM-DD-slug/ with the original and translation stubs."""
    folder = settings.releases_dir / f"{release:%Y}" / f"{release:%Y-%m-%d}-{slug}"
    problems = _refusals(settings, slug, office, topics, translations)
    if folder.exists():
        problems.append(f"{folder} already exists (fix: choose another slug or date)")
    if problems:
        raise ContentError("\n".join(problems))
    original = folder / f"{settings.site.default_language}.md"
    folder.mkdir(parents=True)
    original.write_text(
        original_text(settings, title=title, kind=kind, release=release, office=office, topics=topics),
        encoding="utf-8",
    )
    revision = revision_of(original.read_bytes())
    written = [original]
    for code in translations:
        path = folder / f"{code}.md"
        path.write_text(translation_text(code, title, revision), encoding="utf-8")
        written.append(path)
    return written


def _refusals(
    settings: Settings, slug: str, office: str, topics: list[str], translations: list[str]
) -> list[str]:
    problems = []
    if not re.fullmatch(r"[a-z0-9][a-z0-9-]*", slug):
        problems.append(f"slug {slug!r}: use lowercase letters, digits and hyphens (fix: e.g. flu-clinics)")
    if office not in settings.offices:
        problems.append(f"office {office!r} is unknown (fix: one of {', '.join(settings.offices)})")
    problems += [
        f"topic {topic!r} is unknown (fix: one of {', '.join(settings.topics)})"
        for topic in topics
        if topic not in settings.topics
    ]
    others = [code for code in settings.language_codes if code != settings.site.default_language]
    problems += [
        f"language {code!r} cannot be a translation (fix: one of {', '.join(others)})"
        for code in translations
        if code not in others
    ]
    return problems
