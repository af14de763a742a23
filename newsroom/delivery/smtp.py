"""SMTP transport: one connection reused for every message of a run, reconnecting when it drops.

Settings come from [delivery.smtp] in newsroom.toml (host, port, security none|starttls|tls,
username, timeout); the password only from the environment (NEWSROOM_SMTP_PASSWORD).

Per-message answers: 2xx sent; 4xx temporary (retried later with backoff); 5xx permanent (the
address is suppressed). A connection that drops mid-message is reopened and the message tried once
more on the new connection; if that fails too the message is retried later, and so is every
message of the next RELAY_DOWN_PAUSE seconds without trying the relay again (no timeout per message).
A relay that refuses
our login or TLS is a configuration problem for every message, so it stops the run with a
DeliveryError that says what to fix.
"""

from __future__ import annotations

import contextlib
import smtplib
import socket
import ssl
import time

from newsroom.config import SmtpSection, secret
from newsroom.delivery.base import Message, Outcome, OutgoingEmail, PermanentFailure, Sent, TemporaryFailure
from newsroom.errors import DeliveryError

_SERVICE_CLOSING = 421
RELAY_DOWN_PAUSE = 30.0  # seconds: a relay that failed twice in a row is left alone this long


class SmtpTransport:
    """Sends emails through one SMTP relay."""

    name = "smtp"

    def __init__(
        self,
        config: SmtpSection,
        *,
        password: str | None = None,
        ssl_context: ssl.SSLContext | None = None,
    ) -> None:
        self.config = config
        self.password = secret("smtp_password") if password is None else password
        self.ssl_context = ssl_context or ssl.create_default_context()
        self.connection: smtplib.SMTP | None = None
        self.connects = 0  # how many times we (re)connected: shown in summaries, checked by tests
        self.down_until = 0.0  # after failing to reach the relay twice, don't try again before this
        self.down_reason = ""

    def open(self) -> None:
        """Connect now, so a wrong host or password shows before the first message."""
        try:
            self._connected()
        except (OSError, smtplib.SMTPException):
            self.connection = None  # the relay may come back; each message retries the connection

    def send(self, message: Message, reference: str) -> Outcome:
        if not isinstance(message, OutgoingEmail):
            return PermanentFailure(f"SMTP cannot send {type(message).__name__}")
        if self.connection is None and time.monotonic() < self.down_until:
            return TemporaryFailure(self.down_reason)  # don't wait out a timeout for every message
        last_problem = ""
        for _attempt in range(2):  # the second time on a fresh connection
            try:
                return self._transaction(self._connected(), message)
            except smtplib.SMTPResponseException as exc:  # DATA refused, or 421 to EHLO
                return self._refused(exc.smtp_code, _as_bytes(exc.smtp_error))
            except OSError as exc:  # disconnected, refused, reset (SMTPException is an OSError too)
                last_problem = f"connection to {self.config.host}:{self.config.port} lost: {exc}"
                self._drop()
        self.down_until, self.down_reason = time.monotonic() + RELAY_DOWN_PAUSE, last_problem
        return TemporaryFailure(last_problem)

    def close(self) -> None:
        if self.connection is not None:
            with contextlib.suppress(OSError):  # already gone: nothing left to flush
                self.connection.quit()
            self._drop()

    def _transaction(self, smtp: smtplib.SMTP, message: OutgoingEmail) -> Outcome:
        """MAIL, RCPT, DATA for one message; any refusal is answered with RSET and classified."""
        code, reply = smtp.mail(message.envelope_from, _mail_options(smtp, message))
        if code != 250:
            return self._refused(code, reply)
        code, reply = smtp.rcpt(message.envelope_to)
        if code not in (250, 251):
            return self._refused(code, reply)
        code, reply = smtp.data(message.data)  # raises SMTPDataError if DATA itself is refused
        if code != 250:
            return self._refused(code, reply)
        return Sent(provider_id=reply.decode("utf-8", "replace")[:255])

    def _refused(self, code: int, reply: bytes) -> Outcome:
        """Classify a refusal and leave the connection ready for the next message (or closed)."""
        if code == _SERVICE_CLOSING or self.connection is None:
            self._drop()
        else:
            try:
                self.connection.rset()
            except (smtplib.SMTPException, OSError):
                self._drop()  # the next message reconnects
        return _classify(code, reply)

    def _connected(self) -> smtplib.SMTP:
        if self.connection is None:
            self.connection = self._connect()
            self.connects += 1
        return self.connection

    def _connect(self) -> smtplib.SMTP:
        config = self.config
        local = socket.gethostname()  # not getfqdn(): that may wait on DNS
        smtp: smtplib.SMTP
        if config.security == "tls":
            smtp = smtplib.SMTP_SSL(
                config.host, config.port, local, timeout=config.timeout, context=self.ssl_context
            )
        else:
            smtp = smtplib.SMTP(config.host, config.port, local, timeout=config.timeout)
        try:
            smtp.ehlo()
            if config.security == "starttls":
                if not smtp.has_extn("starttls"):
                    raise DeliveryError(
                        f"SMTP relay {config.host}:{config.port} does not offer STARTTLS "
                        "(fix: set [delivery.smtp] security to 'tls' or 'none', or use another port)"
                    )
                smtp.starttls(context=self.ssl_context)
                smtp.ehlo()
            if config.username:
                _login(smtp, config.username, self.password)
        except smtplib.SMTPAuthenticationError as exc:
            smtp.close()
            raise DeliveryError(
                f"SMTP relay {config.host}:{config.port} refused the login for {config.username!r}: "
                f"{exc.smtp_code} {_as_bytes(exc.smtp_error).decode('utf-8', 'replace')} "
                "(fix: check [delivery.smtp] username and NEWSROOM_SMTP_PASSWORD)"
            ) from exc
        except (ssl.SSLError, smtplib.SMTPNotSupportedError) as exc:
            smtp.close()
            raise DeliveryError(
                f"SMTP relay {config.host}:{config.port}: {exc} "
                "(fix: check [delivery.smtp] security and port)"
            ) from exc
        return smtp

    def _drop(self) -> None:
        if self.connection is not None:
            with contextlib.suppress(OSError):  # the socket is already closed
                self.connection.close()
        self.connection = None


def _mail_options(smtp: smtplib.SMTP, message: OutgoingEmail) -> list[str]:
    options = []
    if not message.data.isascii() and smtp.has_extn("8bitmime"):
        options.append("BODY=8BITMIME")
    if not (message.envelope_from + message.envelope_to).isascii() and smtp.has_extn("smtputf8"):
        options.append("SMTPUTF8")
    return options


def _classify(code: int, reply: bytes) -> Outcome:
    text = f"{code} {reply.decode('utf-8', 'replace')}".strip()
    if 500 <= code < 600:
        return PermanentFailure(text)
    return TemporaryFailure(text)


def _as_bytes(reply: bytes | str) -> bytes:
    return reply.encode("utf-8", "replace") if isinstance(reply, str) else reply


def _login(smtp: smtplib.SMTP, username: str, password: str) -> None:
    """AUTH PLAIN when offered (every relay with TLS has it; one round trip), else smtplib's choice."""
    if "plain" in smtp.esmtp_features.get("auth", "").lower().split():
        smtp.user, smtp.password = username, password
        smtp.auth("PLAIN", smtp.auth_plain)  # raises SMTPAuthenticationError when refused
    else:
        smtp.login(username, password)
