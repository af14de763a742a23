"""MIME assembly with holes: a message's bytes, rendered once, with slots for the personal parts.

A prepared message is a list of byte segments and named slots (To, Date, Message-ID, the unsubscribe
and preference links). Personalising one is `b"".join` of the segments with each slot's bytes: no
Jinja2, MJML, encoding or MIME work per subscriber.

That only works if substitution cannot break an encoding, so the body parts are quoted-printable
written here, not by the `email` package: the text between slots is encoded and wrapped by binascii
(lines of at most 76 characters), and each slot sits alone on a soft line ("=" CRLF before and after
it), so wrapping never depends on a value. Slot values are URLs of printable ASCII without '=', which
QP carries literally. A slot's line is as long as its URL (about 90 characters: longer than QP's 76,
which every decoder tolerates, and far below RFC 5322's 998 octets). 8bit would avoid that, but a
relay without 8BITMIME would then re-encode the body and break a DKIM signature.
"""

from __future__ import annotations

import binascii
import re
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from email.header import Header
from email.utils import formataddr

CRLF = "\r\n"
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


def quoted_printable(text: str) -> list[Piece]:
    """`text` (with slot markers) as quoted-printable with CRLF line ends, each slot alone on a soft line.

    binascii encodes and wraps every run of text at C speed; a soft line break before and after each
    slot means every run starts at column 0, so its wrapping is right whatever the slot's value."""
    out: list[Piece] = []
    for piece in split_slots(text):
        if isinstance(piece, Slot):
            if out and not str(out[-1]).endswith(CRLF):
                out.append("=" + CRLF)
            out += [piece, "=" + CRLF]
        else:
            encoded = binascii.b2a_qp(piece.encode("utf-8"), quotetabs=False, istext=True, header=False)
            out.append(encoded.decode("ascii").replace("\n", CRLF))
    if out and not str(out[-1]).endswith(CRLF):
        out.append(CRLF)
    return out


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
