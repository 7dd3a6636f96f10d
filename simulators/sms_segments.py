"""How many SMS segments a text takes, as a carrier counts them: GSM-7 when every character is in
the GSM 03.38 alphabet (160 per message, 153 per part), else UCS-2 (70, or 67 per part)."""
from __future__ import annotations

import math

GSM7_BASIC = set(
    "@£$¥èéùìòÇ\nØø\rÅåΔ_ΦΓΛΩΠΨΣΘΞ\x1bÆæßÉ !\"#¤%&'()*+,-./0123456789:;<=>?"
    "¡ABCDEFGHIJKLMNOPQRSTUVWXYZÄÖÑÜ§¿abcdefghijklmnopqrstuvwxyzäöñüà"
)
GSM7_EXTENSION = set("\f^{}\\[~]|€")  # each takes an escape plus the character: two septets


def is_gsm7(text: str) -> bool:
    return all(c in GSM7_BASIC or c in GSM7_EXTENSION for c in text)


def count_segments(text: str) -> int:
    """Segments needed for `text` (an empty text still takes one)."""
    if is_gsm7(text):
        units = sum(2 if c in GSM7_EXTENSION else 1 for c in text)
        single, part = 160, 153
    else:
        units = len(text.encode("utf-16-le")) // 2  # characters outside the BMP take two
        single, part = 70, 67
    if units <= single:
        return 1
    return math.ceil(units / part)
