"""Helpers for SMS tests and the SMS benchmark, on top of tests/support/kannel.py (the real gateway).

fakesmsc shows each part of a long (concatenated) message separately and cannot say how a part is
coded; `handset_messages` joins the parts back by their UDH reference, so a test can compare what
the phone shows with what was sent, and count the parts the network carried.
"""

from __future__ import annotations

import threading
import time
import urllib.parse
from collections.abc import Callable
from dataclasses import dataclass
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from urllib.parse import parse_qs, urlsplit

from newsroom.config import Settings
from newsroom.delivery.kannel import reply_headers
from tests.support.kannel import KannelGateway, PhoneMessage


@dataclass(frozen=True)
class HandsetMessage:
    sender: str
    receiver: str
    text: str
    parts: int  # SMS parts it travelled in


def handset_messages(inbox: list[PhoneMessage]) -> list[HandsetMessage]:
    """What each phone shows: single messages as they are, concatenated parts joined once complete."""
    shown: list[HandsetMessage] = []
    pending: dict[tuple[str, str, int], dict[int, bytes]] = {}
    for message in inbox:
        if message.udh is None:
            shown.append(HandsetMessage(message.sender, message.receiver, message.text, 1))
            continue
        reference, total, number = _concatenation(message.udh)
        key = (message.sender, message.receiver, reference)
        parts = pending.setdefault(key, {})
        parts[number] = _udh_payload(message.raw)
        if len(parts) == total:
            whole = b"".join(parts[n] for n in sorted(parts))
            del pending[key]
            # UCS-2 (UTF-16BE) has a NUL byte in every ASCII character, and every alert has a link.
            text = whole.decode("utf-16-be") if b"\x00" in whole else whole.decode("utf-8", "replace")
            shown.append(HandsetMessage(message.sender, message.receiver, text, total))
    return shown


def wait_for_handset(
    gateway: KannelGateway, done: Callable[[list[HandsetMessage]], bool], timeout: float = 30
) -> list[HandsetMessage]:
    """Poll what the phone shows until `done` says so (bounded; raises with the inbox on timeout)."""
    deadline = time.monotonic() + timeout
    while True:
        shown = handset_messages(gateway.phone_inbox)
        if done(shown):
            return shown
        if time.monotonic() > deadline:
            raise TimeoutError(f"the phone shows {len(shown)} message(s): {shown[-3:]}\n{gateway.logs(10)}")
        time.sleep(0.05)


def settings_for_gateway(
    settings: Settings,
    gateway: KannelGateway | None,
    *,
    messages_per_second: float = 200,
    url: str = "",
    base_url: str = "",
) -> Settings:
    """The settings with delivery.kannel pointing at this gateway (and optionally another base_url)."""
    kannel = settings.delivery.kannel.model_copy(
        update={
            "sendsms_url": url or (gateway.sendsms_url if gateway else ""),
            "username": gateway.username if gateway else "newsroom",
            "messages_per_second": messages_per_second,
        }
    )
    delivery = settings.delivery.model_copy(update={"kannel": kannel})
    site = settings.site.model_copy(update={"base_url": base_url}) if base_url else settings.site
    return Settings(settings.root, settings.file.model_copy(update={"delivery": delivery, "site": site}))


def _udh_payload(raw: bytes) -> bytes:
    """The data bytes of a `SENDER RECEIVER udh UDH data DATA` line."""
    data = raw.split(b" ", 5)[5]
    return urllib.parse.unquote_to_bytes(data.replace(b"+", b" "))


def _concatenation(udh: bytes) -> tuple[int, int, int]:
    """(reference, total parts, part number) from a concatenation UDH (8- or 16-bit reference)."""
    index = 1
    while index + 1 < len(udh):
        element, length = udh[index], udh[index + 1]
        value = udh[index + 2 : index + 2 + length]
        if element == 0x00:
            return value[0], value[1], value[2]
        if element == 0x08:
            return value[0] << 8 | value[1], value[2], value[3]
        index += 2 + length
    raise ValueError(f"no concatenation element in UDH {udh.hex()}")


class StandInWebApp:
    """A loopback HTTP server in place of the web app's SMS endpoints (the real one is newsroom/web/).

    /sms/inbound (Kannel's sms-service get-url): `answer(query)` gives the reply text, sent back as
    the body with `reply_headers`; /sms/dlr (Kannel's delivery reports): kept in `reports`.
    """

    def __init__(self, answer: Callable[[dict[str, str]], str]) -> None:
        self.answer = answer
        self.inbound: list[dict[str, str]] = []
        self.reports: list[dict[str, str]] = []
        app = self

        class Handler(BaseHTTPRequestHandler):
            def do_GET(self) -> None:
                url = urlsplit(self.path)
                query = {key: values[0] for key, values in parse_qs(url.query).items()}
                body, headers = b"", {"Content-Type": "text/plain"}
                if url.path == "/sms/inbound":
                    app.inbound.append(query)
                    reply = app.answer(query)
                    body, headers = reply.encode("utf-8"), reply_headers(reply)
                elif url.path == "/sms/dlr":
                    app.reports.append(query)
                self.send_response(200)
                for name, value in {**headers, "Content-Length": str(len(body))}.items():
                    self.send_header(name, value)
                self.end_headers()
                self.wfile.write(body)

            def log_message(self, format: str, *args: object) -> None:
                pass

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.base_url = f"http://127.0.0.1:{self.server.server_address[1]}"
        self._thread = threading.Thread(target=self.server.serve_forever, daemon=True)

    def __enter__(self) -> StandInWebApp:
        self._thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self.server.shutdown()
        self.server.server_close()

    def wait_for_reports(self, reference: str, count: int, timeout: float = 20) -> list[dict[str, str]]:
        deadline = time.monotonic() + timeout
        while True:
            found = [report for report in self.reports if report.get("ref") == reference]
            if len(found) >= count or time.monotonic() > deadline:
                return found
            time.sleep(0.05)
