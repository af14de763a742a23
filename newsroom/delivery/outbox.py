"""The default transport: files people can open to see exactly what would be sent.

    outbox/email/{tmp,new,cur}/<reference>.eml   Maildir: written in tmp/, renamed into new/
    outbox/sms/<reference>.json                  {"to", "from", "text", "reference"}

Each file is written beside its final name and renamed, so a reader (a mail client pointed at the
Maildir, a test) never sees half a message. Names come from the delivery, so sending a delivery twice
(after a crash, see newsroom.delivery.queue) replaces its file rather than adding a second one.
No fsync per file: a power cut may lose the last files, and the queue then shows them as 'sending'.
"""

from __future__ import annotations

import json
import os
import re
from pathlib import Path

from newsroom.delivery.base import (
    Message,
    Outcome,
    OutgoingEmail,
    OutgoingSms,
    PermanentFailure,
    Sent,
    TemporaryFailure,
)

_UNSAFE = re.compile(r"[^A-Za-z0-9._-]+")


def safe_name(reference: str) -> str:
    """A file name from a delivery reference: letters, digits, dot, dash, underscore."""
    return _UNSAFE.sub("-", reference).strip("-.")[:150] or "message"


class OutboxTransport:
    """Writes emails into a Maildir and SMS into JSON files under one outbox folder."""

    name = "outbox"

    def __init__(self, root: Path) -> None:
        self.root = root
        self.email_dir = root / "email"
        self.sms_dir = root / "sms"

    def open(self) -> None:
        for sub in ("tmp", "new", "cur"):
            (self.email_dir / sub).mkdir(parents=True, exist_ok=True)
        self.sms_dir.mkdir(parents=True, exist_ok=True)

    def send(self, message: Message, reference: str) -> Outcome:
        name = safe_name(reference)
        if isinstance(message, OutgoingEmail):
            return self._write(self.email_dir / "tmp" / f"{name}.eml", self.email_dir / "new", message.data)
        if isinstance(message, OutgoingSms):
            record = {"to": message.to, "from": message.sender, "text": message.text, "reference": reference}
            data = json.dumps(record, ensure_ascii=False, indent=2).encode("utf-8") + b"\n"
            return self._write(self.sms_dir / f".{name}.json.tmp", self.sms_dir, data, final=f"{name}.json")
        return PermanentFailure(f"the outbox cannot send {type(message).__name__}")

    def _write(self, temporary: Path, folder: Path, data: bytes, final: str = "") -> Outcome:
        target = folder / (final or temporary.name)
        try:
            temporary.write_bytes(data)
            os.replace(temporary, target)
        except OSError as exc:  # disk full, permissions: the queue retries later
            return TemporaryFailure(f"cannot write {target}: {exc.strerror or exc}")
        return Sent(provider_id=target.relative_to(self.root).as_posix())

    def close(self) -> None:
        return None
