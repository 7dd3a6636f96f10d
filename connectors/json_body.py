"""Reading a JSON body a partner sent: UTF-8 JSON that every store can keep as it is. A body nested thousands deep,
a NUL character, a lone surrogate or a number JSON has no word for (NaN, 1e400) is refused naming where it is,
instead of exhausting the parser's stack or failing in the database."""
from __future__ import annotations

import json
import math
import re
from typing import Any, Optional

# A ticket and its `extra` fields need a few levels; nothing a partner sends needs more than this.
MAX_DEPTH = 32
# No text of ours holds NUL (PostgreSQL cannot store it) or half of a surrogate pair (not encodable as UTF-8).
UNSTORABLE = re.compile("[\x00\ud800-\udfff]")


class NotJson(ValueError):
    """The body is not JSON a ticket can be read from: the message says why, `field` where (or "(body)")."""

    def __init__(self, message: str, field: str = "(body)"):
        super().__init__(message if field == "(body)" else f"{field}: {message}")
        self.field, self.message = field, message


def _no_constant(name: str) -> Any:
    raise NotJson(f"{name} is not a JSON number")


def load_json(body: bytes, max_depth: int = MAX_DEPTH) -> Any:
    """The JSON value of `body`, or NotJson: not UTF-8, not JSON, nested more than `max_depth` deep, or holding
    what no store keeps (NUL, a lone surrogate, NaN or an infinite number)."""
    try:
        text = body.decode("utf-8")
    except UnicodeDecodeError:
        raise NotJson("the body is not UTF-8") from None
    try:
        value = json.loads(text, parse_constant=_no_constant)
    except RecursionError:
        raise NotJson(f"the body is nested more than {max_depth} levels deep") from None
    except json.JSONDecodeError as exc:
        raise NotJson(f"the body is not JSON: {exc.msg} at character {exc.pos}") from None
    except ValueError as exc:  # NotJson from a constant, or a number too long to read
        raise (exc if isinstance(exc, NotJson) else NotJson("the body holds a number too long to read")) from None
    problem = unstorable(value, max_depth)
    if problem:
        raise NotJson(*problem)
    return value


def unstorable(value: Any, max_depth: int = MAX_DEPTH) -> Optional[tuple[str, str]]:
    """What in `value` no store keeps and where it is (message, field path), or None; walked without recursion."""
    stack: list[tuple[Any, str, int]] = [(value, "", 0)]
    while stack:
        item, path, level = stack.pop()
        where = path or "(body)"
        if isinstance(item, (dict, list)):
            if level >= max_depth:
                return f"nested more than {max_depth} levels deep", where
            pairs = item.items() if isinstance(item, dict) else enumerate(item)
            for key, child in pairs:
                if isinstance(key, str) and UNSTORABLE.search(key):
                    return "a field name holds a NUL character or a lone surrogate", where
                stack.append((child, f"{path}.{key}" if path else str(key), level + 1))
        elif isinstance(item, str) and UNSTORABLE.search(item):
            return "holds a NUL character or a lone surrogate", where
        elif isinstance(item, float) and not math.isfinite(item):
            return "is a number too large for JSON", where
    return None
