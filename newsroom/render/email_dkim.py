"""Optional DKIM signing of personalised messages (dkimpy), covering both List-Unsubscribe headers.

Signing must come after personalisation (the signature covers To, Message-ID and the unsubscribe
link), so it is a per-message cost: dkimpy parses the message and signs in pure Python, a few
milliseconds per message with RSA-2048 (see bench/email_bench.py) — far more than personalising.
Sign only when the relay does not sign for you.
"""

from __future__ import annotations

from dataclasses import dataclass
from email.utils import parseaddr
from pathlib import Path

import dkim

from newsroom.config import Settings, secret
from newsroom.errors import ConfigError

# What the signature covers; a header listed but absent is still signed (as absent), which stops
# anyone from adding it later.
SIGNED_HEADERS = (
    b"from", b"to", b"subject", b"date", b"message-id", b"reply-to", b"content-language",
    b"mime-version", b"content-type", b"list-id", b"list-unsubscribe", b"list-unsubscribe-post",
)  # fmt: skip


@dataclass(frozen=True)
class DkimSigner:
    selector: str
    domain: str
    private_key: bytes  # PEM

    def sign(self, message: bytes) -> bytes:
        """`message` with a DKIM-Signature header on top (relaxed/simple canonicalization)."""
        signature = dkim.sign(
            message,
            self.selector.encode("ascii"),
            self.domain.encode("ascii"),
            self.private_key,
            canonicalize=(b"relaxed", b"simple"),
            include_headers=list(SIGNED_HEADERS),
        )
        return bytes(signature) + message


def dkim_signer(settings: Settings) -> DkimSigner | None:
    """The signer configured by NEWSROOM_DKIM_KEY_FILE and email.dkim_selector, or None when unset."""
    key_file = secret("dkim_key_file")
    if not key_file:
        return None
    if not settings.email.dkim_selector:
        raise ConfigError(
            "NEWSROOM_DKIM_KEY_FILE is set but email.dkim_selector is empty "
            "(fix: set dkim_selector in [email] of newsroom.toml or NEWSROOM_DKIM_SELECTOR)"
        )
    try:
        key = Path(key_file).read_bytes()
    except OSError as exc:
        raise ConfigError(f"NEWSROOM_DKIM_KEY_FILE {key_file}: cannot read it ({exc.strerror})") from exc
    domain = settings.email.dkim_domain or parseaddr(settings.email.sender)[1].rpartition("@")[2]
    return DkimSigner(settings.email.dkim_selector, domain, key)
