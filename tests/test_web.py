"""The subscription web app through HTTP: flows, tokens, enumeration, CSRF, rate limits, headers, API.

Every test runs on SQLite and, when NEWSROOM_TEST_DATABASE_URL is set, on PostgreSQL too.
"""

from __future__ import annotations

import os
import re
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest
from fastapi.testclient import TestClient

from newsroom.errors import ConfigError
from newsroom.subscribers import store
from newsroom.subscribers.tokens import make_token
from newsroom.web.app import create_app
from newsroom.web.security import Limit, Limits
from tests.conftest import SAMPLE_NOW
from tests.support.htmlcheck import validate_html, vnu_available
from tests.web_support import WebRig, body_text, csrf_of, link_in, make_rig, make_settings

pytest_plugins = ["tests.support.web_fixtures"]  # database_url: SQLite and PostgreSQL

TEMPLATES = Path(__file__).resolve().parents[1] / "templates" / "web"


@pytest.fixture
def rig(sample_root: Path, database_url: str) -> Iterator[WebRig]:
    made = make_rig(sample_root, database_url, SAMPLE_NOW)
    yield made
    made.engine.dispose()


def confirmed(rig: WebRig, address: str, language: str = "en") -> None:
    """Subscribe and confirm `address` through the pages, as a person would."""
    assert rig.subscribe(address, language).status_code == 200
    rig.deliver()
    confirm = link_in(rig.outbox_emails()[-1], "confirm")
    page = rig.client.get(confirm)
    assert rig.client.post(confirm, data={"csrf_token": csrf_of(page.text)}).status_code == 200


# --- the main flow -----


def test_subscribe_confirm_and_unsubscribe_by_email(rig: WebRig) -> None:
    answer = rig.subscribe(
        "Ana@Example.com", "es", scope="some", topics=["health", "jobs"], frequency="daily"
    )
    assert answer.status_code == 200
    assert "Check your email or phone" in answer.text
    assert rig.subscriber("ana@example.com").status == "pending"  # type: ignore[union-attr]
    assert rig.deliver().sent == 1

    (message,) = rig.outbox_emails()
    assert message["To"] == "ana@example.com"
    confirm = link_in(message, "confirm")
    page = rig.client.get(confirm)
    assert page.status_code == 200 and 'lang="es"' in page.text
    assert rig.subscriber("ana@example.com").status == "pending"  # type: ignore[union-attr]  # GET confirms nothing

    done = rig.client.post(confirm, data={"csrf_token": csrf_of(page.text)})
    assert done.status_code == 200 and "Su suscripción está activa" in done.text
    subscriber = rig.subscriber("ana@example.com")
    assert subscriber is not None and subscriber.status == "active" and subscriber.language == "es"
    assert subscriber.subscriptions[0].topics == ("health", "jobs")
    assert subscriber.subscriptions[0].frequency == "daily"
    actions = [(row["action"], row["source"]) for row in rig.consent("ana@example.com")]
    assert actions == [("subscribe", "web"), ("confirm", "email")]


def test_preferences_change_language_topics_frequency_and_add_a_number(rig: WebRig) -> None:
    confirmed(rig, "li@example.com")
    subscriber = rig.subscriber("li@example.com")
    assert subscriber is not None
    path = f"/preferences/{make_token(subscriber.id, 'preferences', SAMPLE_NOW)}"
    page = rig.client.get(path)
    form = {"csrf_token": csrf_of(page.text), "language": "zh", "scope": "some", "topics": ["technology"],
            "frequency": "weekly", "email": "on", "sms": "on", "phone": "(212) 555-0143"}  # fmt: skip
    saved = rig.client.post(path, data=form)
    assert saved.status_code == 200 and 'lang="zh"' in saved.text and "您的设置已保存" in saved.text
    after = rig.subscriber("li@example.com")
    assert after is not None and after.language == "zh" and after.phone == "+12125550143"
    (email_sub,) = after.subscriptions  # the number has no subscription until it answers YES
    assert (email_sub.topics, email_sub.frequency) == (("technology",), "weekly")
    rig.deliver()
    (text,) = rig.outbox_texts()
    assert "+12125550143" in text
    actions = [row["action"] for row in rig.consent("li@example.com")] + [
        row["action"] for row in rig.consent("+12125550143")
    ]
    assert actions == ["subscribe", "confirm", "preferences", "subscribe"]

    removed = rig.client.post(path, data={**form, "sms": "", "phone": ""})
    assert removed.status_code == 200
    assert rig.subscriber("li@example.com").phone is None  # type: ignore[union-attr]


def test_a_mobile_number_gets_a_yes_request_and_stays_pending(rig: WebRig) -> None:
    assert rig.subscribe("+1 212 555 0188", "ru").status_code == 200
    subscriber = rig.subscriber("+12125550188")
    assert subscriber is not None and subscriber.status == "pending"
    assert subscriber.subscriptions[0].channel == "sms"
    rig.deliver()
    (text,) = rig.outbox_texts()
    assert "+12125550188" in text and "ответьте YES" in text  # the carriers' keyword, in Russian words


# --- RFC 8058 one-click, and GET never unsubscribes -----


@pytest.mark.parametrize("encoding", ["urlencoded", "multipart"])
def test_one_click_post_without_cookies_unsubscribes_and_answers_200(rig: WebRig, encoding: str) -> None:
    confirmed(rig, "omar@example.com", "ar")
    subscriber = rig.subscriber("omar@example.com")
    assert subscriber is not None
    path = f"/unsubscribe/{make_token(subscriber.id, 'unsubscribe', SAMPLE_NOW)}"
    rig.client.cookies.clear()
    body = {"List-Unsubscribe": "One-Click"}
    if encoding == "multipart":
        answer = rig.client.post(
            path, files={"List-Unsubscribe": (None, "One-Click")}, follow_redirects=False
        )
    else:
        answer = rig.client.post(path, data=body, follow_redirects=False)
    assert answer.status_code == 200
    assert "set-cookie" not in answer.headers
    assert 'dir="rtl"' in answer.text  # the goodbye page in the subscriber's language
    after = rig.subscriber("omar@example.com")
    assert after is not None and after.status == "unsubscribed" and after.subscriptions == ()
    with rig.engine.connect() as conn:
        assert store.suppression_of(conn, "omar@example.com") == "unsubscribed"
    last = rig.consent("omar@example.com")[-1]
    assert (last["action"], last["source"]) == ("unsubscribe", "email")

    again = rig.client.post(path, data=body)  # mail clients retry: still 200, no second record
    assert again.status_code == 200
    assert [row["action"] for row in rig.consent("omar@example.com")].count("unsubscribe") == 1


def test_get_shows_the_unsubscribe_page_and_never_unsubscribes(rig: WebRig) -> None:
    confirmed(rig, "kim@example.com")
    subscriber = rig.subscriber("kim@example.com")
    assert subscriber is not None
    path = f"/unsubscribe/{make_token(subscriber.id, 'unsubscribe', SAMPLE_NOW)}"
    for _ in range(3):
        page = rig.client.get(path)
        assert page.status_code == 200 and "<button" in page.text and "kim@example.com" in page.text
    assert rig.subscriber("kim@example.com").status == "active"  # type: ignore[union-attr]
    bye = rig.client.post(path, data={})  # the page's button
    assert bye.status_code == 200 and "Subscribe again" in bye.text
    back = rig.client.post(f"/resubscribe/{path.rsplit('/', 1)[1]}", data={"csrf_token": csrf_of(bye.text)})
    assert back.status_code == 200 and "Welcome back" in back.text
    assert rig.subscriber("kim@example.com").status == "active"  # type: ignore[union-attr]
    back_again = rig.subscriber("kim@example.com")
    assert back_again is not None and [s.channel for s in back_again.subscriptions] == ["email"]
    log = rig.consent("kim@example.com")
    assert [row["action"] for row in log] == ["subscribe", "confirm", "unsubscribe", "subscribe"]
    assert log[-1]["detail"]["resubscribe"] is True and log[-1]["source"] == "web"


# --- tokens -----


def test_tampered_token_gets_a_friendly_localized_page(rig: WebRig) -> None:
    confirmed(rig, "eve@example.com")
    subscriber = rig.subscriber("eve@example.com")
    assert subscriber is not None
    token = make_token(subscriber.id, "unsubscribe", SAMPLE_NOW)
    tampered = token[:-3] + ("AAA" if not token.endswith("AAA") else "BBB")
    for method in ("get", "post"):
        page = getattr(rig.client, method)(f"/unsubscribe/{tampered}", headers={"Accept-Language": "ru"})
        assert page.status_code == 400
        assert "Эта ссылка не работает" in page.text and "Traceback" not in page.text
    assert rig.subscriber("eve@example.com").status == "active"  # type: ignore[union-attr]


def test_a_token_cannot_act_for_another_person_or_purpose(rig: WebRig) -> None:
    confirmed(rig, "a@example.com")
    confirmed(rig, "b@example.com")
    a, b = rig.subscriber("a@example.com"), rig.subscriber("b@example.com")
    assert a is not None and b is not None
    token_a = make_token(a.id, "unsubscribe", SAMPLE_NOW)
    _payload, _, signature = token_a.partition(".")
    forged = make_token(b.id, "unsubscribe", SAMPLE_NOW).partition(".")[0] + "." + signature
    assert (
        rig.client.post(f"/unsubscribe/{forged}", data={"List-Unsubscribe": "One-Click"}).status_code == 400
    )
    # a preferences token does not unsubscribe, an unsubscribe token does not open preferences
    preferences = make_token(b.id, "preferences", SAMPLE_NOW)
    assert (
        rig.client.post(f"/unsubscribe/{preferences}", data={"List-Unsubscribe": "One-Click"}).status_code
        == 400
    )
    assert rig.client.get(f"/preferences/{token_a}").status_code == 400
    assert rig.client.get(f"/confirm/{token_a}").status_code == 400
    assert rig.subscriber("b@example.com").status == "active"  # type: ignore[union-attr]


def test_confirmation_link_expires_after_seven_days(rig: WebRig) -> None:
    rig.subscribe("late@example.com")
    rig.deliver()
    confirm = link_in(rig.outbox_emails()[-1], "confirm")
    rig.clock.advance(days=6, hours=23)
    assert rig.client.get(confirm).status_code == 200
    rig.clock.advance(hours=2)
    page = rig.client.get(confirm, headers={"Accept-Language": "es-MX,es;q=0.9"})
    assert page.status_code == 410 and "Este enlace ha caducado" in page.text
    assert rig.client.post(confirm, data={"csrf_token": rig.csrf()}).status_code == 410
    assert rig.subscriber("late@example.com").status == "pending"  # type: ignore[union-attr]


# --- no enumeration -----


def test_subscribe_answers_identically_for_new_pending_active_and_unsubscribed(rig: WebRig) -> None:
    confirmed(rig, "active@example.com")
    confirmed(rig, "gone@example.com")
    gone = rig.subscriber("gone@example.com")
    assert gone is not None
    rig.client.post(f"/unsubscribe/{make_token(gone.id, 'unsubscribe', SAMPLE_NOW)}", data={})
    rig.subscribe("pending@example.com")
    rig.deliver()
    before = len(rig.outbox_emails())

    token = rig.csrf()
    answers = []
    for address in ("new@example.com", "pending@example.com", "active@example.com", "gone@example.com"):
        data = {"address": address, "language": "en", "scope": "all", "frequency": "immediate", "lang": "en",
                "csrf_token": token}  # fmt: skip
        answer = rig.client.post("/subscribe", data=data)
        headers = {k: v for k, v in answer.headers.items() if k.lower() != "date"}
        answers.append((answer.status_code, headers, answer.content))
    assert all(answer == answers[0] for answer in answers), "responses differ between address states"

    rig.deliver()
    sent = {str(m["To"]): m for m in rig.outbox_emails()[before:]}
    assert sorted(sent) == sorted(["new@example.com", "pending@example.com", "active@example.com",
                                   "gone@example.com"])  # fmt: skip
    assert "already subscribed" in str(sent["active@example.com"]["Subject"])
    assert "/preferences/" in body_text(sent["active@example.com"])
    for address in ("new@example.com", "pending@example.com", "gone@example.com"):
        assert "/confirm/" in body_text(sent[address])
    assert rig.subscriber("active@example.com").status == "active"  # type: ignore[union-attr]
    assert rig.subscriber("gone@example.com").status == "pending"  # type: ignore[union-attr]


# --- CSRF, validation, rate limits -----


def test_form_posts_need_the_csrf_token(rig: WebRig) -> None:
    data = {"address": "x@example.com", "language": "en", "scope": "all", "frequency": "immediate"}
    assert rig.client.post("/subscribe", data=data).status_code == 403  # no cookie, no field
    assert rig.client.post("/subscribe").status_code == 403  # an empty post gets the form, not an error 500
    token = rig.csrf()
    assert rig.client.post("/subscribe", data={**data, "csrf_token": token + "x"}).status_code == 403
    rig.client.cookies.set("newsroom_csrf", "forged.0123")
    assert rig.client.post("/subscribe", data={**data, "csrf_token": "forged.0123"}).status_code == 403
    assert rig.subscriber("x@example.com") is None


def test_bad_input_returns_the_form_with_errors_linked_and_input_kept(rig: WebRig) -> None:
    answer = rig.subscribe("not-an-address", "ru", scope="some", frequency="weekly", lang="ru")
    assert answer.status_code == 400
    html = answer.text
    assert 'value="not-an-address"' in html
    assert re.search(r'<input id="address"[^>]*aria-describedby="address-hint address-error"', html)
    assert re.search(r'<input id="address"[^>]*aria-invalid="true"[^>]*autofocus', html)
    assert 'href="#address"' in html and 'href="#scope-some"' in html  # the error summary links
    assert 'id="frequency-weekly" name="frequency" value="weekly" checked' in html
    assert '<option value="ru" lang="ru" selected>' in html
    assert "Введите адрес почты" in html  # the page stays in the language it was sent from
    assert rig.subscriber("not-an-address") is None


def test_rate_limits_per_target_and_per_client(sample_root: Path, database_url: str) -> None:
    limits = Limits(per_client=Limit(capacity=6, refill_seconds=3600), per_target=Limit(3, 3600))
    rig = make_rig(sample_root, database_url, SAMPLE_NOW, limits)
    codes = [rig.subscribe("victim@example.com").status_code for _ in range(4)]
    assert codes == [200, 200, 200, 429]
    limited = rig.subscribe("victim@example.com")
    assert "Too many requests" in limited.text and limited.headers["Retry-After"]
    rig.deliver()
    assert len(rig.outbox_emails()) == 3  # the form cannot mail-bomb one address
    codes = [rig.subscribe(f"p{i}@example.com").status_code for i in range(2)]
    assert codes == [200, 429]  # 6 per client (the 5 above and one more)
    rig.engine.dispose()


# --- language, headers, production -----


def test_language_from_query_then_accept_language_then_default(rig: WebRig) -> None:
    assert 'lang="ar" dir="rtl"' in rig.client.get("/subscribe", headers={"Accept-Language": "ar"}).text
    assert 'lang="zh"' in rig.client.get("/subscribe", headers={"Accept-Language": "zh-CN,zh;q=0.9"}).text
    page = rig.client.get("/subscribe?lang=ht", headers={"Accept-Language": "ar"})
    assert 'lang="ht" dir="ltr"' in page.text and "Abòne" in page.text
    assert 'lang="en"' in rig.client.get("/subscribe", headers={"Accept-Language": "de, fr;q=0.5"}).text


def test_security_headers_and_no_inline_script_or_style(rig: WebRig) -> None:
    page = rig.client.get("/subscribe")
    csp = page.headers["Content-Security-Policy"]
    assert "frame-ancestors 'none'" in csp and "unsafe-inline" not in csp and "script-src" not in csp
    assert page.headers["X-Content-Type-Options"] == "nosniff"
    assert page.headers["Referrer-Policy"] == "no-referrer"
    assert "samesite=strict" in page.headers["set-cookie"].lower()
    for template in TEMPLATES.glob("*.html"):
        source = template.read_text(encoding="utf-8")
        assert "<script" not in source and "style=" not in source and "<style" not in source, template.name
    missing = rig.client.get("/no-such-page", headers={"Accept-Language": "ht"})
    assert missing.status_code == 404 and "Nou pa jwenn paj la" in missing.text


def test_refuses_to_start_in_production_with_the_development_key(
    sample_root: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    settings = make_settings(sample_root, f"sqlite:///{sample_root / 'var' / 'db.sqlite'}")
    monkeypatch.delenv("NEWSROOM_SECRET_KEY", raising=False)
    with pytest.raises(ConfigError, match="NEWSROOM_SECRET_KEY"):
        create_app(settings, environ={"NEWSROOM_ENV": "production"})
    monkeypatch.setenv("NEWSROOM_SECRET_KEY", "short")
    with pytest.raises(ConfigError, match="shorter than 32"):
        create_app(settings, environ={"NEWSROOM_ENV": "production"})
    monkeypatch.setenv("NEWSROOM_SECRET_KEY", "x" * 48)
    create_app(settings, environ={"NEWSROOM_ENV": "production"}).state.web.engine.dispose()
    monkeypatch.delenv("NEWSROOM_SECRET_KEY")
    create_app(settings, environ={}).state.web.engine.dispose()  # development: the default key is fine


# --- JSON API -----


def test_api_subscribe_confirm_preferences_unsubscribe(rig: WebRig) -> None:
    body = {"address": "api@example.com", "language": "ht", "topics": ["health"], "frequency": "daily"}
    first = rig.client.post("/api/subscribe", json=body)
    second = rig.client.post("/api/subscribe", json=body)
    assert first.status_code == second.status_code == 202 and first.json() == second.json()
    assert rig.client.post("/api/subscribe", data=body).status_code == 422  # JSON only: no cross-site forms
    bad = rig.client.post("/api/subscribe", json={**body, "address": "nope@", "topics": ["no-such-topic"]})
    assert bad.status_code == 422 and set(bad.json()["detail"]["errors"]) == {"address", "scope-some"}

    subscriber = rig.subscriber("api@example.com")
    assert subscriber is not None
    token = make_token(subscriber.id, "confirm", SAMPLE_NOW)
    assert rig.client.post("/api/confirm", json={"token": token}).json() == {"status": "active"}
    assert rig.client.post("/api/confirm", json={"token": token + "x"}).status_code == 400

    prefs = f"/api/preferences/{make_token(subscriber.id, 'preferences', SAMPLE_NOW)}"
    assert rig.client.get(prefs).json()["topics"] == ["health"]
    changed = rig.client.put(
        prefs, json={"language": "es", "topics": [], "frequency": "weekly", "email": True}
    )
    assert (
        changed.status_code == 200 and changed.json()["language"] == "es" and changed.json()["topics"] == []
    )

    gone = rig.client.post(f"/api/unsubscribe/{make_token(subscriber.id, 'unsubscribe', SAMPLE_NOW)}")
    assert gone.json() == {"status": "unsubscribed"}
    sources = [(row["action"], row["source"]) for row in rig.consent("api@example.com")]
    assert sources == [  # the second, identical request changed nothing: nothing logged
        ("subscribe", "api"),
        ("confirm", "email"),
        ("preferences", "api"),
        ("unsubscribe", "api"),
    ]

    schema = rig.client.get("/api/openapi.json").json()
    assert {"/api/subscribe", "/api/confirm", "/api/preferences/{token}", "/api/unsubscribe/{token}"} <= set(
        schema["paths"]
    )


def test_newsroom_deliver_in_another_process_sends_what_the_web_queued(rig: WebRig) -> None:
    """`newsroom deliver` (a fresh process) knows the web's message kinds (BUILDER_MODULES)."""
    confirmed(rig, "twice@example.com")
    rig.subscribe("twice@example.com")  # already active: gets the "already subscribed" email
    rig.subscribe("+1 646 555 0199")  # a number: the "reply YES" text
    env = {
        **os.environ,
        "PYTHONPATH": str(Path(__file__).resolve().parents[1]),
        "NEWSROOM_DATABASE_URL": rig.settings.database_url,
        "NEWSROOM_BASE_URL": "https://news.example.gov",
    }
    root, now = str(rig.settings.root), rig.clock().isoformat()
    command = [sys.executable, "-m", "newsroom", "deliver", "--root", root, "--now", now, "--quiet"]
    run = subprocess.run(command, env=env, capture_output=True, text=True, timeout=120, check=False)
    assert run.returncode == 0, run.stdout + run.stderr
    assert "2 sent" in run.stdout, run.stdout
    subjects = [str(m["Subject"]) for m in rig.outbox_emails()]
    assert any("already subscribed" in subject for subject in subjects)
    assert any("+16465550199" in text for text in rig.outbox_texts())


@pytest.mark.skipif(not vnu_available(), reason="needs Java and node_modules/vnu-jar")
def test_every_page_is_valid_html(rig: WebRig, tmp_path: Path) -> None:
    confirmed(rig, "valid@example.com", "ar")
    person = rig.subscriber("valid@example.com")
    assert person is not None
    unsubscribe = f"/unsubscribe/{make_token(person.id, 'unsubscribe', SAMPLE_NOW)}"
    preferences = f"/preferences/{make_token(person.id, 'preferences', SAMPLE_NOW)}"
    pages = {
        "subscribe": rig.client.get("/subscribe?lang=zh").text,
        "errors": rig.subscribe("nope", scope="some").text,
        "check": rig.subscribe("someone@example.com").text,
        "preferences": rig.client.get(preferences).text,
        "unsubscribe": rig.client.get(unsubscribe).text,
        "goodbye": rig.client.post(unsubscribe, data={}).text,
        "broken-link": rig.client.get("/confirm/not-a-token").text,
    }
    for name, html in pages.items():
        (tmp_path / f"{name}.html").write_text(html, encoding="utf-8")
    errors = validate_html(sorted(tmp_path.glob("*.html")))
    assert errors == [], "\n".join(errors)


def test_adding_numbers_on_the_preferences_page_is_rate_limited(sample_root: Path, database_url: str) -> None:
    limits = Limits(per_client=Limit(capacity=50, refill_seconds=3600), per_target=Limit(1, 3600))
    rig = make_rig(sample_root, database_url, SAMPLE_NOW, limits)
    confirmed(rig, "texts@example.com")
    person = rig.subscriber("texts@example.com")
    assert person is not None
    path = f"/preferences/{make_token(person.id, 'preferences', SAMPLE_NOW)}"
    form = {"csrf_token": csrf_of(rig.client.get(path).text), "language": "en", "scope": "all",
            "frequency": "immediate", "email": "on", "sms": "on"}  # fmt: skip
    codes = [rig.client.post(path, data={**form, "phone": phone}).status_code
             for phone in ("+12125550101", "+12125550102", "+12125550101")]  # fmt: skip
    assert codes == [200, 200, 429]  # the same number cannot be texted again and again
    rig.deliver()
    assert len(rig.outbox_texts()) == 2
    rig.engine.dispose()


def test_the_app_can_serve_the_built_site_beside_it(sample_root: Path, tmp_path: Path) -> None:
    site = tmp_path / "site"
    (site / "en").mkdir(parents=True)
    (site / "en" / "index.html").write_text("<!DOCTYPE html><p>Latest news", encoding="utf-8")
    settings = make_settings(sample_root, f"sqlite:///{tmp_path / 'db.sqlite'}")
    app = create_app(settings, site_dir=site)
    client = TestClient(app)
    assert "Latest news" in client.get("/en/").text
    assert "<form" in client.get("/subscribe").text  # the app's routes come first
    assert client.get("/en/no-such-page/").status_code == 404
    app.state.web.engine.dispose()
