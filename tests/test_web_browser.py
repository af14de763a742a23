"""End to end in Debian's Chromium: subscribe in Russian, confirm from the email in outbox/, change
preferences, unsubscribe from an email's link; one-click POST; axe-core on every page; screenshots.

Screenshots (390 px wide, a phone) go to /tmp/shots/web-*.png for people to look at.
"""

from __future__ import annotations

import http.client
import re
import socket
from collections.abc import Iterator
from datetime import UTC, datetime
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

import pytest

from newsroom.config import Settings, load_settings
from newsroom.delivery.worker import deliver
from newsroom.subscribers import store
from newsroom.web.app import BackgroundWeb
from tests.support.browser import axe_violations, chromium_available, launch_browser, screenshot
from tests.web_support import body_text

SHOTS = Path("/tmp/shots")
pytestmark = pytest.mark.skipif(not chromium_available(), reason="needs Debian's chromium")


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


@pytest.fixture
def live(sample_root: Path) -> Iterator[tuple[str, Settings]]:
    """The app under uvicorn on 127.0.0.1 (a thread), with email links pointing at it."""
    port = free_port()
    base = f"http://127.0.0.1:{port}"
    settings = load_settings(
        sample_root,
        environ={"NEWSROOM_BASE_URL": base, "NEWSROOM_DATABASE_URL": f"sqlite:///{sample_root / 'var/s.db'}"},
    )
    web = BackgroundWeb(settings, port=port).start()
    yield base, settings
    web.stop()


def check_page(page: Any, name: str) -> None:
    """No axe-core violations, and a phone-sized screenshot to look at."""
    violations = axe_violations(page)
    assert violations == [], f"{name}: " + "; ".join(f"{v['id']}: {v['help']}" for v in violations)
    screenshot(page, SHOTS / f"web-{name}.png", 390)


def newest_email(settings: Settings) -> Any:
    import email
    import email.policy

    files = sorted((settings.outbox_dir / "email" / "new").glob("*.eml"), key=lambda p: p.stat().st_mtime)
    return email.message_from_bytes(files[-1].read_bytes(), policy=email.policy.default)


def link(message: Any, base: str, purpose: str) -> str:
    found = re.search(rf"{re.escape(base)}/{purpose}/[A-Za-z0-9._-]+", body_text(message))
    assert found, body_text(message)
    return found.group(0)


def run_deliver(settings: Settings) -> int:
    return deliver(settings, datetime.now(UTC)).sent


def test_subscribe_in_russian_confirm_change_preferences_and_unsubscribe(live: tuple[str, Settings]) -> None:
    base, settings = live
    with launch_browser() as browser:
        page = browser.new_page(viewport={"width": 390, "height": 800}, locale="ru-RU")
        page.goto(f"{base}/subscribe")  # Accept-Language: ru from the browser's locale
        assert page.locator("html").get_attribute("lang") == "ru"
        check_page(page, "subscribe-ru")

        page.fill("#address", "ivan@example")
        page.check("#scope-some")
        page.click("button[type=submit]")
        assert page.locator(".error-summary").is_visible()
        assert page.evaluate("document.activeElement.id") == "address"  # focus on the first error
        assert page.input_value("#address") == "ivan@example"
        check_page(page, "subscribe-errors-ru")

        page.fill("#address", "Ivan.Petrov@example.com")
        page.check("#topic-health")
        page.check("#frequency-daily")
        page.click("button[type=submit]")
        assert "Проверьте почту или телефон" in page.inner_text("h1")
        check_page(page, "check-ru")

        assert run_deliver(settings) == 1
        confirmation = newest_email(settings)
        assert confirmation["To"] == "ivan.petrov@example.com"
        page.goto(link(confirmation, base, "confirm"))
        check_page(page, "confirm-ru")
        page.click("button[type=submit]")
        assert "Вы подписаны" in page.inner_text("h1")
        check_page(page, "confirmed-ru")

        page.click("a[href^='/preferences/']")
        assert page.is_checked("#topic-health") and page.is_checked("#frequency-daily")
        check_page(page, "preferences-ru")
        page.select_option("#language", "ar")
        page.check("#topic-transportation")
        page.check("#frequency-weekly")
        page.click("button[type=submit]")
        assert page.locator("html").get_attribute("dir") == "rtl"
        assert page.locator("[role=status]").is_visible()
        check_page(page, "preferences-saved-ar")

        # Subscribing an active address again: the same page, and an email with the personal links.
        page.goto(f"{base}/subscribe?lang=ru")
        page.fill("#address", "ivan.petrov@example.com")
        page.click("button[type=submit]")
        assert run_deliver(settings) == 1
        reminder = newest_email(settings)
        page.goto(link(reminder, base, "unsubscribe"))
        assert page.locator("html").get_attribute("dir") == "rtl"  # their language is Arabic now
        check_page(page, "unsubscribe-ar")
        page.click("button[type=submit]")
        check_page(page, "goodbye-ar")

    engine_url = settings.database_url
    from newsroom.subscribers.db import engine_for

    engine = engine_for(engine_url)
    with engine.connect() as conn:
        subscriber = store.find_subscriber(conn, "ivan.petrov@example.com")
        assert subscriber is not None and subscriber.status == "unsubscribed"
        assert subscriber.language == "ar" and subscriber.subscriptions == ()
        log = store.consent_history(conn, subscriber_id=subscriber.id)
    engine.dispose()
    assert [row["action"] for row in log] == ["subscribe", "confirm", "preferences", "unsubscribe"]
    (chosen,) = log[2]["detail"]["subscriptions"]
    assert (chosen["frequency"], chosen["topics"]) == ("weekly", ["health", "transportation"])


def test_one_click_post_from_a_mail_client(live: tuple[str, Settings]) -> None:
    base, settings = live
    with launch_browser() as browser:
        page = browser.new_page(viewport={"width": 390, "height": 800}, locale="es-ES")
        page.goto(f"{base}/subscribe")
        page.fill("#address", "rosa@example.com")
        page.click("button[type=submit]")
        run_deliver(settings)
        page.goto(link(newest_email(settings), base, "confirm"))
        page.click("button[type=submit]")
        page.goto(f"{base}/subscribe")
        page.fill("#address", "rosa@example.com")
        page.click("button[type=submit]")
        run_deliver(settings)
        unsubscribe_url = link(newest_email(settings), base, "unsubscribe")

        # What Gmail and friends do: a bare POST, no cookies, no CSRF token.
        parts = urlsplit(unsubscribe_url)
        connection = http.client.HTTPConnection(parts.hostname or "", parts.port, timeout=10)
        connection.request("POST", parts.path, body="List-Unsubscribe=One-Click",
                           headers={"Content-Type": "application/x-www-form-urlencoded"})  # fmt: skip
        answer = connection.getresponse()
        html = answer.read().decode()
        connection.close()
        assert answer.status == 200 and answer.getheader("Set-Cookie") is None
        assert "Canceló su suscripción" in html

        page.goto(unsubscribe_url)  # the same link opened later shows the goodbye page, in Spanish
        assert "Canceló su suscripción" in page.inner_text("h1")
        check_page(page, "one-click-after-es")
