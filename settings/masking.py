"""Masking of personal data before it reaches a log line, a stored error or a public feed: phones keep 3+4
digits, identity numbers their first 3 and last 4, names their first character."""
from __future__ import annotations

import re
from typing import Any

# A mobile number, also written in groups (138-0289-1234, 138 0289 1234) or with +86 in front.
PHONE_RE = re.compile(r"(?<![\dA-Za-z])(\+?86[\s-]?)?(1[3-9]\d)[\s-]?(\d{4})[\s-]?(\d{4})(?![\dA-Za-z])")
# Any other number in international form (+8675722223333) or a landline with its area code (0757-22223333).
# A Chinese character may stand right before or after it (回电0757-22223333): only Latin letters, digits and
# the masks' own stars keep it from matching inside a longer code.
OTHER_PHONE_RE = re.compile(r"(?<![0-9A-Za-z_*+])(\+\d{7,15}|0\d{2,3}-\d{7,8})(?![0-9A-Za-z_*])")
# A resident identity number (18 characters, the last a digit or X; or the older 15 digits).
ID_RE = re.compile(r"(?<![\dA-Za-z])(\d{3})(\d{12}|\d{14}[\dXx])(?=[^\dA-Za-z]|$)")
_CJK = r"[\u4e00-\u9fff·]"
# A name after the word that introduces one (姓名：梁美华, 投诉人梁美华) ...
LABELLED_NAME_RE = re.compile(
    r"((?:姓名|联系人|投诉人|举报人|申请人|当事人|来电人|反映人|消费者|收件人|客户|我叫|本人)\s*(?:[:：=是为]\s*)?)"
    rf"({_CJK})({_CJK}{{1,3}})")
# ... or before the title that follows one (梁美华女士, 陈先生 keeps its one character).
TITLED_NAME_RE = re.compile(rf"({_CJK})({_CJK}{{1,2}})(?=先生|女士|小姐)")
NOT_NAME_ENDS = set("位名个的和与及是该这那其")
# A name or phone given as a key and value inside a reply or a parameter list: "complainant_name": "梁美华".
_VALUE = r"""["']?\s*[:=]\s*["']?)([^"',;&}\]\s]+)"""
KEYED_NAME_RE = re.compile(r"""(["']?\b(?:complainant_name|contact_name|first_name|last_name|name|caller|linkman|"""
                           r"""reporter)""" + _VALUE, re.IGNORECASE)
KEYED_PHONE_RE = re.compile(r"""(["']?\b(?:complainant_phone|contact_phone|phone|mobile|tel)""" + _VALUE, re.IGNORECASE)
# SQLAlchemy puts a statement's bound values into its errors; they are the ticket's own data.
SQL_PARAMS_RE = re.compile(r"\[parameters: .*?\](?=\s*(?:\n|\(Background|$))", re.DOTALL)


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
    """Mobile numbers, identity numbers and recognisable names inside free text; a database error's
    parameter list is left out whole."""
    if not text:
        return text
    text = SQL_PARAMS_RE.sub("[parameters hidden]", text)
    text = KEYED_NAME_RE.sub(lambda m: m.group(1) + mask_name(m.group(2)), text)
    text = KEYED_PHONE_RE.sub(lambda m: m.group(1) + mask_phone(m.group(2)), text)
    text = ID_RE.sub(lambda m: m.group(1) + "*" * (len(m.group(2)) - 4) + m.group(2)[-4:], text)
    text = PHONE_RE.sub(lambda m: (m.group(1) or "") + m.group(2) + "****" + m.group(4), text)
    text = OTHER_PHONE_RE.sub(lambda m: m.group(1)[:-8] + "****" + m.group(1)[-4:], text)
    text = LABELLED_NAME_RE.sub(lambda m: m.group(1) + m.group(2) + "*" * len(m.group(3)), text)
    return TITLED_NAME_RE.sub(_titled, text)


def _titled(m: re.Match) -> str:
    # "这位女士", "两名先生" name nobody
    return m.group(0) if m.group(2)[-1] in NOT_NAME_ENDS else m.group(1) + "*" * len(m.group(2))


def error_summary(error: Any, limit: int = 500) -> str:
    """What is kept of an error (an exception or its text) to store and show as `last_error`: its first lines,
    personal data masked, at most `limit` characters."""
    text = f"{type(error).__name__}: {error}" if isinstance(error, BaseException) else str(error)
    # A source's reply may hold what no database column stores (a NUL byte, a lone surrogate): written out.
    text = text.replace("\x00", "\\x00").encode("utf-8", "backslashreplace").decode("utf-8")
    text = mask_text(text.strip())
    lines = [line.rstrip() for line in text.splitlines() if line.strip()]
    summary = " | ".join(lines[:3])
    return summary if len(summary) <= limit else summary[: limit - 1] + "…"


PHONE_KEYS = {"phone", "to", "from", "from_", "mobile", "complainant_phone"}
NAME_KEYS = {"name", "complainant_name", "contact_name", "caller", "handler"}


def _mask_any(value: Any) -> Any:
    if isinstance(value, str):
        return mask_text(value)
    if isinstance(value, dict):
        return {k: _mask_value(str(k), v) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return [_mask_any(v) for v in value]
    return value


def _mask_value(key: str, value: Any) -> Any:
    lowered = key.lower()
    if isinstance(value, str):
        if lowered in PHONE_KEYS or lowered.endswith("_phone"):
            return mask_phone(value)
        if lowered in NAME_KEYS:
            return mask_name(value)
    return _mask_any(value)


def mask_event(_logger, _method, event_dict: dict) -> dict:
    """structlog processor: personal fields masked by key, phones, identity numbers and names masked inside
    every string (nested values and a formatted traceback included)."""
    for key, value in list(event_dict.items()):
        event_dict[key] = _mask_value(key, value)
    return event_dict


# A house, shop or room number in an address: 88号, 3栋, 1203室, 首层1号铺, 18-20号.
# A landline however it stands (OTHER_PHONE_RE wants no letter before it, and a Chinese character is one).
LANDLINE_RE = re.compile(r"(?<![\d+])(?:\+?86[\s-]?)?0\d{2,3}[\s-]?\d{7,8}(?!\d)")
HOUSE_NUMBER_RE = re.compile(r"(?:首层|地下|负)?[\dA-Za-z]+(?:[-—之][\dA-Za-z]+)*\s*(?:号楼|号铺|号|栋|幢|座|室|房|层|楼|铺|档)")


def redact_text(text: str, names: tuple[str, ...] = ()) -> str:
    """For what the public reads: mobile and other phone numbers, identity numbers, names (the given ones wherever
    they stand, and those a label or a title shows) and house numbers are taken out, not masked."""
    if not text:
        return text or ""
    for name in sorted({n.strip() for n in names if n and len(n.strip()) >= 2}, key=len, reverse=True):
        text = text.replace(name, "某")
    text = KEYED_NAME_RE.sub(lambda m: m.group(1) + "某", text)
    text = KEYED_PHONE_RE.sub(lambda m: m.group(1) + "[电话]", text)
    text = ID_RE.sub("[证件号]", text)
    text = PHONE_RE.sub("[电话]", text)
    text = OTHER_PHONE_RE.sub("[电话]", text)
    text = LANDLINE_RE.sub("[电话]", text)
    text = LABELLED_NAME_RE.sub(lambda m: m.group(1) + "某", text)
    text = TITLED_NAME_RE.sub(lambda m: m.group(0) if m.group(2)[-1] in NOT_NAME_ENDS or "某" in m.group(0)
                              else m.group(1) + "某", text)   # 陈先生 → 某先生; a word before it may go too
    return HOUSE_NUMBER_RE.sub("", text)
