"""`newsroom serve`: build the site, serve it on 127.0.0.1, rebuild when a source file changes.

Changes are found by polling modification times (no extra dependency, works everywhere). The server
reads through the `site` symlink on every request, so it always serves the latest complete build.
"""

from __future__ import annotations

import functools
import os
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime
from http import HTTPStatus
from http.server import SimpleHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

from newsroom.config import CONFIG_NAME, Settings, load_settings
from newsroom.content.scan import ReleaseScan, scan_releases
from newsroom.errors import NewsroomError
from newsroom.render import site, site_pages
from newsroom.render.base import remember_across_builds
from newsroom.render.builder import build_at
from newsroom.render.i18n import LOCALE_DIR, translations


class _Handler(SimpleHTTPRequestHandler):
    def send_error(self, code: int, message: str | None = None, explain: str | None = None) -> None:
        page = Path(self.directory) / "404.html"
        if code != HTTPStatus.NOT_FOUND or not page.is_file():
            super().send_error(code, message, explain)
            return
        body = page.read_bytes()
        self.send_response(code)
        self.send_header("Content-Type", "text/html; charset=utf-8")
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        if self.command != "HEAD":
            self.wfile.write(body)

    def log_message(self, format: str, *args: object) -> None:
        pass  # quiet: the console shows builds, not every request


def start_server(directory: Path, port: int = 8000) -> ThreadingHTTPServer:
    """Serve `directory` on 127.0.0.1 (port 0 picks a free one) from a background thread."""
    handler = functools.partial(_Handler, directory=str(directory))
    server = ThreadingHTTPServer(("127.0.0.1", port), handler)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    return server


Snapshot = dict[str, tuple[int, int]]  # path -> (mtime, size) of every file a build reads


@dataclass(frozen=True)
class Watched:
    """Every file a build reads, by what it is: equal snapshots mean nothing to rebuild."""

    releases: ReleaseScan  # as the loader scans them (it is handed the scan, so looks only once)
    chrome: Snapshot  # templates, catalogs, settings


def watched_files(settings: Settings) -> Watched:
    config = settings.root / CONFIG_NAME
    chrome = _files_under(site.TEMPLATES) | _files_under(LOCALE_DIR)
    if config.is_file():
        chrome[str(config)] = _stamp(config.stat())
    return Watched(scan_releases(settings.releases_dir), chrome)


def _files_under(folder: Path) -> Snapshot:
    """Every file below `folder`, with os.scandir (Path.rglob is ten times slower)."""
    found: Snapshot = {}
    pending = [str(folder)]
    while pending:
        try:
            entries = list(os.scandir(pending.pop()))
        except OSError:
            continue  # gone since it was listed
        for entry in entries:
            if entry.is_dir(follow_symlinks=False):
                pending.append(entry.path)
            elif entry.is_file():
                found[entry.path] = _stamp(entry.stat())
    return found


def _stamp(info: os.stat_result) -> tuple[int, int]:
    return info.st_mtime_ns, info.st_size


def rebuild(
    root: Path,
    now: Callable[[], datetime],
    say: Callable[[str], None],
    *,
    chrome_changed: bool = True,
    pdfs: bool = True,
    scan: ReleaseScan | None = None,
) -> None:
    """One build; a failing one is reported and the previous site keeps being served."""
    remember_across_builds()
    if chrome_changed:  # else the compiled templates and catalogs are still right: keep them
        for cached in (site._code_fingerprint, site_pages.environment, translations):
            cached.cache_clear()
    try:
        started = time.perf_counter()
        settings = _settings(root, reload=chrome_changed)
        report = build_at(settings, now(), pdfs=pdfs, scan=scan)
        say(f"site: {report.summary()} in {time.perf_counter() - started:.2f} s")
    except NewsroomError as exc:
        say(f"build failed, still serving the previous site:\n{exc.message}")


_SETTINGS: dict[Path, Settings] = {}


def _settings(root: Path, *, reload: bool) -> Settings:
    """The settings, read again only when newsroom.toml may have changed: the same object from
    build to build lets the renderers' per-process caches (feed entries, say) keep working."""
    if reload or root not in _SETTINGS:
        _SETTINGS[root] = load_settings(root)
    return _SETTINGS[root]


def serve(root: Path, now: Callable[[], datetime], say: Callable[[str], None], port: int = 8000,
          interval: float = 1.0, stop: threading.Event | None = None, pdfs: bool = True) -> None:  # fmt: skip
    """Build, serve, and rebuild on changes until Ctrl-C (or until `stop` is set)."""
    settings = load_settings(root)
    seen = watched_files(settings)  # before the first build: an edit made while it runs is caught
    rebuild(root, now, say, pdfs=pdfs, scan=seen.releases)
    server = start_server(settings.site_dir, port)
    say(f"serving {settings.site_dir} at http://127.0.0.1:{server.server_address[1]}/ (Ctrl-C stops)")
    stop = stop or threading.Event()
    try:
        while not stop.wait(interval):
            current = watched_files(settings)
            if current != seen:
                chrome_changed = current.chrome != seen.chrome
                seen = current
                rebuild(root, now, say, chrome_changed=chrome_changed, pdfs=pdfs, scan=current.releases)
    except KeyboardInterrupt:
        pass
    finally:
        server.shutdown()
