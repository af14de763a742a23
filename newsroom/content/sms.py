"""The shape of an SMS alert, shared by the editorial check (`newsroom check`) and the SMS renderer.

An alert is `<text> <short link>\\n<opt-out line>`. The opt-out line is read from the `sms` message
catalog here, with Babel directly, so that content/ can count an alert's real segments without
importing render/ (render/sms.py uses this same function, so the check and the sender agree).
"""

from __future__ import annotations

import hashlib
from functools import cache
from pathlib import Path

from newsroom.content.segments import is_gsm7

LOCALE_DIR = Path(__file__).resolve().parent.parent / "locale"
OPT_OUT = "Reply STOP to end"
SHORT_CODE_LENGTH = 8  # characters of the code in a short link, base_url + "/r/<code>/"

# Typographic punctuation that has a plain GSM-7 equivalent: one curly apostrophe would otherwise
# turn a whole English alert into UCS-2 and more than halve the characters that fit.
_GSM_PLAIN = str.maketrans(
    {
        "‘": "'", "’": "'", "‚": "'", "′": "'",
        "“": '"', "”": '"', "„": '"', "″": '"',
        "–": "-", "—": "-", "‑": "-", "−": "-",
        "\u00a0": " ", "\u202f": " ", "\u2009": " ",
        "…": "...",
    }
)  # fmt: skip


@cache
def opt_out_line(language: str) -> str:
    """'Reply STOP to end' in `language`, from newsroom/locale/<language>/LC_MESSAGES/sms.po."""
    path = LOCALE_DIR / language / "LC_MESSAGES" / "sms.po"
    if not path.is_file():
        return OPT_OUT
    from babel.messages.pofile import read_po  # not for a rebuild that checks no alert

    with path.open("rb") as po:
        message = read_po(po).get(OPT_OUT)
    if message is None or message.fuzzy or not isinstance(message.string, str) or not message.string:
        return OPT_OUT
    return message.string


def assemble(text: str, link: str, opt_out: str) -> str:
    """The alert as sent: the text, a space, the link, a line break, the opt-out line."""
    return f"{text} {link}\n{opt_out}"


def clean_text(text: str) -> str:
    """One line with single spaces; typographic punctuation made plain when that keeps it GSM-7."""
    text = " ".join(text.split())
    plain = text.translate(_GSM_PLAIN)
    return plain if is_gsm7(plain) else text


def short_code_bytes(slug: str, language: str) -> bytes:
    """The 40 bits behind the code of a release's short link in `language` (render/sms.short_code
    spells them as 8 base32 characters)."""
    return hashlib.sha256(f"{slug}\n{language}".encode()).digest()[: SHORT_CODE_LENGTH * 5 // 8]


def placeholder_link(base_url: str) -> str:
    """A link as long as every real short link (for counting before the code is known)."""
    return f"{base_url}/r/{'x' * SHORT_CODE_LENGTH}/"
