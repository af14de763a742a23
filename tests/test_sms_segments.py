"""Segment counting as a phone network counts it: GSM-7 160/153, UCS-2 70/67, characters never split."""

from __future__ import annotations

import pytest

from newsroom.content.segments import count_segments, is_gsm7

EMOJI = "😀"  # one code point, two UTF-16 code units (a surrogate pair)


@pytest.mark.parametrize(
    ("text", "encoding", "units", "segments"),
    [
        ("", "GSM-7", 0, 1),
        ("a" * 160, "GSM-7", 160, 1),
        ("a" * 161, "GSM-7", 161, 2),
        ("a" * 306, "GSM-7", 306, 2),  # 2 x 153
        ("a" * 307, "GSM-7", 307, 3),
        ("€" * 80, "GSM-7", 160, 1),  # extension characters take two septets
        ("€" * 81, "GSM-7", 162, 2),
        ("a" * 159 + "[", "GSM-7", 161, 2),
        ("£¥èéÑÜ§¿" * 20, "GSM-7", 160, 1),  # basic-table accents are one septet
        ("д" * 70, "UCS-2", 70, 1),
        ("д" * 71, "UCS-2", 71, 2),
        ("д" * 134, "UCS-2", 134, 2),  # 2 x 67
        ("д" * 135, "UCS-2", 135, 3),
        ("á" * 70, "UCS-2", 70, 1),  # Spanish á is not in GSM-7
        ("止" * 71, "UCS-2", 71, 2),
        ("م" * 67 + "a" * 3, "UCS-2", 70, 1),  # one Arabic letter makes the whole text UCS-2
        (EMOJI * 35, "UCS-2", 70, 1),  # surrogate pairs count 2
        (EMOJI * 36, "UCS-2", 72, 2),
    ],
)
def test_segment_table(text: str, encoding: str, units: int, segments: int) -> None:
    count = count_segments(text)
    assert (count.encoding, count.units, count.segments) == (encoding, units, segments)


def test_an_extension_character_is_never_split_across_parts() -> None:
    # 152 plain septets leave one septet in part 1: the 2-septet "€" moves whole to part 2.
    text = "a" * 152 + "€" + "a" * 152
    assert count_segments(text).units == 306  # 306 septets would fit 2 x 153 if it could be split...
    assert count_segments(text).segments == 3  # ...but part 1 carries 152, part 2 "€" + 151, part 3 1


def test_an_emoji_is_never_split_across_parts() -> None:
    text = "д" * 66 + EMOJI + "д" * 66  # 134 code units, but the pair cannot straddle parts 1 and 2
    assert count_segments(text).units == 134
    assert count_segments(text).segments == 3


def test_gsm7_alphabet() -> None:
    assert is_gsm7("Reply STOP to end. Msg & data rates may apply: 100% {free}!")
    assert not is_gsm7("It’s")  # a curly apostrophe is not GSM-7
    assert not is_gsm7("Сообщение")
