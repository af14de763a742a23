"""Alerts through a real Kannel (bearerbox + smsbox) to fakesmsc, the test handset network."""

from __future__ import annotations

import socket
from collections.abc import Iterator
from itertools import pairwise
from urllib.parse import parse_qs

import pytest

from newsroom.config import Settings
from newsroom.content.loader import load_newsroom
from newsroom.delivery.base import OutgoingSms, PermanentFailure, Sent, TemporaryFailure
from newsroom.delivery.kannel import (
    KannelConfigError,
    KannelTransport,
    parse_delivery_report,
)
from newsroom.delivery.sms_keywords import parse_inbound, reply_for
from newsroom.delivery.throttle import TokenBucket
from newsroom.render.sms import compose_alert
from tests.sms_support import HandsetMessage, StandInWebApp, settings_for_gateway, wait_for_handset
from tests.support.kannel import KannelGateway, kannel_missing

pytestmark = [
    pytest.mark.kannel,
    pytest.mark.skipif(kannel_missing() is not None, reason=str(kannel_missing())),
]
PHONE = "+15185550100"


@pytest.fixture(scope="module")
def app() -> Iterator[StandInWebApp]:
    with StandInWebApp(lambda query: "") as running:
        yield running


@pytest.fixture(scope="module")
def gateway(app: StandInWebApp) -> Iterator[KannelGateway]:
    with KannelGateway(f"{app.base_url}/sms/inbound") as running:
        yield running


@pytest.fixture
def settings(sample_settings: Settings, gateway: KannelGateway, app: StandInWebApp) -> Settings:
    configured = settings_for_gateway(sample_settings, gateway, base_url=app.base_url)
    app.answer = lambda query: reply_for(parse_inbound(query.get("text", ""), configured), None, configured)
    return configured


def _shown_to(number: str, count: int, gateway: KannelGateway) -> list[HandsetMessage]:
    shown = wait_for_handset(gateway, lambda all_: len([m for m in all_ if m.receiver == number]) >= count)
    return [m for m in shown if m.receiver == number]


def test_a_russian_alert_arrives_intact(gateway: KannelGateway, settings: Settings) -> None:
    alert = compose_alert(load_newsroom(settings).by_slug("new-york-experience"), "ru", settings)
    assert alert.is_ucs2 and alert.count.segments == 2
    with KannelTransport(settings, password=gateway.password) as transport:
        outcome = transport.send(OutgoingSms("+15185550101", alert.text), "delivery-ru-1")
    assert isinstance(outcome, Sent), outcome
    (arrived,) = _shown_to("+15185550101", 1, gateway)
    assert arrived.text == alert.text
    assert arrived.text.endswith("/\nДля отписки ответьте STOP")
    assert arrived.parts == alert.count.segments  # our segment count is the network's


def test_alerts_in_every_language_arrive_intact(gateway: KannelGateway, settings: Settings) -> None:
    release = load_newsroom(settings).by_slug("health-flu-clinics")
    alerts = {
        f"+1518555020{n}": compose_alert(release, code, settings)
        for n, code in enumerate(settings.language_codes)
    }
    with KannelTransport(settings, password=gateway.password) as transport:
        for number, alert in alerts.items():
            assert isinstance(transport.send(OutgoingSms(number, alert.text), f"flu-{number[1:]}"), Sent)
    for number, alert in alerts.items():
        (arrived,) = _shown_to(number, 1, gateway)
        assert (arrived.sender, arrived.text, arrived.parts) == ("12345", alert.text, alert.count.segments)


def test_the_throttle_paces_sends_to_the_configured_rate(
    gateway: KannelGateway, sample_settings: Settings
) -> None:
    rate, total = 25, 60
    settings = settings_for_gateway(sample_settings, gateway, messages_per_second=rate)
    with KannelTransport(settings, password=gateway.password) as transport:
        for n in range(total):
            assert isinstance(
                transport.send(OutgoingSms(f"+1518556{n:04d}", f"Paced message {n}"), f"pace-{n}"), Sent
            )
        bucket = transport.bucket
    assert (bucket.rate, bucket.granted) == (rate, total)  # every message went through the bucket
    assert bucket.most_in_any_second() <= rate  # never more than the rate in any one second
    times = list(bucket.grant_times)
    assert min(b - a for a, b in pairwise(times)) >= 1 / rate - 1e-9
    assert bucket.waited > 0  # Kannel answers faster than 25/s: the bucket did hold sends back
    shown = wait_for_handset(gateway, lambda all_: sum(m.text.startswith("Paced") for m in all_) >= total)
    assert sorted(m.text for m in shown if m.text.startswith("Paced")) == sorted(
        f"Paced message {n}" for n in range(total)
    )


def test_delivery_reports_come_back_to_the_web_app(
    gateway: KannelGateway, settings: Settings, app: StandInWebApp
) -> None:
    with KannelTransport(settings, password=gateway.password) as transport:
        assert isinstance(transport.send(OutgoingSms("+15185550111", "Report back"), "delivery-77"), Sent)
    wait_for_handset(gateway, lambda all_: any(m.receiver == "+15185550111" for m in all_))
    reports = app.wait_for_reports("delivery-77", 2)
    states = {parse_delivery_report(query).state for query in reports}
    forged = {**reports[0], "ref": "delivery-78"}  # someone else's delivery, same signature
    with pytest.raises(ValueError, match="bad signature"):
        parse_delivery_report(forged)
    assert states == {"accepted", "delivered"}  # the fake SMSC acknowledges, then "delivers"


def test_wrong_password_stops_the_run_instead_of_failing_subscribers(
    gateway: KannelGateway, settings: Settings
) -> None:
    with (
        KannelTransport(settings, password="wrong") as transport,
        pytest.raises(KannelConfigError, match="PASSWORD"),
    ):
        transport.send(OutgoingSms(PHONE, "hello"), "bad-login")


def test_a_rejected_number_is_permanent(gateway: KannelGateway, settings: Settings) -> None:
    with KannelTransport(settings, password=gateway.password) as transport:
        outcome = transport.send(OutgoingSms("", "hello"), "no-number")
    assert isinstance(outcome, PermanentFailure)
    assert "receiver" in outcome.reason


def test_a_gateway_that_is_down_is_temporary(sample_settings: Settings) -> None:
    with socket.socket() as probe:  # a port nothing listens on
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    settings = settings_for_gateway(sample_settings, None, url=f"http://127.0.0.1:{port}/cgi-bin/sendsms")
    with KannelTransport(settings, password="x", bucket=TokenBucket(1000)) as transport:
        outcome = transport.send(OutgoingSms(PHONE, "hello"), "down-1")
    assert isinstance(outcome, TemporaryFailure)
    assert "refused" in outcome.reason.lower()


def test_stop_in_russian_from_a_phone_gets_the_russian_confirmation(
    gateway: KannelGateway, settings: Settings, app: StandInWebApp
) -> None:
    gateway.send_from_phone("+15185550177", "12345", "СТОП")
    (reply,) = _shown_to("+15185550177", 1, gateway)
    assert {"from": "+15185550177", "text": "СТОП"}.items() <= app.inbound[-1].items()
    assert (
        reply.text
        == "State News: вы отписались и больше не получите сообщений. Чтобы вернуться, ответьте START."
    )


def test_help_from_a_phone_gets_the_english_help(gateway: KannelGateway, settings: Settings) -> None:
    gateway.send_from_phone("+15185550178", "12345", "help")
    (reply,) = _shown_to("+15185550178", 1, gateway)
    assert reply.text == (
        "State News: news alerts. Help: news.example.gov. Msg & data rates may apply. Reply STOP to end."
    )


def test_dlr_url_and_coding_in_the_sendsms_query(sample_settings: Settings) -> None:
    transport = KannelTransport(sample_settings, password="secret")
    query = parse_qs(transport.query(OutgoingSms(PHONE, "Привет"), "delivery-42"))
    assert query["coding"] == ["2"] and query["charset"] == ["UTF-8"]
    assert query["from"] == ["12345"] and query["to"] == [PHONE]
    dlr = query["dlr-url"][0]
    assert dlr.startswith("https://news.example.gov/sms/dlr?ref=delivery-42&sig=")
    assert dlr.endswith("&status=%d&answer=%A&at=%T")
    assert parse_qs(transport.query(OutgoingSms(PHONE, "Hello £5"), "d"))["coding"] == ["0"]
    with pytest.raises(ValueError, match="dlr-url"):  # Kannel would read "%2F" as its %-escapes
        transport.query(OutgoingSms(PHONE, "x"), "42 alert/ru")
