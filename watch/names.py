"""One business, many spellings: 佛山市顺德区美丽健身有限公司, 美丽健身（大良店） and ＭＥＩＬＩ 美丽健身 must meet. A name's
key drops what channels add or leave out at will — the region before it, its legal form, a branch in brackets,
width and spaces — and keeps the words that name the business."""
from __future__ import annotations

import re
import unicodedata
from typing import Optional

# Longest first: 佛山市顺德区 goes before 顺德 is looked at.
REGION_PREFIXES = ("广东省", "广东", "佛山市", "佛山", "顺德区", "顺德")
LEGAL_FORMS = ("股份有限公司", "有限责任公司", "有限公司", "分公司", "公司", "个体工商户", "个体户", "门店", "分店", "店")
_BRACKETS = re.compile(r"\([^()]*\)|\[[^\[\]]*\]|【[^【】]*】|〔[^〔〕]*〕|<[^<>]*>|《[^《》]*》")
_NOT_NAME = re.compile(r"[\s\W_]+", re.UNICODE)
MIN_LEFT = 2  # a legal form is dropped only when at least this many characters of name remain (书店 stays 书店)


def name_key(name: Optional[str]) -> str:
    """The key two spellings of one business share; "" when nothing of a name is left."""
    if not name:
        return ""
    text = unicodedata.normalize("NFKC", name).lower()  # full width to half: （ → (, ＡＢ → ab
    previous = None
    while previous != text:  # nested brackets, innermost first
        previous, text = text, _BRACKETS.sub("", text)
    text = _NOT_NAME.sub("", text)
    text = _strip_prefixes(text)
    changed = True
    while changed:
        changed = False
        for form in LEGAL_FORMS:
            if text.endswith(form) and len(text) - len(form) >= MIN_LEFT:
                text, changed = text[: -len(form)], True
                break
    return text


def _strip_prefixes(text: str) -> str:
    changed = True
    while changed:
        changed = False
        for prefix in REGION_PREFIXES:
            if text.startswith(prefix) and len(text) - len(prefix) >= MIN_LEFT:
                text, changed = text[len(prefix):], True
                break
    return text
