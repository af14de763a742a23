"""What a transport is given (a message), what it answers (an outcome), and the Transport protocol.

A transport only sends: it renders nothing and never touches the database. The worker opens it once
per run, calls `send` for each message (so a connection is reused across batches), and closes it.
Per-message problems come back as outcomes, never as exceptions, so one bad address cannot stop a run.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Protocol


@dataclass(frozen=True)
class OutgoingEmail:
    """A complete RFC 5322 message (headers and body, CRLF line ends) and its SMTP envelope."""

    envelope_from: str
    envelope_to: str
    data: bytes
    channel: str = "email"


@dataclass(frozen=True)
class OutgoingSms:
    """One text message to an E.164 number; the gateway splits it into segments."""

    to: str
    text: str
    sender: str = ""  # the short code, when the gateway needs it
    channel: str = "sms"


Message = OutgoingEmail | OutgoingSms


@dataclass(frozen=True)
class Sent:
    provider_id: str = ""  # the relay's or gateway's id for the message, when it gives one


@dataclass(frozen=True)
class TemporaryFailure:
    """Try again later (SMTP 4xx, a dropped connection, a busy gateway)."""

    reason: str


@dataclass(frozen=True)
class PermanentFailure:
    """Never try this address again (SMTP 5xx: no such user, rejected); it gets suppressed."""

    reason: str


Outcome = Sent | TemporaryFailure | PermanentFailure


class Transport(Protocol):
    """One way out: the outbox folder, an SMTP relay, an SMS gateway."""

    name: str  # "outbox", "smtp", "kannel": shown in summaries and stored with outcomes

    def open(self) -> None:
        """Prepare to send (connect, create folders); called once before the first message."""

    def send(self, message: Message, reference: str) -> Outcome:
        """Hand over one message. `reference` is unique per delivery (e.g. "42-alert-nyx-en")."""
        ...

    def close(self) -> None:
        """Flush and disconnect; called once at the end of a run, also after Ctrl-C."""
