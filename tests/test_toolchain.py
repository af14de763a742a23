"""Smoke tests: the test tool chain works for real on this machine.

Chromium + axe-core (marker `browser`), the Nu HTML checker (marker `vnu`) and a
Kannel gateway with a fake phone (marker `kannel`).  A test is skipped only when
the program it needs is not installed (scripts/setup-debian.sh installs them);
a missing node_modules is a failure (run scripts/setup-node.sh).
"""

from __future__ import annotations

import http.server
import sys
import threading
import time
import urllib.parse
import urllib.request
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pytest

ROOT = Path(__file__).resolve().parents[1]
if str(ROOT) not in sys.path:  # when pytest is started from another directory
    sys.path.insert(0, str(ROOT))

from tests.support import browser as br  # noqa: E402
from tests.support import htmlcheck  # noqa: E402
from tests.support import kannel as kn  # noqa: E402

GOOD_HTML = """<!doctype html>
<html lang="ru">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<meta http-equiv="Content-Security-Policy" content="default-src 'self'; script-src 'none'">
<title>Пресс-релиз</title>
</head>
<body>
<main>
<h1>Город открывает новые цифровые услуги</h1>
<p>Новости на русском, English, العربية and 中文.</p>
<img src="data:image/gif;base64,R0lGODlhAQABAAAAACw=" alt="Логотип мэрии" width="1" height="1">
</main>
</body>
</html>
"""

BAD_HTML = """<!doctype html>
<html lang="en">
<head><meta charset="utf-8"><title>Bad page</title></head>
<body><main><h1>Bad page</h1><img src="data:image/gif;base64,R0lGODlhAQABAAAAACw="></main></body>
</html>
"""

INVALID_HTML = """<!doctype html>
<html lang="en">
<head><meta charset="utf-8"><title>Invalid</title></head>
<body><p><div>block in paragraph</p><blink>x</blink></body>
</html>
"""


# --------------------------------------------------------------------------- browser


@pytest.fixture(scope="module")
def chromium() -> Iterator[Any]:
    if not br.chromium_available():
        pytest.skip(f"{br.CHROMIUM} not installed (apt-get install chromium)")
    with br.launch_browser() as b:
        yield b


@pytest.mark.browser
def test_axe_finds_missing_alt_on_bad_page(chromium: Any, tmp_path: Path) -> None:
    page_file = tmp_path / "bad.html"
    page_file.write_text(BAD_HTML, encoding="utf-8")
    page = chromium.new_page()
    try:
        page.goto(page_file.as_uri())
        ids = [v["id"] for v in br.axe_violations(page)]
    finally:
        page.close()
    assert "image-alt" in ids


@pytest.mark.browser
def test_axe_passes_good_page_and_screenshot(chromium: Any, tmp_path: Path) -> None:
    page_file = tmp_path / "good.html"
    page_file.write_text(GOOD_HTML, encoding="utf-8")
    page = chromium.new_page()
    try:
        page.goto(page_file.as_uri())
        assert page.title() == "Пресс-релиз"
        violations = br.axe_violations(page)
        png = br.screenshot(page, tmp_path / "good-390.png", 390)
    finally:
        page.close()
    assert violations == [], [v["id"] for v in violations]
    data = png.read_bytes()
    assert data[:8] == b"\x89PNG\r\n\x1a\n"
    assert int.from_bytes(data[16:20], "big") == 390  # IHDR width


# --------------------------------------------------------------------------- vnu


@pytest.mark.vnu
def test_vnu_reports_invalid_file_and_passes_valid_one(tmp_path: Path) -> None:
    if htmlcheck.java_path() is None:
        pytest.skip("java not installed (apt-get install default-jre-headless)")
    valid = tmp_path / "valid.html"
    valid.write_text(GOOD_HTML, encoding="utf-8")
    invalid = tmp_path / "invalid.html"
    invalid.write_text(INVALID_HTML, encoding="utf-8")

    assert htmlcheck.validate_html([valid]) == []
    errors = htmlcheck.validate_html([valid, invalid])  # one JVM for both
    assert errors, "vnu found no error in an invalid file"
    assert all("invalid.html" in e for e in errors), errors
    assert any("blink" in e for e in errors), errors


# --------------------------------------------------------------------------- kannel


@dataclass
class InboundApp:
    """A tiny stand-in for the app's /sms/inbound endpoint (http.server in a thread)."""

    url: str = ""
    requests: list[dict[str, str]] = field(default_factory=list)
    reply: str = ""
    cond: threading.Condition = field(default_factory=threading.Condition)

    def wait_for(self, n: int, timeout: float = 5.0) -> list[dict[str, str]]:
        deadline = time.monotonic() + timeout
        with self.cond:
            while len(self.requests) < n and time.monotonic() < deadline:
                self.cond.wait(0.1)
            return list(self.requests)


@pytest.fixture(scope="module")
def inbound_app() -> Iterator[InboundApp]:
    app = InboundApp()

    class Handler(http.server.BaseHTTPRequestHandler):
        def do_GET(self) -> None:
            split = urllib.parse.urlsplit(self.path)
            query = dict(urllib.parse.parse_qsl(split.query, encoding="utf-8", errors="strict"))
            query["_path"] = split.path
            body = b""
            if split.path == "/sms/inbound":
                body = app.reply.encode("utf-8")
            self.send_response(200)
            self.send_header("Content-Type", "text/plain; charset=utf-8")
            self.send_header("X-Kannel-Coding", "2")  # send the reply as UCS-2 (Cyrillic)
            self.send_header("Content-Length", str(len(body)))
            self.end_headers()
            self.wfile.write(body)
            with app.cond:
                app.requests.append(query)
                app.cond.notify_all()

        def log_message(self, format: str, *args: Any) -> None:
            pass

    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    thread = threading.Thread(target=server.serve_forever, name="inbound-app", daemon=True)
    thread.start()
    app.url = f"http://127.0.0.1:{server.server_port}"
    try:
        yield app
    finally:
        server.shutdown()
        server.server_close()
        thread.join(5)


@pytest.fixture(scope="module")
def gateway(inbound_app: InboundApp) -> Iterator[kn.KannelGateway]:
    reason = kn.kannel_missing()
    if reason:
        pytest.skip(reason)
    with kn.KannelGateway(get_url=f"{inbound_app.url}/sms/inbound", startup_timeout=15) as kg:
        yield kg


NO_PROXY = urllib.request.build_opener(urllib.request.ProxyHandler({}))


@pytest.mark.kannel
def test_kannel_mt_cyrillic_reaches_phone(gateway: kn.KannelGateway) -> None:
    text = "Пресс-релиз: город открывает цифровые услуги"
    query = urllib.parse.urlencode(
        {
            "username": gateway.username,
            "password": gateway.password,
            "from": "NEWSROOM",
            "to": "+79001234567",
            "text": text,
        }
    )
    with NO_PROXY.open(f"{gateway.sendsms_url}?{query}&charset=UTF-8&coding=2", timeout=10) as r:
        answer = r.read().decode()
    assert r.status == 202, answer
    got = gateway.received(timeout=5)
    assert [(m.sender, m.receiver, m.text, m.coding) for m in got] == [
        ("NEWSROOM", "+79001234567", text, "ucs-2")
    ], gateway.logs()


@pytest.mark.kannel
def test_kannel_mo_stop_reaches_app_and_reply_reaches_phone(
    gateway: kn.KannelGateway, inbound_app: InboundApp
) -> None:
    inbound_app.reply = "Вы отписаны от рассылки. START — подписаться снова"
    before = len(inbound_app.requests)
    gateway.send_from_phone("+79001234567", "1234", "СТОП")

    requests = inbound_app.wait_for(before + 1)
    assert len(requests) == before + 1, gateway.logs()
    req = requests[-1]
    assert req["_path"] == "/sms/inbound"
    assert req["text"] == "СТОП"
    assert req["charset"] == "UTF-8"
    assert req["from"] == "+79001234567"
    assert req["to"] == "1234"

    got = gateway.received(timeout=5)
    assert [(m.sender, m.receiver, m.text) for m in got] == [("1234", "+79001234567", inbound_app.reply)], (
        gateway.logs()
    )


@pytest.mark.kannel
def test_kannel_delivery_report_reaches_dlr_url(gateway: kn.KannelGateway, inbound_app: InboundApp) -> None:
    before = len(inbound_app.requests)
    gateway.sendsms(
        "+34600000001",
        "Nota de prensa",
        **{"dlr-mask": "1", "dlr-url": f"{inbound_app.url}/sms/dlr?status=%d&to=%p"},
    )
    assert [m.text for m in gateway.received(timeout=5)] == ["Nota de prensa"]
    requests = inbound_app.wait_for(before + 1)
    dlrs = [r for r in requests[before:] if r["_path"] == "/sms/dlr"]
    assert dlrs == [{"_path": "/sms/dlr", "status": "1", "to": "+34600000001"}], gateway.logs()
