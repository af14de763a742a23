"""Delivery-report links: signed per reference, checked with the current or the previous key."""

from __future__ import annotations

from urllib.parse import parse_qs, urlsplit

import pytest

from newsroom.config import Settings
from newsroom.delivery.kannel import dlr_url, parse_delivery_report


def _report_for(url: str, status: str = "1") -> dict[str, str]:
    """What Kannel calls: the dlr-url with its %-escapes filled in."""
    filled = url.replace("%d", status).replace("%A", "ACK%2F").replace("%T", "1734706800")
    return {key: values[0] for key, values in parse_qs(urlsplit(filled).query).items()}


def test_a_report_reads_back(sample_settings: Settings, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("NEWSROOM_SECRET_KEY", "k1")
    report = parse_delivery_report(_report_for(dlr_url(sample_settings, "000000042-alert-nyx-sms")))
    assert (report.reference, report.state, report.answer, report.final) == (
        "000000042-alert-nyx-sms", "delivered", "ACK/", True,
    )  # fmt: skip
    assert not parse_delivery_report(_report_for(dlr_url(sample_settings, "x"), status="8")).final


def test_reports_survive_a_key_rotation_then_expire_with_the_old_key(
    sample_settings: Settings, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("NEWSROOM_SECRET_KEY", "k1")
    query = _report_for(dlr_url(sample_settings, "000000042-alert-nyx-sms"))
    monkeypatch.setenv("NEWSROOM_SECRET_KEY", "k2")
    monkeypatch.setenv("NEWSROOM_SECRET_KEY_OLD", "k1")
    assert parse_delivery_report(query).state == "delivered"
    monkeypatch.delenv("NEWSROOM_SECRET_KEY_OLD")
    with pytest.raises(ValueError, match="bad signature"):
        parse_delivery_report(query)


@pytest.mark.parametrize(
    ("change", "message"),
    [({"sig": "0" * 32}, "bad signature"), ({"status": "7"}, "unknown status"), ({"ref": ""}, "without ref")],
)
def test_malformed_reports_are_refused(
    sample_settings: Settings, change: dict[str, str], message: str
) -> None:
    query = {**_report_for(dlr_url(sample_settings, "d-1")), **change}
    with pytest.raises(ValueError, match=message):
        parse_delivery_report(query)
