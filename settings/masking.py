"""Masking of personal data before it reaches a log line: phones keep 3+4 digits, names their first character."""
from __future__ import annotations

import re

PHONE_RE = re.compile(r"(?<!\d)(\+?86)?(1[3-9]\d)(\d{4})(\d{4})(?!\d)")


def mask_phone(value: str) -> str:
    if not value:
        return value
    digits = value[-11:]
    if len(value) < 7:
        return "*" * len(value)
    return value[: len(value) - 11] + digits[:3] + "****" + digits[-4:] if len(digits) == 11 else value[:3] + "****"


def mask_name(value: str) -> str:
    return value[:1] + "*" * max(1, len(value) - 1) if value else value


def mask_text(text: str) -> str:
    """Any mobile number inside free text."""
    return PHONE_RE.sub(lambda m: (m.group(1) or "") + m.group(2) + "****" + m.group(4), text)


PHONE_KEYS = {"phone", "to", "from", "from_", "mobile", "complainant_phone"}
NAME_KEYS = {"name", "complainant_name", "contact_name", "caller", "handler"}


def mask_event(_logger, _method, event_dict: dict) -> dict:
    """structlog processor: personal fields masked by key, phone numbers masked anywhere in strings."""
    for key, value in list(event_dict.items()):
        if not isinstance(value, str):
            continue
        lowered = key.lower()
        if lowered in PHONE_KEYS or lowered.endswith("_phone"):
            event_dict[key] = mask_phone(value)
        elif lowered in NAME_KEYS:
            event_dict[key] = mask_name(value)
        else:
            event_dict[key] = mask_text(value)
    return event_dict
