"""Test support for the subscribers database and delivery: both databases, a real SMTP server.

Databases (fixtures in tests/support/delivery_fixtures.py; a test module asks for them with
`pytest_plugins = ["tests.support.delivery_fixtures"]`): `database_url` is parametrised over a
fresh SQLite file and, when NEWSROOM_TEST_DATABASE_URL is set, a fresh PostgreSQL schema (dropped
afterwards), so every test using it runs against both.
Only the PostgreSQL variant is skipped without the variable.

SMTP: `SmtpServer` runs aiosmtpd on 127.0.0.1 (a real server in a thread) with scripted trouble:
temporary refusals (451), permanent ones (550), and dropping the connection mid-batch.
"""

from __future__ import annotations

import asyncio
import socket
import subprocess
import threading
from dataclasses import dataclass, field
from email import message_from_bytes, policy
from email.message import EmailMessage
from pathlib import Path
from typing import Any

from aiosmtpd.controller import Controller

from newsroom.config import Settings, load_settings


def with_delivery(settings: Settings, **changes: Any) -> Settings:
    """The same settings with some [delivery] fields changed (e.g. batch_size=7)."""
    delivery = settings.file.delivery.model_copy(update=changes)
    return Settings(settings.root, settings.file.model_copy(update={"delivery": delivery}))


def smtp_settings(root: Path, database_url: str, port: int, batch_size: int = 500) -> Settings:
    """Settings that send email through the SMTP server on 127.0.0.1:`port`."""
    config = root / "newsroom.toml"
    text_ = config.read_text(encoding="utf-8")
    if "[delivery.smtp]" not in text_:
        text_ = text_.replace(
            'outbox_dir = "outbox"',
            f'outbox_dir = "outbox"\nbatch_size = {batch_size}\n\n[delivery.smtp]\nhost = "127.0.0.1"\n'
            f"port = {port}\ntimeout = 10",
        )
        config.write_text(text_, encoding="utf-8")
    return load_settings(
        root, environ={"NEWSROOM_DATABASE_URL": database_url, "NEWSROOM_EMAIL_TRANSPORT": "smtp"}
    )


@dataclass
class Script:
    """What the test SMTP server does; every field is read under the handler's lock."""

    temporary_failures: dict[str, int] = field(default_factory=dict)  # address -> 451s before accepting
    rejected: set[str] = field(default_factory=set)  # addresses answered 550 at RCPT
    drop_before_message: set[int] = field(default_factory=set)  # n-th DATA (1-based): hang up instead
    delay: float = 0.0  # seconds to think before answering each DATA (a slow relay)


class _Handler:
    def __init__(self, script: Script) -> None:
        self.script = script
        self.lock = threading.Lock()
        self.received: list[tuple[str, list[str], bytes]] = []
        self.data_commands = 0

    async def handle_RCPT(self, server: Any, session: Any, envelope: Any, address: str, options: Any) -> str:
        if address in self.script.rejected:
            return "550 5.1.1 No such user here"
        envelope.rcpt_tos.append(address)
        return "250 OK"

    async def handle_DATA(self, server: Any, session: Any, envelope: Any) -> str:
        if self.script.delay:
            await asyncio.sleep(self.script.delay)
        with self.lock:
            self.data_commands += 1
            if self.data_commands in self.script.drop_before_message:
                server.transport.close()  # hang up without an answer, as a crashing relay does
                return "421 4.3.0 closing"
            to = envelope.rcpt_tos[0]
            left = self.script.temporary_failures.get(to, 0)
            if left:
                self.script.temporary_failures[to] = left - 1
                return "451 4.7.1 Greylisted, try again later"
            self.received.append((envelope.mail_from, list(envelope.rcpt_tos), bytes(envelope.content)))
        return "250 2.0.0 Queued as test"


def free_port() -> int:
    """A TCP port on 127.0.0.1 nobody listens on right now."""
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


class SmtpServer:
    """aiosmtpd on 127.0.0.1 on a free port, in a thread; `received` lists accepted messages."""

    def __init__(self, script: Script | None = None, **smtp_options: Any) -> None:
        """smtp_options go to aiosmtpd's SMTP: tls_context, require_starttls, authenticator, ..."""
        self.script = script or Script()
        self.handler = _Handler(self.script)
        self.controller = Controller(self.handler, hostname="127.0.0.1", port=free_port(), **smtp_options)

    def __enter__(self) -> SmtpServer:
        self.controller.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self.controller.stop()

    @property
    def port(self) -> int:
        return int(self.controller.port)

    @property
    def received(self) -> list[tuple[str, list[str], bytes]]:
        with self.handler.lock:
            return list(self.handler.received)

    def messages(self) -> list[EmailMessage]:
        return [message_from_bytes(data, policy=policy.default) for _, _, data in self.received]  # type: ignore[misc]

    def recipients(self) -> list[str]:
        return [to[0] for _, to, _ in self.received]


def self_signed_certificate(folder: Path) -> tuple[Path, Path]:
    """A certificate and key for 127.0.0.1, made with the openssl command."""
    cert, key = folder / "cert.pem", folder / "key.pem"
    subprocess.run(
        [
            *("openssl", "req", "-x509", "-newkey", "rsa:2048", "-nodes", "-days", "1"),
            *("-subj", "/CN=127.0.0.1", "-addext", "subjectAltName=IP:127.0.0.1"),
            *("-keyout", str(key), "-out", str(cert)),
        ],
        check=True,
        capture_output=True,
    )
    return cert, key
