"""SMS texts from configured templates, and how many segments each costs."""
from __future__ import annotations

import string
from typing import Mapping

GSM7 = set(
    "@£$¥èéùìòÇ\nØø\rÅåΔ_ΦΓΛΩΠΨΣΘΞÆæßÉ !\"#¤%&'()*+,-./0123456789:;<=>?¡ABCDEFGHIJKLMNOPQRSTUVWXYZÄÖÑÜ§"
    "¿abcdefghijklmnopqrstuvwxyzäöñüà"
)


def segments(body: str) -> int:
    """Billed segments: GSM-7 160/153 characters, UCS-2 (any Chinese) 70/67."""
    if all(ch in GSM7 for ch in body):
        single, multi = 160, 153
    else:
        single, multi = 70, 67
    n = len(body)
    return 1 if n <= single else -(-n // multi)


def template_fields(template: str) -> set[str]:
    return {name for _, name, _, _ in string.Formatter().parse(template) if name}


def render(template: str, values: Mapping[str, object]) -> str:
    return template.format_map({k: ("" if v is None else v) for k, v in values.items()})
