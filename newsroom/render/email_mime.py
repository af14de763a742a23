"""MIME assembly with holes: a message's bytes, rendered once, with slots for the personal parts.

A prepared message is a list of byte segments and named slots (To, Date, Message-ID, the unsubscribe
and preference links). Personalising one is `b"".join` of the segments with each slot's bytes: no
Jinja2, MJML, encoding or MIME work per subscriber.

That only works if substitution cannot break an encoding, so the body parts are quoted-printable
written here, not by the `email` package: each hard line is encoded with binascii, then wrapped into
soft lines of at most 76 characters, with every slot kept whole on one line and counted at the width
its longest value can have. Slot values are URLs of printable ASCII without '=', which QP carries
literally. A line holding a URL can exceed 76 characters (a URL cannot be soft-broken before its
length is known) but stays far below the 998-octet limit of RFC 5322.
"""

from __future__ import annotations

import binascii
import re
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from email.header import Header
from email.utils import formataddr

CRLF = "\r\n"
QP_WIDTH = 76
SLOT_PATTERN = re.compile(r"NRSLOT_([a-z_]+)_TOLSRN")
# Characters a slot value may hold anywhere: it lands unescaped in QP bodies, HTML attributes, headers.
SAFE_VALUE = re.compile(r"[A-Za-z0-9._~:/?#@!$()*+,;%-]*")


def slot(name: str) -> str:
    """The marker standing for a personal value in rendered templates."""
    return f"NRSLOT_{name}_TOLSRN"


@dataclass(frozen=True)
class Slot:
    name: str


Piece = str | Slot  # ASCII text of the final message, or a hole


def split_slots(text: str) -> list[Piece]:
    """Text with slot markers as pieces: literal text and Slots."""
    pieces: list[Piece] = []
    position = 0
    for match in SLOT_PATTERN.finditer(text):
        if match.start() > position:
            pieces.append(text[position : match.start()])
        pieces.append(Slot(match.group(1)))
        position = match.end()
    if position < len(text):
        pieces.append(text[position:])
    return pieces


def quoted_printable(text: str, widths: dict[str, int]) -> list[Piece]:
    """`text` (with slot markers) as QP lines with CRLF, slots kept whole and counted at `widths`."""
    out: list[Piece] = []
    for line in text.split("\n"):
        column = 0
        pieces = split_slots(line.rstrip("\r"))
        for index, piece in enumerate(pieces):
            if isinstance(piece, Slot):
                width = widths[piece.name]
                if column and column + width > QP_WIDTH - 1:
                    out.append("=" + CRLF)
                    column = 0
                out.append(piece)
                column += width
            else:
                last = index == len(pieces) - 1  # a line's last piece may use column 76: no "=" follows
                column = _wrap_encoded(_qp_encode(piece), column, out, QP_WIDTH if last else QP_WIDTH - 1)
        out.append(CRLF)
    return out


def _qp_encode(text: str) -> str:
    encoded = binascii.b2a_qp(text.encode("utf-8"), quotetabs=False, istext=False, header=False)
    return encoded.decode("ascii").replace("=\n", "")  # our own wrapping comes next


def _wrap_encoded(encoded: str, column: int, out: list[Piece], limit: int) -> int:
    """Append `encoded` from `column` on, soft-breaking before `limit` and never inside an =XX escape."""
    while column + len(encoded) > limit:
        cut = QP_WIDTH - 1 - column
        if cut < 3:  # a slot filled this line: continue on the next
            out.append("=" + CRLF)
            column = 0
            continue
        escape_start = encoded.rfind("=", max(cut - 2, 0), cut)
        if escape_start != -1:
            cut = escape_start
        out.append(encoded[:cut] + "=" + CRLF)
        encoded = encoded[cut:]
        column = 0
    out.append(encoded)
    return column + len(encoded)


def header(name: str, value: str) -> list[Piece]:
    """One header field: folded and RFC 2047-encoded by the `email` package unless it holds slots."""
    if SLOT_PATTERN.search(value) or (value.isascii() and len(name) + len(value) < 76):
        return [f"{name}: ", *split_slots(value), CRLF]
    if value.isascii():
        return [_fold_ascii(name, value)]
    return [f"{name}: {Header(value, 'utf-8', header_name=name).encode(linesep=CRLF)}{CRLF}"]


def _fold_ascii(name: str, value: str) -> str:
    """`Name: value` folded at spaces before 78 characters (the `email` package's folder can put
    the break right after the colon, which parsers then read as a leading space)."""
    lines = [f"{name}:"]
    for word in value.split(" "):
        if len(lines[-1]) + 1 + len(word) > 78 and lines[-1] != f"{name}:":
            lines.append("")
        lines[-1] += " " + word
    return CRLF.join(lines) + CRLF


def address_header(name: str, display_name: str, addr_spec: str) -> list[Piece]:
    """`Name <addr>`; a non-ASCII name as RFC 2047 encoded words split between whole characters."""
    if display_name.isascii():
        return header(name, formataddr((display_name, addr_spec)))
    phrase = Header(display_name, "utf-8", header_name=name).encode(linesep=CRLF)
    return [f"{name}: {phrase}{CRLF} <{addr_spec}>{CRLF}"]


def multipart_alternative(
    headers: Iterable[list[Piece]], text: list[Piece], html: list[Piece], boundary: str
) -> list[Piece]:
    """A whole message: the headers, then a text/plain and a text/html part, both QP UTF-8."""
    pieces: list[Piece] = [piece for field in headers for piece in field]
    pieces += [
        "MIME-Version: 1.0" + CRLF,
        "Content-Type: multipart/alternative;" + CRLF + f' boundary="{boundary}"' + CRLF,
        CRLF,
    ]
    for subtype, body in (("plain", text), ("html", html)):
        pieces += [
            f"--{boundary}" + CRLF,
            f'Content-Type: text/{subtype}; charset="utf-8"' + CRLF,
            "Content-Transfer-Encoding: quoted-printable" + CRLF,
            CRLF,
            *body,
        ]
    pieces.append(f"--{boundary}--" + CRLF)
    return pieces


def compact(pieces: Sequence[Piece]) -> tuple[tuple[bytes, ...], tuple[str, ...]]:
    """Merge adjacent text into byte segments: segments[i] comes before slots[i]; one more segment ends."""
    segments: list[bytes] = []
    slots: list[str] = []
    buffer: list[str] = []
    for piece in pieces:
        if isinstance(piece, Slot):
            segments.append("".join(buffer).encode("utf-8"))
            slots.append(piece.name)
            buffer = []
        else:
            buffer.append(piece)
    segments.append("".join(buffer).encode("utf-8"))
    return tuple(segments), tuple(slots)


def fill(segments: Sequence[bytes], slots: Sequence[str], values: dict[str, bytes]) -> bytes:
    """The personalised message: the segments with each slot's value in between."""
    parts = [segments[0]]
    for name, segment in zip(slots, segments[1:], strict=True):
        parts.append(values[name])
        parts.append(segment)
    return b"".join(parts)
