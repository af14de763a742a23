"""SMS transport: Kannel's HTTP `sendsms` interface (smsbox), paced to `messages_per_second`.

    GET /cgi-bin/sendsms?username=..&password=..&from=<short code>&to=<E.164>&text=..
        &charset=UTF-8&coding=0|2&dlr-mask=27&dlr-url=<base_url>/sms/dlr?ref=<reference>&sig=..&status=%d...

Settings: [delivery.kannel] sendsms_url, username, messages_per_second; the password only from the
environment (NEWSROOM_KANNEL_PASSWORD).

- coding=0 (GSM-7) when every character is in the GSM alphabet, else coding=2 (UCS-2); the text is
  always sent as UTF-8 and Kannel converts it.
- Kannel answers 202 "0: Accepted for delivery" (or "3: Queued for later delivery"), older setups
  200 "Sent.": sent. Another 4xx (a malformed number, a rejected text): permanent. 5xx, a refused or
  dropped connection, a timeout: temporary, retried later with backoff.
- 401/403 (wrong username or password) is not about the number: it raises `KannelConfigError`, which
  stops the run (the worker puts the rest of the batch back) instead of suppressing every number.
- Kannel calls the dlr-url with what became of the message; `parse_delivery_report` reads it.
- The sendsms-user in kannel.conf needs `max-messages` >= sms.segment_budget and
  `concatenation = true`, or Kannel cuts long alerts to one part.
"""

from __future__ import annotations

import hashlib
import hmac
import http.client
import re
from collections.abc import Mapping
from dataclasses import dataclass
from urllib.parse import urlencode, urlsplit

from newsroom.config import Settings, secret
from newsroom.content.segments import is_gsm7
from newsroom.delivery.base import Message, Outcome, OutgoingSms, PermanentFailure, Sent, TemporaryFailure
from newsroom.delivery.throttle import TokenBucket
from newsroom.errors import DeliveryError
from newsroom.render import urls
from newsroom.subscribers.tokens import signing_keys

# Reports we ask for: 1 delivered to the phone, 2 not delivered, 8 taken by the SMSC, 16 rejected by
# it (4, "buffered", is left out: it only says the network is still trying).
DLR_MASK = 27
DLR_STATES = {1: "delivered", 2: "undelivered", 4: "buffered", 8: "accepted", 16: "rejected"}
# Kannel fills these in when it calls the dlr-url: %d report type, %A SMSC answer, %T time.
DLR_FIELDS = "&status=%d&answer=%A&at=%T"
SAFE_REFERENCE = re.compile(r"[A-Za-z0-9._-]{1,200}")  # what the worker's references are made of
# A dropped keep-alive connection before any answer: the request never reached Kannel.
_STALE_CONNECTION = (http.client.RemoteDisconnected, BrokenPipeError, ConnectionResetError)


class KannelConfigError(DeliveryError):
    """Kannel refused our credentials or URL: a setup problem, not a problem with one number."""


@dataclass(frozen=True)
class DeliveryReport:
    """What Kannel's call to the dlr-url says about one message."""

    reference: str
    state: str  # delivered | undelivered | buffered | accepted | rejected
    answer: str  # the SMSC's own words, e.g. "ACK/" or an error code
    at: str  # Kannel's timestamp (unix seconds), as given

    @property
    def final(self) -> bool:
        """Delivered, undelivered or rejected: nothing more will come for this message."""
        return self.state in ("delivered", "undelivered", "rejected")


def dlr_url(settings: Settings, reference: str) -> str:
    """Where Kannel reports what became of the message (the web app records it on the delivery).

    The reference is signed (purpose "sms-dlr"), so only the gateway we told can report on it.
    """
    if not SAFE_REFERENCE.fullmatch(reference):
        # Kannel reads every % in a dlr-url as one of its escapes (%A, %B, %C, ...): no %-encoding.
        raise ValueError(
            f"delivery reference {reference!r}: only letters, digits, '.', '_', '-' fit a dlr-url"
        )
    signature = dlr_signature(reference, signing_keys()[-1])
    return urls.absolute(settings, urls.SMS_DLR) + f"?ref={reference}&sig={signature}" + DLR_FIELDS


def dlr_signature(reference: str, key: str) -> str:
    """HMAC-SHA256 of the reference for the purpose "sms-dlr", 32 hex digits (no % for Kannel).

    Keyed like every signed token: NEWSROOM_SECRET_KEY, and NEWSROOM_SECRET_KEY_OLD while rotating.
    """
    return hmac.new(key.encode(), b"sms-dlr\n" + reference.encode(), hashlib.sha256).hexdigest()[:32]


def parse_delivery_report(query: Mapping[str, str]) -> DeliveryReport:
    """The (decoded) query of a dlr-url call: ref, sig, status, answer, at.

    ValueError when it is malformed or not signed by us (answer such a call with 403).
    """
    reference = query.get("ref", "")
    if not reference:
        raise ValueError("delivery report without ref")
    signature = query.get("sig", "")
    if not any(hmac.compare_digest(signature, dlr_signature(reference, key)) for key in signing_keys()):
        raise ValueError(f"delivery report for {reference}: bad signature")
    try:
        state = DLR_STATES[int(query.get("status", ""))]
    except (ValueError, KeyError) as exc:
        raise ValueError(f"delivery report for {reference}: unknown status {query.get('status')!r}") from exc
    return DeliveryReport(reference, state, query.get("answer", ""), query.get("at", ""))


def reply_headers(text: str) -> dict[str, str]:
    """HTTP headers for the web app's answer to Kannel's sms-service get-url (the keyword reply).

    Kannel texts the response body back to the sender, but converts it to GSM-7 ("?" for every
    Cyrillic letter) unless told the coding; it reads X-Kannel-Coding only from an sms-service with
    `accept-x-kannel-headers = true`.
    """
    return {"Content-Type": "text/plain; charset=utf-8", "X-Kannel-Coding": "0" if is_gsm7(text) else "2"}


def outcome_of(status: int, body: str) -> Outcome:
    """Kannel's HTTP answer as sent / temporary / permanent."""
    detail = f"Kannel {status} {body.strip()}"[:300]
    if status == 202 or (status == 200 and "Sent" in body):
        return Sent()
    if status in (401, 403):
        raise KannelConfigError(
            f"{detail} (fix: set delivery.kannel.username in newsroom.toml and NEWSROOM_KANNEL_PASSWORD "
            "to a sendsms-user of kannel.conf)"
        )
    if 400 <= status < 500:
        return PermanentFailure(detail)
    return TemporaryFailure(detail)


class KannelTransport:
    """Sends SMS through one keep-alive connection to smsbox; `send` waits while the rate says so."""

    name = "kannel"

    def __init__(
        self,
        settings: Settings,
        *,
        password: str | None = None,
        bucket: TokenBucket | None = None,
        timeout: float = 10.0,
    ) -> None:
        kannel = settings.delivery.kannel
        target = urlsplit(kannel.sendsms_url)
        if target.scheme not in ("http", "https") or not target.hostname:
            raise KannelConfigError(
                f"delivery.kannel.sendsms_url {kannel.sendsms_url!r} is not an http(s) URL "
                "(fix: e.g. http://127.0.0.1:13013/cgi-bin/sendsms)"
            )
        self.settings = settings
        self.username = kannel.username
        self.password = secret("kannel_password") if password is None else password
        self.bucket = bucket or TokenBucket(kannel.messages_per_second)
        self.timeout = timeout
        self._https = target.scheme == "https"
        self._host = target.hostname
        self._port = target.port
        self._path = target.path or "/cgi-bin/sendsms"
        self._connection: http.client.HTTPConnection | None = None
        self._reused = False  # the open connection has carried a request (Kannel may have closed it)
        self.sent = 0

    def open(self) -> None:
        """Nothing to do ahead: the connection opens with the first message (and after drops)."""

    def query(self, message: OutgoingSms, reference: str) -> str:
        """The sendsms query string for one message."""
        return urlencode(
            {
                "username": self.username, "password": self.password,
                "from": message.sender or self.settings.sms.short_code, "to": message.to,
                "text": message.text, "charset": "UTF-8", "coding": 0 if is_gsm7(message.text) else 2,
                "dlr-mask": DLR_MASK, "dlr-url": dlr_url(self.settings, reference),
            }
        )  # fmt: skip

    def send(self, message: Message, reference: str) -> Outcome:
        if not isinstance(message, OutgoingSms):
            return PermanentFailure(f"Kannel cannot send {type(message).__name__}")
        request = f"{self._path}?{self.query(message, reference)}"
        self.bucket.acquire()
        outcome = self._send_once(request)
        if outcome is None:  # a kept-alive connection Kannel had closed: the request never arrived
            outcome = self._send_once(request) or TemporaryFailure("Kannel closed the connection twice")
        if isinstance(outcome, Sent):
            self.sent += 1
        return outcome

    def _send_once(self, request: str) -> Outcome | None:
        """The outcome; None when a reused connection turned out stale (worth one fresh try)."""
        reused = self._connection is not None and self._reused
        connection = self._connect()
        try:
            connection.request("GET", request, headers={"Host": self._host or "localhost"})
            response = connection.getresponse()
            body = response.read().decode("utf-8", "replace")
        except _STALE_CONNECTION as exc:
            self.close()
            return None if reused else TemporaryFailure(f"Kannel connection lost: {exc!r}")
        except (OSError, http.client.HTTPException) as exc:  # refused, timed out, unreachable
            self.close()
            return TemporaryFailure(f"Kannel unreachable: {exc!r}")
        self._reused = True
        if response.will_close:
            self.close()
        return outcome_of(response.status, body)

    def _connect(self) -> http.client.HTTPConnection:
        if self._connection is None:
            kind = http.client.HTTPSConnection if self._https else http.client.HTTPConnection
            self._connection = kind(self._host or "localhost", self._port, timeout=self.timeout)
            self._reused = False
        return self._connection

    def close(self) -> None:
        if self._connection is not None:
            self._connection.close()
        self._connection = None

    def __enter__(self) -> KannelTransport:
        self.open()
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()
