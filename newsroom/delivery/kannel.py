"""SMS through Kannel's HTTP `sendsms` interface (smsbox), paced to `messages_per_second`.

    GET /cgi-bin/sendsms?username=..&password=..&from=<short code>&to=<E.164>&text=..
        &charset=UTF-8&coding=0|2&dlr-mask=19&dlr-url=<base_url>/sms/dlr?ref=<ref>&status=%d...

- coding=0 (GSM-7) when every character is in the GSM alphabet, else coding=2 (UCS-2); the text is
  always sent as UTF-8 and Kannel converts it.
- Kannel answers 202 "0: Accepted for delivery" (or "3: Queued for later delivery"), older setups
  200 "Sent.": accepted. Another 4xx (a malformed number, a rejected text): permanent. 5xx, a
  refused or dropped connection, a timeout: temporary, try again later.
- 401/403 (wrong username or password) is not about the number: it raises `KannelConfigError` so
  the run stops instead of marking every subscriber as failed.
- The sendsms-user in kannel.conf needs `max-messages` >= sms.segment_budget and
  `concatenation = true`, or Kannel cuts long alerts to one part.
"""

from __future__ import annotations

import http.client
from collections.abc import Mapping
from dataclasses import dataclass
from types import TracebackType
from urllib.parse import urlencode, urlsplit

from newsroom.config import Settings, secret
from newsroom.content.segments import is_gsm7
from newsroom.delivery.sms_transport import SendOutcome, SendStatus, check_ref
from newsroom.delivery.throttle import TokenBucket
from newsroom.errors import DeliveryError
from newsroom.render import urls

# Reports we ask for: 1 delivered to the phone, 2 not delivered, 8 taken by the SMSC, 16 rejected by
# it (4, "buffered", is left out: it only says the network is still trying).
DLR_MASK = 27
DLR_STATES = {1: "delivered", 2: "undelivered", 4: "buffered", 8: "accepted", 16: "rejected"}
# Kannel fills these in when it calls the dlr-url: %d report type, %A SMSC answer, %T time.
DLR_FIELDS = "&status=%d&answer=%A&at=%T"
# A dropped keep-alive connection before any answer: the request never reached Kannel.
_STALE_CONNECTION = (http.client.RemoteDisconnected, BrokenPipeError, ConnectionResetError)


def reply_headers(text: str) -> dict[str, str]:
    """HTTP headers for the web app's answer to Kannel's sms-service get-url (the keyword reply).

    Kannel texts the response body back to the sender, but converts it to GSM-7 ("?" for every
    Cyrillic letter) unless told the coding; it reads X-Kannel-Coding only from an sms-service with
    `accept-x-kannel-headers = true`.
    """
    return {"Content-Type": "text/plain; charset=utf-8", "X-Kannel-Coding": "0" if is_gsm7(text) else "2"}


@dataclass(frozen=True)
class DeliveryReport:
    """What Kannel's call to the dlr-url says about one message."""

    ref: str
    state: str  # delivered | undelivered | buffered | accepted | rejected
    answer: str  # the SMSC's own words, e.g. "ACK/" or an error code
    at: str  # Kannel's timestamp (unix seconds), as given

    @property
    def final(self) -> bool:
        """Delivered, undelivered or rejected: nothing more will come for this message."""
        return self.state in ("delivered", "undelivered", "rejected")


def parse_delivery_report(query: Mapping[str, str]) -> DeliveryReport:
    """The query of a dlr-url call (`ref`, `status`, `answer`, `at`); ValueError when malformed."""
    ref = check_ref(query.get("ref", ""))
    try:
        state = DLR_STATES[int(query.get("status", ""))]
    except (ValueError, KeyError) as exc:
        raise ValueError(f"delivery report for {ref}: unknown status {query.get('status')!r}") from exc
    return DeliveryReport(ref, state, query.get("answer", ""), query.get("at", ""))


class KannelConfigError(DeliveryError):
    """Kannel refused our credentials or URL: a setup problem, not a problem with one number."""


def dlr_url(settings: Settings, ref: str) -> str:
    """Where Kannel reports what became of the message (the web app records it on the delivery)."""
    return urls.absolute(settings, urls.SMS_DLR) + f"?ref={check_ref(ref)}" + DLR_FIELDS


def outcome_of(status: int, body: str) -> SendOutcome:
    """Kannel's HTTP answer as accepted / temporary / permanent."""
    detail = f"{status} {body.strip()}"[:300]
    if status == 202 or (status == 200 and "Sent" in body):
        return SendOutcome(SendStatus.ACCEPTED, detail)
    if status in (401, 403):
        raise KannelConfigError(
            f"Kannel refused the login ({detail}) (fix: set delivery.kannel.username in newsroom.toml and "
            "NEWSROOM_KANNEL_PASSWORD to a sendsms-user of kannel.conf)"
        )
    if 400 <= status < 500:
        return SendOutcome(SendStatus.PERMANENT, detail)
    return SendOutcome(SendStatus.TEMPORARY, detail)


class KannelSms:
    """One keep-alive connection to smsbox; `send` blocks until the rate allows another message."""

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
        self._used = False  # the connection has carried a request before (may have gone stale)
        self._used_before_failure = False
        self.sent = 0

    def query(self, to: str, text: str, ref: str) -> str:
        """The sendsms query string for one message."""
        return urlencode(
            {
                "username": self.username, "password": self.password,
                "from": self.settings.sms.short_code, "to": to, "text": text,
                "charset": "UTF-8", "coding": 0 if is_gsm7(text) else 2,
                "dlr-mask": DLR_MASK, "dlr-url": dlr_url(self.settings, ref),
            }
        )  # fmt: skip

    def send(self, to: str, text: str, ref: str) -> SendOutcome:
        request = f"{self._path}?{self.query(to, text, ref)}"
        self.bucket.acquire()
        try:
            status, body = self._get(request)
        except _STALE_CONNECTION as exc:
            if not self._used_before_failure:
                return SendOutcome(SendStatus.TEMPORARY, f"connection lost: {exc!r}")
            try:  # a kept-alive connection Kannel had already closed: one fresh try
                status, body = self._get(request)
            except (OSError, http.client.HTTPException) as again:
                return SendOutcome(SendStatus.TEMPORARY, f"connection failed: {again!r}")
        except (OSError, http.client.HTTPException) as exc:  # refused, timed out, unreachable
            return SendOutcome(SendStatus.TEMPORARY, f"connection failed: {exc!r}")
        outcome = outcome_of(status, body)
        if outcome.accepted:
            self.sent += 1
        return outcome

    def _get(self, request: str) -> tuple[int, str]:
        connection = self._connect()
        self._used_before_failure = self._used
        try:
            connection.request("GET", request, headers={"Host": self._host or "localhost"})
            response = connection.getresponse()
            body = response.read().decode("utf-8", "replace")
        except (OSError, http.client.HTTPException):
            self.close()
            raise
        self._used = True
        if response.will_close:
            self.close()
        return response.status, body

    def _connect(self) -> http.client.HTTPConnection:
        if self._connection is None:
            kind = http.client.HTTPSConnection if self._https else http.client.HTTPConnection
            self._connection = kind(self._host or "localhost", self._port, timeout=self.timeout)
            self._used = False
        return self._connection

    def close(self) -> None:
        if self._connection is not None:
            self._connection.close()
        self._connection = None

    def __enter__(self) -> KannelSms:
        return self

    def __exit__(
        self, kind: type[BaseException] | None, error: BaseException | None, trace: TracebackType | None
    ) -> None:
        self.close()
