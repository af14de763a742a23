"""Editorial checks: problems that do not stop publishing but that an editor should see."""

from __future__ import annotations

from collections.abc import Mapping
from pathlib import Path
from typing import TYPE_CHECKING, Protocol

from newsroom.content.body import scan_body
from newsroom.content.segments import count_segments
from newsroom.content.sms import assemble, clean_text, opt_out_line, placeholder_link

if TYPE_CHECKING:
    from newsroom.config import Settings
    from newsroom.content.models import Release

HEADLINE_LIMIT = 100


class Reporter(Protocol):
    def warning(self, path: Path, line: int, message: str, hint: str = "") -> None: ...


# The file line of each front matter key, per file: what the loader's parse gave (a release keeps no
# lines, so the cache need not hold them: they were a third of the time it took to load it)
FileLines = Mapping[Path, Mapping[tuple[str | int, ...], int]]


def _line(lines: FileLines, path: Path, *location: str | int) -> int:
    return lines.get(path, {}).get(location, 1)


def sms_preview(text: str, language: str, settings: Settings) -> str:
    """The alert as it will be sent to `language` subscribers: same length, same opt-out line."""
    return assemble(clean_text(text), placeholder_link(settings.site.base_url), opt_out_line(language))


def editorial_warnings(release: Release, lines: FileLines, settings: Settings, report: Reporter) -> None:
    if not release.meta.summary:
        report.warning(release.path, 1, "missing summary", "add `summary:` with one or two plain sentences")
    for language in release.languages:
        source = release.source(language)
        path = source.path  # made anew on each use
        text = release.localized(language)
        if len(text.title) > HEADLINE_LIMIT:
            report.warning(
                path, _line(lines, path, "title"),
                f"headline is {len(text.title)} characters, over {HEADLINE_LIMIT}",
                "shorten it; put detail in `subtitle:`",
            )  # fmt: skip
        if any("TODO" in field for field in (text.title, text.summary, text.body)):
            report.warning(
                path, _line(lines, path, "title"),
                "placeholder text (TODO) is still in this file",
                "replace every TODO with the real text",
            )  # fmt: skip
        # A translation without its own SMS text sends the original's with its own opt-out line: warn
        # there only when that line (UCS-2 for ru/zh/ar) breaks a budget the original keeps.
        own_text = source is release or source.meta.sms or not release.meta.sms
        if own_text or _fits(release.meta.sms, release.language, settings):
            sms_line = lines.get(path, {}).get(("sms",)) or _line(lines, path, "title")
            _check_sms(text.sms or text.title, language, path, sms_line, settings, report)
        _check_dateline(text.dateline, text.body, path, source.body_line, report)
        for body_line in scan_body(text.body).html_lines:
            report.warning(
                path, source.body_line + body_line, "raw HTML in the body will be removed",
                "write it in Markdown instead",
            )  # fmt: skip
    for language in release.stale_translations():
        translation = release.translations[language]
        report.warning(
            translation.path, _line(lines, translation.path, "revision"),
            f"stale translation: made from revision {translation.revision}, the original is now "
            f"at {release.revision}",
            f"update the text from {release.path.name}, then set `revision: {release.revision}`",
        )  # fmt: skip


def _check_dateline(dateline: str, body: str, path: Path, body_line: int, report: Reporter) -> None:
    """Pages, feeds, PDFs and emails put `dateline:` before the first paragraph: a body that starts
    with it too would read 'ALBANY, N.Y. — ALBANY, N.Y. — ...'. Only a dateline as the wire writes
    it counts, followed by a dash or a date in brackets: 'Albany County announced' does not."""
    start = body.lstrip()
    if not dateline or not start.startswith(dateline):
        return
    if start[len(dateline) :].lstrip()[:1] not in ("—", "–", "-", "("):
        return
    first = body_line + body[: len(body) - len(start)].count("\n")
    report.warning(
        path, first, f"the body starts with the dateline {dateline!r}, which is printed from `dateline:` too",
        f"remove {dateline!r} from the start of the body, or remove the `dateline:` field",
    )  # fmt: skip


def _fits(text: str, language: str, settings: Settings) -> bool:
    return count_segments(sms_preview(text, language, settings)).segments <= settings.sms.segment_budget


def _check_sms(text: str, language: str, path: Path, line: int, settings: Settings, report: Reporter) -> None:
    count = count_segments(sms_preview(text, language, settings))
    budget = settings.sms.segment_budget
    if count.segments > budget:
        report.warning(
            path, line,
            f"SMS alert needs {count.segments} {count.encoding} segments, over the budget of {budget}",
            "shorten `sms:`, or alerts are cut at a word with '...' (Cyrillic, Arabic and Chinese "
            "fit 67 characters per segment, with the link and opt-out line included)",
        )  # fmt: skip
