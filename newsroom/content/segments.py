"""SMS segment arithmetic: GSM-7 (160 single, 153 per part) versus UCS-2 (70 single, 67 per part).

A long message is sent as parts with a 6-byte header each, which leaves 153 septets (GSM-7) or 67
UTF-16 code units (UCS-2) per part. Phones and SMSCs never split a character across parts: an
extension character (an escape septet plus the character) or a UTF-16 surrogate pair (an emoji)
that does not fit in what is left of a part moves whole to the next one, so counting units and
dividing by the part size can come out one segment short. We pack parts the way the network does.
"""

from __future__ import annotations

from dataclasses import dataclass

GSM7_BASIC = frozenset(
    "@£$¥èéùìòÇ\nØø\rÅåΔ_ΦΓΛΩΠΨΣΘΞÆæßÉ !\"#¤%&'()*+,-./0123456789:;<=>?"
    "¡ABCDEFGHIJKLMNOPQRSTUVWXYZÄÖÑÜ§¿abcdefghijklmnopqrstuvwxyzäöñüà"
)
# Characters of the GSM-7 extension table: each takes two septets (an escape plus the character).
GSM7_EXTENSION = frozenset("^{}\\[~]|€\f")
GSM7 = GSM7_BASIC | GSM7_EXTENSION

GSM7_SINGLE, GSM7_PART = 160, 153
UCS2_SINGLE, UCS2_PART = 70, 67


@dataclass(frozen=True)
class SegmentCount:
    encoding: str  # "GSM-7" or "UCS-2"
    units: int  # septets for GSM-7, UTF-16 code units for UCS-2
    segments: int


def is_gsm7(text: str) -> bool:
    return GSM7.issuperset(text)


def count_segments(text: str) -> SegmentCount:
    """How many SMS parts `text` needs, as a phone network counts them."""
    if is_gsm7(text):
        sizes = [2 if ch in GSM7_EXTENSION else 1 for ch in text]
        single, part, encoding = GSM7_SINGLE, GSM7_PART, "GSM-7"
    else:
        sizes = [2 if ord(ch) > 0xFFFF else 1 for ch in text]
        single, part, encoding = UCS2_SINGLE, UCS2_PART, "UCS-2"
    units = sum(sizes)
    segments = 1 if units <= single else _packed_parts(sizes, part)
    return SegmentCount(encoding, units, segments)


def _packed_parts(sizes: list[int], capacity: int) -> int:
    """Parts needed when each character (1 or 2 units) must lie whole inside one part."""
    parts, used = 1, 0
    for size in sizes:
        if used + size > capacity:
            parts, used = parts + 1, 0
        used += size
    return parts
