"""Alerts through a real Kannel (bearerbox + smsbox) to fakesmsc, the test handset network."""

from __future__ import annotations

import threading
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from urllib.parse import parse_qs, urlsplit

import pytest

from newsroom.config import Settings
from newsroom.content.loader import load_newsroom
from newsroom.delivery.kannel import KannelConfigError, KannelSms, reply_headers
from newsroom.delivery.sms_keywords import parse_inbound, reply_for
from newsroom.delivery.sms_transport import SendStatus
from newsroom.delivery.throttle import TokenBucket
from newsroom.render.sms import compose_alert
from tests.sms_support import KannelGateway, free_port, kannel_available, settings_for_gateway

pytestmark = [
    pytest.mark.kannel,
    pytest.mark.skipif(not kannel_available(), reason="needs Debian's kannel and kannel-extras"),
]
PHONE = "+15185550100"


@pytest.fixture(scope="module")
def gateway(tmp_path_factory: pytest.TempPathFactory) -> Iterator[KannelGateway]:
    with KannelGateway(tmp_path_factory.mktemp("kannel")) as running:
        yield running


def _arrivals(gateway: KannelGateway, before: int, count: int) -> list:  # type: ignore[type-arg]
    return gateway.wait_for_messages(before + count)[before:]


def test_a_russian_alert_arrives_intact(gateway: KannelGateway, sample_settings: Settings) -> None:
    settings = settings_for_gateway(sample_settings, gateway)
    release = load_newsroom(settings).by_slug("new-york-experience")
    alert = compose_alert(release, "ru", settings)
    assert alert.is_ucs2 and alert.count.segments == 2
    before = len(gateway.received())
    with KannelSms(settings, password=gateway.password) as transport:
        outcome = transport.send(PHONE, alert.text, "delivery-ru-1")
    assert outcome.status is SendStatus.ACCEPTED, outcome
    (arrived,) = _arrivals(gateway, before, 1)
    assert (arrived.sender, arrived.receiver, arrived.text) == ("12345", PHONE, alert.text)
    assert arrived.parts == alert.count.segments  # our count is the network's count


def test_gsm7_alerts_in_every_latin_language_arrive_intact(
    gateway: KannelGateway, sample_settings: Settings
) -> None:
    settings = settings_for_gateway(sample_settings, gateway)
    release = load_newsroom(settings).by_slug("health-flu-clinics")
    alerts = [compose_alert(release, language, settings) for language in ("en", "es", "ht")]
    alerts.append(compose_alert(release, "zh", settings))
    before = len(gateway.received())
    with KannelSms(settings, password=gateway.password) as transport:
        for number, alert in enumerate(alerts):
            assert transport.send(f"+1518555020{number}", alert.text, f"flu-{number}").accepted
    arrived = {m.receiver: m for m in _arrivals(gateway, before, len(alerts))}
    for number, alert in enumerate(alerts):
        message = arrived[f"+1518555020{number}"]
        assert message.text == alert.text
        assert message.parts == alert.count.segments


def test_the_throttle_paces_sends_to_the_configured_rate(
    gateway: KannelGateway, sample_settings: Settings
) -> None:
    rate, total = 25, 60
    settings = settings_for_gateway(sample_settings, gateway, messages_per_second=rate)
    before = len(gateway.received())
    with KannelSms(settings, password=gateway.password) as transport:
        for number in range(total):
            assert transport.send(
                f"+1518555{number:04d}", f"Paced message {number}", f"pace-{number}"
            ).accepted
        bucket = transport.bucket
    assert bucket.rate == rate
    assert bucket.granted == total
    assert bucket.most_in_any_second() == rate  # never more than the rate in any one second...
    span = max(bucket.grant_times) - min(bucket.grant_times)
    assert span >= (total - 1) / rate - 1e-6  # ...so 60 messages take at least 59/25 s of slots
    assert sorted(m.text for m in _arrivals(gateway, before, total)) == sorted(
        f"Paced message {n}" for n in range(total)
    )


def test_wrong_password_stops_the_run_instead_of_failing_subscribers(
    gateway: KannelGateway, sample_settings: Settings
) -> None:
    settings = settings_for_gateway(sample_settings, gateway)
    with (
        KannelSms(settings, password="wrong") as transport,
        pytest.raises(KannelConfigError, match="PASSWORD"),
    ):
        transport.send(PHONE, "hello", "bad-login")


def test_a_rejected_number_is_permanent(gateway: KannelGateway, sample_settings: Settings) -> None:
    settings = settings_for_gateway(sample_settings, gateway)
    with KannelSms(settings, password=gateway.password) as transport:
        outcome = transport.send("", "hello", "no-number")
    assert outcome.status is SendStatus.PERMANENT
    assert "receiver" in outcome.detail


def test_a_gateway_that_is_down_is_temporary(sample_settings: Settings) -> None:
    port = free_port()  # nothing listens here
    settings = settings_for_gateway(sample_settings, None, url=f"http://127.0.0.1:{port}/cgi-bin/sendsms")
    with KannelSms(settings, password="x", bucket=TokenBucket(1000)) as transport:
        outcome = transport.send(PHONE, "hello", "down-1")
    assert outcome.status is SendStatus.TEMPORARY
    assert "refused" in outcome.detail.lower()


def test_dlr_url_points_back_to_the_web_app(sample_settings: Settings) -> None:
    transport = KannelSms(sample_settings, password="secret")
    query = parse_qs(transport.query(PHONE, "Привет", "delivery-42"))
    assert query["coding"] == ["2"] and query["charset"] == ["UTF-8"]
    assert query["from"] == ["12345"] and query["to"] == [PHONE]
    assert query["dlr-url"] == ["https://news.example.gov/sms/dlr?ref=delivery-42&status=%d&answer=%A&at=%T"]
    assert parse_qs(transport.query(PHONE, "Hello £5", "d"))["coding"] == ["0"]


class _Inbound(BaseHTTPRequestHandler):
    """Stands in for the web app's /sms/inbound: replies with the keyword reply as the body."""

    settings: Settings
    seen: list[dict[str, str]]

    def do_GET(self) -> None:
        query = {key: values[0] for key, values in parse_qs(urlsplit(self.path).query).items()}
        self.seen.append(query)
        reply = reply_for(parse_inbound(query.get("text", ""), self.settings), None, self.settings)
        body = reply.encode("utf-8")
        self.send_response(200)
        for name, value in reply_headers(reply).items():
            self.send_header(name, value)
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def log_message(self, format: str, *args: object) -> None:
        pass


def test_stop_in_russian_from_a_phone_gets_the_russian_confirmation(
    tmp_path: Path, sample_settings: Settings
) -> None:
    seen: list[dict[str, str]] = []
    handler = type("Handler", (_Inbound,), {"settings": sample_settings, "seen": seen})
    server = ThreadingHTTPServer(("127.0.0.1", 0), handler)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        url = f"http://127.0.0.1:{server.server_address[1]}/sms/inbound"
        with KannelGateway(tmp_path / "kannel", inbound_url=url) as gateway:
            gateway.phone_sends("+15185550177", "СТОП")
            (reply,) = gateway.wait_for_messages(1)
    finally:
        server.shutdown()
        server.server_close()
    assert seen[0]["text"] == "СТОП" and seen[0]["sender"] == "+15185550177"
    assert reply.receiver == "+15185550177"
    assert (
        reply.text
        == "State News: вы отписались и больше не получите сообщений. Чтобы вернуться, ответьте START."
    )
