"""Short-link pages in a real browser (Debian's Chromium): they forward to the release in the reader's
language, and the page itself passes axe-core while it is shown."""

from __future__ import annotations

from pathlib import Path

import pytest

from newsroom.config import Settings
from newsroom.content.loader import load_newsroom
from newsroom.gate import gate
from newsroom.render.sms import compose_alert, sms_redirect_units
from tests.conftest import SAMPLE_NOW
from tests.support.browser import AXE_JS, axe_violations, chromium_available, launch_browser, screenshot

pytestmark = [
    pytest.mark.browser,
    pytest.mark.skipif(
        not chromium_available() or not AXE_JS.is_file(), reason="needs chromium and axe-core"
    ),
]


def _write_site(settings: Settings, folder: Path) -> None:
    published = gate(load_newsroom(settings), SAMPLE_NOW)
    for unit in sms_redirect_units(published):
        for artifact in unit.render(*unit.args):
            (folder / artifact.path).parent.mkdir(parents=True, exist_ok=True)
            (folder / artifact.path).write_bytes(artifact.data)


@pytest.mark.parametrize(
    ("slug", "language"), [("new-york-experience", "ru"), ("city-digital-services-plain-language", "ar")]
)
def test_the_short_link_opens_the_release_in_the_readers_language(
    sample_settings: Settings, tmp_path: Path, slug: str, language: str
) -> None:
    _write_site(sample_settings, tmp_path)
    alert = compose_alert(load_newsroom(sample_settings).by_slug(slug), language, sample_settings)
    page_file = tmp_path / alert.link.removeprefix(sample_settings.site.base_url + "/") / "index.html"
    target = f"{sample_settings.site.base_url}/{language}/releases/{slug}/"
    with launch_browser() as browser:
        page = browser.new_page()
        # The site's host is not reachable from tests: answer for it, so the forward can complete.
        page.route(
            f"{sample_settings.site.base_url}/**",
            lambda route: route.fulfill(status=200, content_type="text/html", body="<title>release</title>"),
        )
        page.goto(page_file.as_uri())
        page.wait_for_url(target, timeout=10_000)
        assert page.title() == "release"


def test_the_short_link_page_is_accessible(sample_settings: Settings, tmp_path: Path) -> None:
    _write_site(sample_settings, tmp_path)
    alert = compose_alert(
        load_newsroom(sample_settings).by_slug("city-digital-services-plain-language"), "ar", sample_settings
    )
    page_file = tmp_path / alert.link.removeprefix(sample_settings.site.base_url + "/") / "index.html"
    with launch_browser() as browser:
        page = browser.new_page()
        # 204 No Content: the browser keeps showing the short-link page instead of forwarding.
        page.route(f"{sample_settings.site.base_url}/**", lambda route: route.fulfill(status=204))
        with page.expect_request(f"{sample_settings.site.base_url}/**"):
            page.goto(page_file.as_uri())
        assert page.locator("a").inner_text() == "الانتقال إلى البيان الصحفي"
        assert axe_violations(page) == []
        screenshot(page, tmp_path / "redirect-ar-390.png", 390)
