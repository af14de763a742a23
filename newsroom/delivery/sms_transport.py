"""What every SMS transport promises, and the default one: JSON files in outbox/sms/.

A transport takes one message and answers at once whether the gateway took it:
`send(to, text, ref) -> SendOutcome`. `ref` is the delivery's id: it names the outbox file and
comes back in Kannel's delivery reports, so re-sending the same delivery overwrites, never doubles.
"""

from __future__ import annotations

import json
import os
import re
from dataclasses import dataclass
from enum import StrEnum
from pathlib import Path
from typing import Protocol

from newsroom.config import Settings
from newsroom.content.segments import count_segments

SAFE_REF = re.compile(r"^[A-Za-z0-9][A-Za-z0-9._-]{0,120}$")


class SendStatus(StrEnum):
    ACCEPTED = "accepted"  # the gateway took it; a delivery report may follow
    TEMPORARY = "temporary"  # try again later (gateway down, overloaded, network error)
    PERMANENT = "permanent"  # never retry; record it and suppress the number


@dataclass(frozen=True)
class SendOutcome:
    status: SendStatus
    detail: str  # the gateway's own answer, kept on the delivery record

    @property
    def accepted(self) -> bool:
        return self.status is SendStatus.ACCEPTED


class SmsTransport(Protocol):
    def send(self, to: str, text: str, ref: str) -> SendOutcome: ...

    def close(self) -> None: ...


def check_ref(ref: str) -> str:
    if not SAFE_REF.match(ref):
        raise ValueError(f"delivery ref {ref!r} must be letters, digits, '.', '_' or '-' (at most 121)")
    return ref


class OutboxSms:
    """Writes each message to outbox/sms/<ref>.json (atomically), for review and for tests."""

    def __init__(self, settings: Settings) -> None:
        self.folder = settings.outbox_dir / "sms"
        self.sender = settings.sms.short_code

    def send(self, to: str, text: str, ref: str) -> SendOutcome:
        count = count_segments(text)
        record = {
            "ref": check_ref(ref), "from": self.sender, "to": to, "text": text,
            "encoding": count.encoding, "segments": count.segments,
        }  # fmt: skip
        self.folder.mkdir(parents=True, exist_ok=True)
        path = self.folder / f"{ref}.json"
        partial = path.with_suffix(".json.tmp")
        partial.write_text(json.dumps(record, ensure_ascii=False, indent=2) + "\n", encoding="utf-8")
        os.replace(partial, path)
        return SendOutcome(SendStatus.ACCEPTED, f"written to {Path(self.folder.name) / path.name}")

    def close(self) -> None:
        pass
