"""The folder cache: a load with it equals a load without it, whatever changed in between."""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
from collections import defaultdict
from datetime import UTC, datetime
from pathlib import Path

import pytest

from newsroom.config import Settings, load_settings
from newsroom.content import loader, memo
from newsroom.content.loader import load_newsroom
from newsroom.content.models import Newsroom, Release
from newsroom.content.scan import Folder, folder_signature, release_folders
from newsroom.errors import ContentError

FOLDER = Path("releases/2024/2024-11-25-new-york-experience")


def _cached(settings: Settings) -> Newsroom:
    return load_newsroom(settings, cache=settings.var_dir / "cache" / "releases.pickle")


def _facts(newsroom: Newsroom) -> list[object]:
    """Everything a load gives, including where each body starts."""
    facts: list[object] = [newsroom.diagnostics]
    for release in newsroom.releases:
        facts += [repr(release), release.body_line]
        facts += [(repr(t), t.body_line) for t in release.translations.values()]
    return facts


def _assert_cache_agrees(settings: Settings) -> Newsroom:
    cached = _cached(settings)
    assert _facts(cached) == _facts(load_newsroom(settings))
    return cached


@pytest.fixture
def settings(sample_root: Path) -> Settings:
    loaded = load_settings(sample_root, environ={})
    _cached(loaded)  # fill the cache
    return loaded


def _bump(path: Path) -> None:
    """A later mtime, as an editor saving the file a moment later would leave."""
    stat = path.stat()
    os.utime(path, ns=(stat.st_atime_ns, stat.st_mtime_ns + 1_000_000_000))


def test_a_file_added_to_a_folder_is_noticed(settings: Settings) -> None:
    original = settings.root / FOLDER / "en.md"
    shutil.copy(settings.root / FOLDER / "es.md", settings.root / FOLDER / "ar.md")
    newsroom = _assert_cache_agrees(settings)
    assert "ar" in newsroom.by_slug("new-york-experience").translations
    assert original.exists()


def test_a_file_edited_in_place_is_noticed_even_at_the_same_size(settings: Settings) -> None:
    path = settings.root / FOLDER / "es.md"
    text = path.read_text()
    path.write_text(text.replace("title: ", "title: X", 1).replace("\n\n", "\n", 1))
    _bump(path)
    newsroom = _assert_cache_agrees(settings)
    assert newsroom.by_slug("new-york-experience").translations["es"].meta.title.startswith("X")


def test_a_file_removed_from_a_folder_is_noticed(settings: Settings) -> None:
    (settings.root / FOLDER / "ru.md").unlink()
    newsroom = _assert_cache_agrees(settings)
    assert "ru" not in newsroom.by_slug("new-york-experience").translations


def test_a_removed_folder_leaves_the_cache(settings: Settings) -> None:
    shutil.rmtree(settings.root / FOLDER)
    newsroom = _assert_cache_agrees(settings)
    with pytest.raises(KeyError):
        newsroom.by_slug("new-york-experience")
    cache = memo.FolderMemo(settings.var_dir / "cache" / "releases.pickle", settings)
    assert str(settings.root / FOLDER) not in cache.entries


def test_an_asset_changed_in_a_subfolder_is_noticed(settings: Settings) -> None:
    folder = settings.root / "releases/2024/2024-12-03-city-digital-services-plain-language"
    (folder / "images").mkdir()
    (folder / "images" / "map.png").write_bytes(b"png")
    before = folder_signature(folder)
    _assert_cache_agrees(settings)
    (folder / "images" / "map.png").write_bytes(b"a larger png")
    assert folder_signature(folder) != before
    _assert_cache_agrees(settings)


def test_a_load_with_nothing_changed_writes_nothing(settings: Settings) -> None:
    shards = settings.var_dir / "cache" / "releases.d"
    written = {path: path.stat().st_mtime_ns for path in shards.iterdir()}
    assert written and all(path.suffix == ".pickle" for path in written)
    _assert_cache_agrees(settings)
    assert {path: path.stat().st_mtime_ns for path in shards.iterdir()} == written


def test_an_edit_rewrites_only_the_shard_holding_its_folder(settings: Settings) -> None:
    shards = settings.var_dir / "cache" / "releases.d"
    written = {path: path.stat().st_mtime_ns for path in shards.iterdir()}
    path = settings.root / FOLDER / "en.md"
    path.write_text(path.read_text() + "\nOne more line.\n")
    _assert_cache_agrees(settings)
    rewritten = [p for p in shards.iterdir() if p.stat().st_mtime_ns != written.get(p)]
    assert rewritten == [shards / f"{memo.shard_of(str(settings.root / FOLDER)):02x}.pickle"]


def _from_disk(settings: Settings, slug: str) -> Release:
    """The release as a new process gets it from the cache files (not this process's memory)."""
    cache = memo.FolderMemo(settings.var_dir / "cache" / "releases.pickle", settings)
    releases = [entry[1] for entry in cache.entries.values() if entry[1] is not None]
    return next(release for release in releases if release.slug == slug)


def test_the_cache_leaves_bodies_out_and_reads_them_again_from_their_files(settings: Settings) -> None:
    parsed = load_newsroom(settings).by_slug("new-york-experience")
    words = " ".join(parsed.body.split()[30:36])  # from the middle of the English body
    shards = b"".join(path.read_bytes() for path in (settings.var_dir / "cache" / "releases.d").iterdir())
    assert words.encode() not in shards
    assert parsed.meta.title.encode() in shards  # the rest of the release is there

    cached = _from_disk(settings, "new-york-experience")

    assert "body" not in vars(cached) and "body" not in vars(cached.translations["ru"])
    assert cached.body == parsed.body and words in cached.body
    assert cached.translations["ru"].body == parsed.translations["ru"].body
    assert cached == parsed


def test_the_cache_restores_front_matter_and_folder_only_when_asked_for(settings: Settings) -> None:
    parsed = load_newsroom(settings).by_slug("new-york-experience")
    cached = _from_disk(settings, "new-york-experience")

    assert "meta" not in vars(cached) and "meta" not in vars(cached.translations["ru"])
    shown = (cached.status, cached.kind, cached.office, cached.topics, cached.release_time, cached.languages)
    assert shown == (
        parsed.meta.status, parsed.meta.kind, parsed.meta.office, tuple(parsed.meta.topics),
        parsed.meta.release, parsed.languages,
    )  # fmt: skip
    assert "meta" not in vars(cached)  # what every release is keyed and listed by needs none of it
    assert "folder" not in vars(cached) and cached.folder == parsed.folder  # a Path, made when asked for
    assert cached.translations["ru"].meta == parsed.translations["ru"].meta
    assert cached.meta == parsed.meta and cached == parsed


def test_keying_every_output_restores_no_front_matter(settings: Settings) -> None:
    """A rebuild keys every page, feed, sitemap and short link of every release, and renders a few:
    keying must not restore what the cache keeps packed (it was most of a rebuild's load)."""
    from newsroom.gate import gate
    from newsroom.render.builder import collect_units, unit_providers

    memo._LAST = None  # from disk, as a new process would
    newsroom = _cached(settings)
    years_later = datetime(2031, 1, 1, tzinfo=UTC)  # the news sitemap's last two days are empty
    units = collect_units(gate(newsroom, years_later), unit_providers(pdfs=False))

    assert len(units) > 50
    restored = [release for release in newsroom.releases if "meta" in vars(release)]
    # only to find the files a release shows (its images and attachments are stat()ed for its key)
    assert restored
    assert not [release for release in restored if not release.names_files]


def test_a_body_whose_file_changed_since_it_was_loaded_is_refused(settings: Settings) -> None:
    cached = _from_disk(settings, "new-york-experience")
    path = settings.root / FOLDER / "es.md"
    path.write_text(path.read_text() + "\nOne more line.\n")

    assert cached.body  # the original did not change
    with pytest.raises(
        ContentError, match=r"es\.md: changed while the site was being built \(fix: build again\)"
    ):
        _ = cached.translations["es"].body
    path.unlink()
    with pytest.raises(
        ContentError, match=r"es\.md: No such file or directory while the site was being built"
    ):
        _ = cached.translations["es"].body
    with pytest.raises(AttributeError, match="no attribute 'headline_text'"):
        _ = cached.headline_text  # type: ignore[attr-defined]


def test_a_damaged_or_foreign_shard_is_ignored_and_rewritten(settings: Settings) -> None:
    shards = sorted((settings.var_dir / "cache" / "releases.d").iterdir())
    for index, path in enumerate(shards):
        path.write_bytes(b"not a pickle" if index % 2 else b"\x80\x05N.")  # garbage, or None
    _assert_cache_agrees(settings)
    assert all(path.read_bytes().startswith(b"\x80") and len(path.read_bytes()) > 20 for path in shards)
    _assert_cache_agrees(settings)


def test_the_single_file_cache_of_earlier_versions_is_removed(settings: Settings) -> None:
    legacy = settings.var_dir / "cache" / "releases.pickle"
    legacy.write_bytes(b"old")
    (settings.root / FOLDER / "ru.md").unlink()
    _assert_cache_agrees(settings)
    assert not legacy.exists()


def _rglob_folders(releases: Path) -> dict[Path, list[Path]]:
    """What the loader found before it scanned with os.scandir: the reference."""
    folders: dict[Path, list[Path]] = defaultdict(list)
    for path in releases.rglob("*.md"):
        if path.is_file() and not any(part.startswith(".") for part in path.parts):
            folders[path.parent].append(path)
    return {folder: sorted(files) for folder, files in sorted(folders.items())}


def test_the_scan_finds_what_rglob_finds_in_the_same_order(tmp_path: Path) -> None:
    releases = tmp_path / "releases"
    for folder in [
        "2024/2024-05-05-dup", "2024-05-05-dup", "2024/2024-05-05-dup-b", "2024/a.md",
        "2024/2024-01-01-x/images", ".hidden/2024-01-01-y", "2024/2024-01-02-z/.git",
    ]:  # fmt: skip
        (releases / folder).mkdir(parents=True)
        (releases / folder / "en.md").write_text("---\n---\n")
    (releases / "en.md").write_text("")
    (releases / "2024/2024-05-05-dup/.es.md").write_text("")
    (releases / "2024/2024-05-05-dup/notes.txt").write_text("")
    (releases / "2024/2024-05-05-dup/ru.md").symlink_to(releases / "en.md")
    (releases / "2024/2024-05-05-dup/zh.md").symlink_to(releases / "missing.md")
    (releases / "2024/2024-09-09-linked").symlink_to(releases / "2024/2024-05-05-dup")
    found = {Path(f.path): [Path(f.path) / name for name in f.files] for f in release_folders(releases)}
    expected = _rglob_folders(releases)
    assert list(found.items()) == list(expected.items())
    (releases / "2024/2024-05-05-dup/zh.md").unlink()  # a dangling link: both signatures raise
    whole = release_folders(releases, signatures=True)
    parts = [release_folders(releases, signatures=True, part=(k, 2)) for k in range(2)]
    assert all(parts) and sorted((f for part in parts for f in part), key=lambda f: f.order) == whole
    for folder in release_folders(releases, signatures=True):
        assert folder.signature == folder_signature(Path(folder.path))


def test_the_collector_is_left_as_it_was(settings: Settings) -> None:
    import gc

    assert gc.isenabled()
    _cached(settings)
    assert gc.isenabled()
    gc.disable()
    try:
        _cached(settings)
        assert not gc.isenabled()
    finally:
        gc.enable()


@pytest.mark.parametrize("root", ["sample", "broken"])
def test_folders_read_in_parallel_load_as_they_do_one_by_one(
    sample_root: Path, monkeypatch: pytest.MonkeyPatch, root: str
) -> None:
    """A cold load of many folders is read by forked processes: the same releases and
    problems (a broken folder's too), in the same order, with or without the cache."""
    fixtures = Path(__file__).parent / "fixtures" / "broken"
    settings = load_settings(sample_root if root == "sample" else fixtures, environ={})
    one_by_one = _facts(load_newsroom(settings))
    monkeypatch.setattr(loader, "PARALLEL_FROM", 2)
    assert _facts(load_newsroom(settings)) == one_by_one
    if root == "sample":  # the readers write the cache's shards, and the next load reads nothing else
        assert _facts(_cached(settings)) == one_by_one
        assert len(list((settings.var_dir / "cache" / "releases.d").glob("*.pickle"))) > 1
        monkeypatch.setattr(memo, "_LAST", None)  # from disk, as a new process would

        def unexpected(*args: object) -> object:
            raise AssertionError("a folder was read again")

        monkeypatch.setattr(loader, "_read_folder", unexpected)
        assert _facts(_cached(settings)) == one_by_one


def test_folders_a_failed_reader_took_are_read_by_this_process(
    sample_root: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    settings = load_settings(sample_root, environ={})
    one_by_one = _facts(load_newsroom(settings))
    parent, read_folder = os.getpid(), loader._read_folder

    def fails_in_a_child(folder: Folder, settings: Settings) -> object:
        if os.getpid() != parent:
            raise MemoryError  # whatever goes wrong in a child, this process only sees it fail
        return read_folder(folder, settings)

    monkeypatch.setattr(loader, "_read_folder", fails_in_a_child)
    monkeypatch.setattr(loader, "PARALLEL_FROM", 2)
    assert _facts(_cached(settings)) == one_by_one


def test_the_waiting_process_gets_its_other_work_once_per_wait(
    sample_root: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """`meanwhile(cold)` runs once while reader processes parse (cold=True: a build warms its
    renderers, which it will use for every page), and once while children scan the folders of a
    load from the cache (cold=False: a build only imports its renderers)."""
    settings = load_settings(sample_root, environ={})
    monkeypatch.setattr(loader, "PARALLEL_FROM", 2)
    calls: list[tuple[str, bool]] = []
    cache = settings.var_dir / "cache" / "releases.pickle"
    cold = load_newsroom(settings, cache=cache, meanwhile=lambda cold: calls.append(("first", cold)))
    warm = load_newsroom(settings, cache=cache, meanwhile=lambda cold: calls.append(("second", cold)))
    assert calls == [("first", True), ("second", False)]
    assert _facts(warm) == _facts(cold)


def test_a_changed_release_has_its_contacts_checked_even_when_others_have_them(settings: Settings) -> None:
    """Contacts that releases from the cache have are taken as checked; a new value in the changed
    file is still checked, and a bad one names its file and line."""
    path = settings.root / FOLDER / "en.md"
    text = path.read_text(encoding="utf-8")
    path.write_text(text.replace("press.office@exec.example.gov", "press.office@@exec", 1), encoding="utf-8")
    _bump(path)
    problems = [d for d in _cached(settings).diagnostics if d.severity.name == "ERROR"]
    assert [(d.path, d.line) for d in problems] == [(str(FOLDER / "en.md"), 15)]
    assert "invalid email address 'press.office@@exec'" in problems[0].message


def test_a_rebuild_after_an_edit_does_not_import_the_contact_checkers(settings: Settings) -> None:
    """Importing email_validator and phonenumbers took 60 ms of a one-release rebuild; the edited
    release's contacts are the ones the cached releases have, so neither is needed."""
    path = settings.root / FOLDER / "en.md"
    path.write_text(path.read_text(encoding="utf-8") + "\nOne more paragraph.\n", encoding="utf-8")
    _bump(path)
    script = (
        "import sys; from pathlib import Path; from newsroom.config import load_settings;"
        " from newsroom.content.loader import"
        " load_newsroom; s = load_settings(Path(sys.argv[1]), environ={});"
        " n = load_newsroom(s, cache=s.var_dir / 'cache' / 'releases.pickle');"
        " assert 'One more paragraph.' in n.by_slug('new-york-experience').body;"
        " print(sorted(m for m in ('phonenumbers', 'email_validator') if m in sys.modules))"
    )
    run = subprocess.run([sys.executable, "-c", script, str(settings.root)], capture_output=True, text=True)
    assert run.returncode == 0, run.stderr
    assert run.stdout.strip() == "[]"


def test_a_build_starts_its_scan_before_it_imports_newsroom(sample_settings: Settings) -> None:
    """`newsroom build` scans releases/ beside its imports, a first build's too; the loader takes
    that scan (once), and an edit the scan saw is in the build."""
    from newsroom.content import scan

    settings = sample_settings
    root, releases = settings.root, settings.releases_dir
    command = ["build", "--no-pdf", "--root", str(root)]
    scan.start_early(command)  # no release cache yet: a first build scans early too
    assert tuple(scan.take_early(releases) or ()) == scan.scan_releases(releases)
    scan.start_early(command)
    first = _cached(settings)
    assert scan.take_early(releases) is None  # the loader took it
    assert _facts(first) == _facts(load_newsroom(settings))
    for other in (["status", "--root", str(root)], [*command, "--help"], ["build", f"--root={root.parent}"]):
        scan.start_early(other)
        assert scan.take_early(releases) is None, other
    path = root / FOLDER / "en.md"
    path.write_text(path.read_text(encoding="utf-8") + "\nSeen by the early scan.\n", encoding="utf-8")
    _bump(path)
    scan.start_early(["build", "--no-pdf", f"--root={root / 'releases'}"])  # a folder inside the newsroom
    assert scan.take_early(root / "elsewhere") is None  # another newsroom's: left for its own
    early = scan.take_early(releases)
    assert early is not None and scan.take_early(releases) is None  # taken once
    assert tuple(early) == scan.scan_releases(releases)
    scan.start_early(command)
    newsroom = _cached(settings)
    assert scan.take_early(releases) is None  # the loader took it
    assert "Seen by the early scan." in newsroom.by_slug("new-york-experience").body
