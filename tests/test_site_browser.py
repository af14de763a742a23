"""The built sample site in real tools: vnu validates every page, axe-core finds no violations in
Chromium, and a reader switches a release between Russian and Arabic on a phone and a desktop."""

from __future__ import annotations

import shutil
from collections.abc import Iterator
from pathlib import Path

import pytest

from newsroom.preview import start_server
from tests.conftest import SAMPLE_NOW
from tests.site_support import build
from tests.support.browser import axe_violations, chromium_available, launch_browser, screenshot
from tests.support.htmlcheck import validate_html, vnu_available

SHOTS_COPY = Path("/tmp/shots")  # a copy for people to look at after the run
NYX = "new-york-experience"


@pytest.fixture(scope="module")
def built_site(tmp_path_factory: pytest.TempPathFactory) -> Path:
    root = tmp_path_factory.mktemp("newsroom")
    repo = Path(__file__).resolve().parents[1]
    shutil.copy(repo / "newsroom.toml", root / "newsroom.toml")
    shutil.copytree(repo / "releases", root / "releases")
    build(root, SAMPLE_NOW)
    return root / "site"


@pytest.fixture(scope="module")
def base_url(built_site: Path) -> Iterator[str]:
    server = start_server(built_site, port=0)
    yield f"http://127.0.0.1:{server.server_address[1]}"
    server.shutdown()


def _pages(site: Path) -> list[Path]:
    return sorted(site.resolve().rglob("*.html"))


def _readable_pages(site: Path) -> list[Path]:
    """Pages a reader stays on: not the SMS short-link pages under r/, which forward at once
    (they have their own axe test in tests/test_sms_redirect_browser.py)."""
    return [path for path in _pages(site) if path.relative_to(site.resolve()).parts[0] != "r"]


@pytest.mark.vnu
@pytest.mark.skipif(not vnu_available(), reason="needs java and node_modules/vnu-jar")
def test_every_page_is_valid_html(built_site: Path) -> None:
    pages = _pages(built_site)
    assert len(pages) > 80
    errors = validate_html(pages)
    assert errors == [], "\n".join(errors)


@pytest.mark.browser
@pytest.mark.slow
@pytest.mark.skipif(not chromium_available(), reason="needs Debian's chromium")
def test_every_page_has_no_axe_violations(built_site: Path, base_url: str) -> None:
    site = built_site.resolve()
    problems = []
    with launch_browser() as browser:
        page = browser.new_page()
        for path in _readable_pages(site):
            url = f"{base_url}/{path.relative_to(site).as_posix()}".removesuffix("index.html")
            page.goto(url)
            for violation in axe_violations(page):
                targets = [node["target"] for node in violation["nodes"]][:3]
                problems.append(f"{url}: {violation['id']}: {violation['help']} {targets}")
    assert problems == [], "\n".join(problems)


@pytest.mark.browser
@pytest.mark.skipif(not chromium_available(), reason="needs Debian's chromium")
def test_reader_switches_a_release_from_russian_to_arabic_page(base_url: str, tmp_path: Path) -> None:
    shots = tmp_path / "shots"
    with launch_browser() as browser:
        page = browser.new_page()
        page.goto(f"{base_url}/ru/releases/{NYX}/")
        assert page.locator("html").get_attribute("dir") == "ltr"
        assert "25 ноября 2024" in page.locator("article time").first.inner_text()
        page.locator("nav.languages a[lang=en]").click()
        assert page.url.endswith(f"/en/releases/{NYX}/")
        assert page.locator("html").get_attribute("lang") == "en"
        assert "November 25, 2024" in page.locator("article time").first.inner_text()

        page.goto(f"{base_url}/ar/releases/city-digital-services-plain-language/")
        assert page.locator("html").get_attribute("dir") == "rtl"
        assert page.evaluate("getComputedStyle(document.querySelector('main')).direction") == "rtl"
        assert "ديسمبر" in page.locator("article time").first.inner_text()
        page.locator("nav.languages a[lang=en]").click()
        assert page.locator("html").get_attribute("dir") == "ltr"
        assert page.url.endswith("/en/releases/city-digital-services-plain-language/")

        views = {
            "ru": f"/ru/releases/{NYX}/",
            "ar": "/ar/releases/city-digital-services-plain-language/",
            "ar-home": "/ar/",
            "ru-home": "/ru/",
            "landing": "/",
        }
        for name, url in views.items():
            page.goto(base_url + url)
            for width in (390, 1280):
                shot = screenshot(page, shots / f"{name}-{width}.png", width)
                assert shot.stat().st_size > 10_000
    SHOTS_COPY.mkdir(exist_ok=True)
    for shot in shots.iterdir():
        shutil.copy(shot, SHOTS_COPY / f"site-{shot.name}")
