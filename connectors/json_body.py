"""Reading a JSON body a partner sent: UTF-8 JSON in the strict sense, nested no deeper than a ticket needs, so a
body nested thousands deep is refused with its reason instead of exhausting the parser's stack. Whether its values
can be stored is the ticket schema's check (tickets.column_fit)."""
from __future__ import annotations

import json
from typing import Any

# A ticket and its `extra` fields need a few levels; nothing a partner sends needs more than this.
MAX_DEPTH = 32


class NotJson(ValueError):
    """The body is not JSON a ticket can be read from; the message says why."""


def load_json(body: bytes, max_depth: int = MAX_DEPTH) -> Any:
    """The JSON value of `body`, or NotJson: not UTF-8, not JSON, a number too long to read, or nested more than
    `max_depth` deep."""
    try:
        text = body.decode("utf-8")
    except UnicodeDecodeError:
        raise NotJson("the body is not UTF-8") from None
    try:
        value = json.loads(text)
    except RecursionError:
        raise NotJson(f"the body is nested more than {max_depth} levels deep") from None
    except json.JSONDecodeError as exc:
        raise NotJson(f"the body is not JSON: {exc.msg} at character {exc.pos}") from None
    except ValueError:  # Python refuses to read an integer of thousands of digits
        raise NotJson("the body holds a number too long to read") from None
    if depth(value) > max_depth:
        raise NotJson(f"the body is nested more than {max_depth} levels deep")
    return value


def depth(value: Any) -> int:
    """How deep lists and objects nest in `value` (a scalar is 0), counted without recursion."""
    deepest, stack = 0, [(value, 0)]
    while stack:
        item, level = stack.pop()
        if isinstance(item, dict):
            item = list(item.values())
        if isinstance(item, list):
            deepest = max(deepest, level + 1)
            stack.extend((child, level + 1) for child in item)
    return deepest
