"""The unified social credit code (统一社会信用代码, GB 32100-2015): 18 characters whose last is a check digit over
the first 17. A code that fails the check is a typing error somewhere, so it must not join two businesses."""
from __future__ import annotations

import unicodedata
from typing import Optional

# The standard's 31 characters, valued 0..30 in this order (I, O, S, V and Z are left out: they read like digits).
ALPHABET = "0123456789ABCDEFGHJKLMNPQRTUWXY"
VALUE = {ch: i for i, ch in enumerate(ALPHABET)}
# Position i (1-based) weighs 3^(i-1) mod 31.
WEIGHTS = tuple(pow(3, i, 31) for i in range(17))


def clean_code(raw: Optional[str]) -> str:
    """The code as written, in half width, upper case, without spaces or dashes."""
    if not raw:
        return ""
    text = unicodedata.normalize("NFKC", raw).upper()
    return "".join(ch for ch in text if ch not in " -\u3000\t")


def check_character(first17: str) -> str:
    """The 18th character the standard gives for these 17."""
    total = sum(VALUE[ch] * w for ch, w in zip(first17, WEIGHTS))
    return ALPHABET[(31 - total % 31) % 31]


def valid_credit_code(raw: Optional[str]) -> bool:
    """True when `raw` is 18 characters of the standard's alphabet whose check character is right."""
    code = clean_code(raw)
    if len(code) != 18 or any(ch not in VALUE for ch in code):
        return False
    return check_character(code[:17]) == code[17]


def credit_code_problem(raw: Optional[str]) -> Optional[str]:
    """Why a code given cannot be used (in Chinese, for the business's page and the command line); None if it can."""
    code = clean_code(raw)
    if not code:
        return None
    if len(code) != 18:
        return f"统一社会信用代码应为18位，所给为{len(code)}位"
    bad = [ch for ch in code if ch not in VALUE]
    if bad:
        return f"统一社会信用代码含有不允许的字符 {''.join(dict.fromkeys(bad))}"
    if check_character(code[:17]) != code[17]:
        return "统一社会信用代码校验位不符"
    return None
