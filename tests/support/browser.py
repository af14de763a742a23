"""Debian's Chromium through Playwright, for screenshots and axe-core checks.

    from tests.support.browser import launch_browser, axe_violations, screenshot

    with launch_browser() as browser:
        page = browser.new_page()
        page.goto(path.as_uri())
        assert axe_violations(page) == []
        screenshot(page, out / "home-390.png", 390)

Never `playwright install`: the browser is Debian's `chromium` package
(scripts/setup-debian.sh); axe-core comes from node_modules (scripts/setup-node.sh).
"""

from __future__ import annotations

import os
import shutil
import tempfile
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[2]
CHROMIUM = "/usr/bin/chromium"
AXE_JS = ROOT / "node_modules" / "axe-core" / "axe.min.js"

# From shared/PITFALLS.md: without the background-networking flags Chromium keeps
# trying hosts it cannot reach from here.
CHROMIUM_ARGS = [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
]


def chromium_available() -> bool:
    return os.access(CHROMIUM, os.X_OK)


@contextmanager
def launch_browser(*, timeout_ms: float = 30_000, extra_args: list[str] | None = None) -> Iterator[Any]:
    """Launch headless Debian Chromium; yield a playwright.sync_api.Browser.

    Each launch gets a fresh profile (user-data-dir) in a new temporary directory,
    removed afterwards.  Playwright refuses `--user-data-dir` in `args` for
    `launch()` and always creates its own fresh profile directory under the
    driver's TMPDIR, so we point TMPDIR at our temp dir while the driver starts.
    """
    from playwright.sync_api import sync_playwright

    tmp = tempfile.mkdtemp(prefix="newsroom-chromium-")
    try:
        with _tmpdir_env(tmp):  # the Playwright driver (node) reads TMPDIR when it starts
            pw_cm = sync_playwright()
            pw = pw_cm.__enter__()
        try:
            browser = pw.chromium.launch(
                executable_path=CHROMIUM,
                headless=True,
                args=CHROMIUM_ARGS + list(extra_args or []),
                timeout=timeout_ms,
                env={**os.environ, "TMPDIR": tmp},
            )
            try:
                yield browser
            finally:
                browser.close()
        finally:
            pw_cm.__exit__(None, None, None)
    finally:
        shutil.rmtree(tmp, ignore_errors=True)


@contextmanager
def _tmpdir_env(value: str) -> Iterator[None]:
    old = os.environ.get("TMPDIR")
    os.environ["TMPDIR"] = value
    try:
        yield
    finally:
        if old is None:
            os.environ.pop("TMPDIR", None)
        else:
            os.environ["TMPDIR"] = old


_axe_source: str | None = None


def axe_violations(
    page: Any, options: dict[str, Any] | None = None, context: Any = None
) -> list[dict[str, Any]]:
    """Run axe-core on the page and return its `violations` list (empty when clean).

    axe.min.js is evaluated through the DevTools protocol, not added as a <script>
    tag, so a page's Content-Security-Policy cannot block it.  `options` go to
    axe.run (e.g. {"runOnly": ["wcag2a", "wcag2aa"]}); `context` defaults to the
    whole document.
    """
    global _axe_source
    if _axe_source is None:
        if not AXE_JS.is_file():
            raise FileNotFoundError(f"{AXE_JS} missing: run scripts/setup-node.sh")
        _axe_source = AXE_JS.read_text(encoding="utf-8")
    if not page.evaluate("() => typeof window.axe === 'object'"):
        page.evaluate(_axe_source + "\n;undefined")
    result = page.evaluate(
        "async ([ctx, opts]) => await axe.run(ctx === null ? document : ctx, opts)",
        [context, options or {}],
    )
    violations: list[dict[str, Any]] = result["violations"]
    return violations


def screenshot(page: Any, path: Path | str, width: int, *, height: int = 800, full_page: bool = True) -> Path:
    """Screenshot the page at a viewport `width` CSS px wide (full page by default)."""
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    page.set_viewport_size({"width": width, "height": height})
    page.screenshot(path=str(path), full_page=full_page)
    return path
