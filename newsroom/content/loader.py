"""Load `releases/` into a Newsroom, collecting every problem with its file and line."""

from __future__ import annotations

import difflib
import hashlib
import os
import re
from collections import defaultdict
from collections.abc import Callable, Iterable
from pathlib import Path
from typing import Any, TypeVar, get_args, get_origin

from pydantic import BaseModel, ValidationError
from pydantic_core import ErrorDetails

from newsroom.config import Settings
from newsroom.content.body import is_local_asset, scan_body
from newsroom.content.checks import editorial_warnings
from newsroom.content.frontmatter import Document, FrontMatterError, decode, parse
from newsroom.content.memo import (
    FREEZE_FROM,
    SHARDS,
    Entry,
    FolderMemo,
    collector_paused,
    open_memo,
    read_shard,
    shard_bytes,
    shard_of,
)
from newsroom.content.models import (
    Newsroom,
    OriginalMeta,
    Release,
    Translation,
    TranslationMeta,
    accept_contacts,
    fingerprint_of,
)
from newsroom.content.scan import BackgroundScan, Folder, release_folders, take_early
from newsroom.content.times import TIME_HINT
from newsroom.diagnostics import Diagnostic, Severity, relative
from newsroom.forked import Tickets

FOLDER_NAME = re.compile(r"^(\d{4})-(\d{2})-(\d{2})-([a-z0-9][a-z0-9-]*)$")
FORMAT_DOC = "see docs/release-format.md"
M = TypeVar("M", bound=BaseModel)
Meanwhile = Callable[[bool], object]  # see load_newsroom


def revision_of(data: bytes) -> str:
    """The revision of an original: what a translation records to say which text it translates."""
    return hashlib.sha256(data).hexdigest()[:12]


class _Report:
    """Collects diagnostics with paths relative to the newsroom root."""

    def __init__(self, root: Path) -> None:
        self.root = root
        self.items: list[Diagnostic] = []

    def error(self, path: Path, line: int, message: str, hint: str = "") -> None:
        self.items.append(Diagnostic(relative(path, self.root), line, Severity.ERROR, message, hint))

    def warning(self, path: Path, line: int, message: str, hint: str = "") -> None:
        self.items.append(Diagnostic(relative(path, self.root), line, Severity.WARNING, message, hint))


def load_newsroom(
    settings: Settings,
    *,
    cache: Path | None = None,
    scan: Iterable[Folder] | None = None,
    meanwhile: Meanwhile | None = None,
) -> Newsroom:
    """Every release under releases/, validated; releases with errors are left out and reported.

    With `cache` (a file under var/), folders unchanged since the last load are not read again.
    `scan` is what `scan_releases` just found (`serve` polls with it), to save looking again.
    `meanwhile(cold)` is called where this process would only wait: with cold=False while forked
    children scan the folders (a rebuild), with cold=True while reader processes parse them (a cold
    load). A build prepares its renderers there.
    """
    report = _Report(settings.root)
    cached = cache is not None and cache.with_suffix(".d").is_dir()
    if scan is None and cache is not None:
        # the scan `newsroom build` started before its imports; else, with a cache, one started now
        scan = take_early(settings.releases_dir) or (
            BackgroundScan(settings.releases_dir) if cached else None
        )
    memo = open_memo(cache, settings) if cache else None
    if cached and isinstance(scan, BackgroundScan) and meanwhile is not None:
        meanwhile(False)  # a first load calls it while its readers parse instead
    folders = (
        list(scan)
        if scan is not None
        else release_folders(settings.releases_dir, signatures=memo is not None)
    )
    with collector_paused(freeze=len(folders) >= FREEZE_FROM):
        releases = _load_releases(folders, settings, memo, report, meanwhile)
    return Newsroom(settings, tuple(releases), tuple(sorted(set(report.items))))


def _load_releases(
    folders: list[Folder],
    settings: Settings,
    memo: FolderMemo | None,
    report: _Report,
    meanwhile: Meanwhile | None,
) -> list[Release]:
    loaded: dict[str, Loaded] = {}
    unread: list[Folder] = []
    for folder in folders:
        hit = memo.get(folder.path, folder.signature) if memo is not None else None
        if hit is None:
            unread.append(folder)
        else:
            loaded[folder.path] = hit[1], hit[2]
    if unread and len(unread) < PARALLEL_FROM:  # a few changed folders: see accept_contacts
        accept_contacts([release for release, _ in loaded.values() if release is not None])
    loaded.update(_read_folders(unread, settings, memo, meanwhile))
    releases: list[Release] = []
    for folder in folders:
        release, problems = loaded[folder.path]
        report.items.extend(problems)
        if release is not None:
            releases.append(release)
    if memo is not None:
        memo.keep_only({folder.path for folder in folders})
        memo.save()
    _check_unique_slugs(releases, report)
    releases.sort(key=lambda r: (r.release_time, r.slug), reverse=True)
    return releases


Loaded = tuple[Release | None, list[Diagnostic]]  # a folder's release (None if broken), its problems
# From this many folders to read (a cold build, a fresh checkout) they are read on every core:
# parsing is most of a cold load (3.9 s of YAML and validation at 10,000 releases).
PARALLEL_FROM = 400


def _read_folders(
    folders: list[Folder],
    settings: Settings,
    memo: FolderMemo | None,
    meanwhile: Meanwhile | None,
) -> dict[str, Loaded]:
    """Each folder read and checked (and put in the cache): on every core when there are many."""
    if len(folders) < PARALLEL_FROM or (os.cpu_count() or 1) < 2:
        loaded = {folder.path: _read_folder(folder, settings) for folder in folders}
        if memo is not None:
            for folder in folders:
                memo.put(folder.path, (folder.signature, *loaded[folder.path]))
        return loaded
    # one task per cache shard, shared by this process and forked children (see Tickets): a child
    # pickles the shard's folders once for the cache file and once for the way back here
    groups: list[list[Folder]] = [[] for _ in range(SHARDS)]
    for folder in folders:
        groups[shard_of(folder.path)].append(folder)
    shards = [index for index in range(SHARDS) if groups[index]]

    def read_here(number: int) -> dict[str, Entry]:
        entries = _read_group(groups[shards[number]], settings)
        _keep(memo, shards[number], entries)
        return entries

    def read_there(number: int) -> tuple[bytes, bool]:
        entries = _read_group(groups[shards[number]], settings)
        written = _keep(memo, shards[number], entries, adopt=False)
        return shard_bytes("", entries, bodies=True), written  # the bodies: this process renders them

    def sent_here(number: int, sent: tuple[bytes, bool]) -> dict[str, Entry]:
        data, written = sent
        entries = read_shard(data)
        if memo is not None:
            memo.adopt(shards[number], entries, written=written)
        return entries

    with Tickets(len(shards), read_there) as tickets:
        if meanwhile is not None:
            meanwhile(True)
        read = tickets.share(read_here, sent_here)
    return {
        path: (release, problems)
        for number in range(len(shards))
        for path, (_, release, problems) in read[number].items()
    }


def _read_group(folders: list[Folder], settings: Settings) -> dict[str, Entry]:
    return {folder.path: (folder.signature, *_read_folder(folder, settings)) for folder in folders}


def _keep(memo: FolderMemo | None, shard: int, entries: dict[str, Entry], *, adopt: bool = True) -> bool:
    """Write the cache's shard file when it held nothing before (a cold load); else the entries are
    merged into it when the memo is saved. True if the file was written."""
    if memo is None:
        return False
    written = memo.is_empty(shard)
    if written:
        memo.write_shard(shard, shard_bytes(memo.generation, entries))
    if adopt:
        memo.adopt(shard, entries, written=written)
    return written


def _read_folder(folder: Folder, settings: Settings) -> Loaded:
    report = _Report(settings.root)
    path = Path(folder.path)
    release = _load_folder(path, [path / name for name in folder.files], settings, report)
    return release, report.items


def _load_folder(folder: Path, files: list[Path], settings: Settings, report: _Report) -> Release | None:
    """The folder's release (None if broken), with editorial warnings for what it holds."""
    match = FOLDER_NAME.match(folder.name)
    if match is None:
        report.error(
            files[0], 1,
            f"release folder name {folder.name!r} is not YYYY-MM-DD-slug",
            "rename the folder like 2024-11-25-new-york-experience",
        )  # fmt: skip
        return None
    documents: dict[Path, tuple[bytes, Document]] = {}
    for path in files:
        language = path.stem
        if language not in settings.language_codes:
            report.error(
                path, 1, f"file name {path.name!r} is not a language of this newsroom",
                f"name it after one of {', '.join(settings.language_codes)} (e.g. en.md) "
                "or add the language to newsroom.toml",
            )  # fmt: skip
            continue
        parsed = _read_document(path, report)
        if parsed is not None:
            documents[path] = parsed
    originals = [p for p, (_, doc) in documents.items() if "revision" not in doc.meta]
    translations = [p for p in documents if p not in originals]
    if not originals:
        for path in translations:
            report.error(
                path, documents[path][1].line_of(("revision",)),
                "translation whose original is missing: no file in this folder is an original",
                "add the original (without `revision:`) or remove `revision:` if this is the original",
            )  # fmt: skip
        return None
    if len(originals) > 1:
        for path in originals[1:]:
            report.error(
                path, 1, f"two originals in one folder ({originals[0].name} and {path.name})",
                "a translation needs `revision:` with the original's revision (see `newsroom status`)",
            )  # fmt: skip
        return None
    original_path = originals[0]
    data, doc = documents[original_path]
    # translations are checked even when the original is broken, so every file's problems show at once;
    # a broken translation is reported and left out, and the original still loads
    loaded = {path.stem: _load_translation(folder, path, *documents[path], report) for path in translations}
    problems_before = len(report.items)
    meta = _validate(OriginalMeta, doc, original_path, report)
    if meta is not None:
        _check_vocabulary(meta, doc, original_path, settings, report)
        _check_assets(meta, doc, original_path, report)
    if meta is None or any(d.severity is Severity.ERROR for d in report.items[problems_before:]):
        return None
    kept = {lang: t for lang, t in loaded.items() if t is not None}
    revision = revision_of(data)
    release = Release(
        slug=meta.slug or match.group(4),
        folder=folder,
        language=original_path.stem,
        meta=meta,
        body=doc.body,
        revision=revision,
        translations=kept,
        body_line=doc.body_line,
        body_images=any("![" in body for body in (doc.body, *(t.body for t in kept.values()))),
        fingerprint=fingerprint_of(revision, kept),
    )
    lines = {path: parsed.lines for path, (_, parsed) in documents.items()}
    editorial_warnings(release, lines, settings, report)
    return release


def _read_document(path: Path, report: _Report) -> tuple[bytes, Document] | None:
    data = path.read_bytes()
    try:
        return data, parse(decode(data))
    except FrontMatterError as exc:
        report.error(path, exc.line, exc.message, exc.hint)
        return None


def _load_translation(
    folder: Path, path: Path, data: bytes, doc: Document, report: _Report
) -> Translation | None:
    meta = _validate(TranslationMeta, doc, path, report)
    if meta is None:
        return None
    _check_body(doc, path, report)
    digest = hashlib.sha256(data).hexdigest()[:24]
    return Translation(path.stem, meta, doc.body, folder, doc.body_line, digest)


def _validate(model: type[M], doc: Document, path: Path, report: _Report) -> M | None:
    try:
        return model.model_validate(doc.meta)
    except ValidationError as exc:
        for error in exc.errors():
            line, message, hint = _explain(model, error, doc)
            report.error(path, line, message, hint)
        return None


def _explain(model: type[BaseModel], error: ErrorDetails, doc: Document) -> tuple[int, str, str]:
    """A validation error as (line, message, fix hint) in the words of the release format."""
    loc = tuple(error["loc"])
    where = ".".join(str(part) for part in loc)
    message = str(error["msg"]).removeprefix("Value error, ")
    line = doc.line_of(loc)
    kind = error["type"]
    if kind == "missing":
        return 1, f"{where}: required field is missing", f"add `{loc[-1]}:` to the front matter"
    if kind == "extra_forbidden":
        known = _field_names(model, loc[:-1])
        close = difflib.get_close_matches(str(loc[-1]), known, n=1, cutoff=0.6)
        hint = f"did you mean `{close[0]}`?" if close else f"known fields here: {', '.join(known)}"
        return line, f"{where}: unknown field", hint
    if not loc:
        if "event" in message:
            return doc.line_of(("event",) if "event" in doc.meta else ("kind",)), message, FORMAT_DOC
        return line, message, FORMAT_DOC
    if loc == ("revision",):
        return (
            line,
            "revision: must be 12 hex digits",
            "copy the original's revision from `newsroom status --format json`",
        )
    if loc[-1] == "alt" and kind == "string_too_short":
        return line, f"{where}: image without alt text", "describe what the image shows in `alt:`"
    if "time zone" in message or "date and time" in message:
        return line, f"{where}: {message.split('; ')[0]}", TIME_HINT
    if kind in ("string_type", "int_type", "bool_type", "list_type", "model_type", "dict_type"):
        message = f"wrong type: {message.lower()}, got {type(error['input']).__name__}"
    return line, f"{where}: {message}", FORMAT_DOC


def _field_names(model: type[BaseModel], loc: tuple[Any, ...]) -> list[str]:
    """The field names of the (nested) model that `loc` points into, for unknown-field hints."""
    current: Any = model
    for part in loc:
        if isinstance(part, int):
            continue
        if not _is_model(current) or part not in current.model_fields:
            return []
        current = _model_in(current.model_fields[part].annotation)
    return list(current.model_fields) if _is_model(current) else []


def _is_model(value: Any) -> bool:
    return isinstance(value, type) and issubclass(value, BaseModel)


def _model_in(annotation: Any) -> Any:
    if _is_model(annotation):
        return annotation
    if get_origin(annotation) is not None or get_args(annotation):
        for arg in get_args(annotation):
            found = _model_in(arg)
            if found is not None:
                return found
    return None


def _check_vocabulary(
    meta: OriginalMeta, doc: Document, path: Path, settings: Settings, report: _Report
) -> None:
    if meta.office not in settings.offices:
        report.error(
            path, doc.line_of(("office",)), f"office: unknown office {meta.office!r}",
            _suggest(meta.office, list(settings.offices), "offices"),
        )  # fmt: skip
    for index, topic in enumerate(meta.topics):
        if topic not in settings.topics:
            report.error(
                path, doc.line_of(("topics", index)), f"topics: unknown topic {topic!r}",
                _suggest(topic, list(settings.topics), "topics"),
            )  # fmt: skip


def _suggest(value: str, known: list[str], table: str) -> str:
    close = difflib.get_close_matches(value, known, n=1, cutoff=0.5)
    if close:
        return f"did you mean {close[0]!r}? (known {table}: {', '.join(known)})"
    return f"use one of {', '.join(known)}, or add it under [{table}] in newsroom.toml"


def _check_assets(meta: OriginalMeta, doc: Document, path: Path, report: _Report) -> None:
    sources = [("images", i, image.src) for i, image in enumerate(meta.images)]
    sources += [("attachments", i, attachment.src) for i, attachment in enumerate(meta.attachments)]
    for kind, index, src in sources:
        _check_asset(path, doc.line_of((kind, index, "src")), src, report)
    _check_body(doc, path, report)


def _check_body(doc: Document, path: Path, report: _Report) -> None:
    for body_line, src, alt in scan_body(doc.body).images:
        line = doc.body_line + body_line
        if not alt:
            report.error(path, line, "image without alt text", "write ![what the image shows](file)")
        if is_local_asset(src):
            _check_asset(path, line, src, report)


def _check_asset(path: Path, line: int, src: str, report: _Report) -> None:
    folder = path.parent.resolve()
    target = (folder / src).resolve()
    if folder not in target.parents:
        report.error(
            path, line, f"asset {src!r} is outside the release folder", "put the file beside the release"
        )
    elif not target.is_file():
        report.error(
            path, line, f"missing referenced asset {src!r}",
            f"add {src} to {relative(path.parent, report.root)} or fix the file name",
        )  # fmt: skip


def _check_unique_slugs(releases: list[Release], report: _Report) -> None:
    if len({release.slug for release in releases}) == len(releases):
        return  # the usual case, without grouping 10,000 releases
    by_slug: dict[str, list[Release]] = defaultdict(list)
    for release in releases:
        by_slug[release.slug].append(release)
    for slug, group in by_slug.items():
        if len(group) > 1:
            first = relative(group[0].folder, report.root)
            for release in group[1:]:
                report.error(
                    release.path, 1, f"duplicate slug {slug!r}: {first} has it too",
                    "rename the folder or set a different `slug:`",
                )  # fmt: skip
    # a release with a duplicate slug stays loaded; check fails, so nothing is published
