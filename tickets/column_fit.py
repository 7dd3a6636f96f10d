"""Whether a value fits the column it is going to: read from the SQLAlchemy model, checked before the database
sees it, so a NUL byte, a value longer than its column or a number past its precision is a clear refusal naming
the field, alike on SQLite (which would store it silently) and PostgreSQL (which would fail the whole batch).

Every entry point uses it: `IncomingTicket` checks each of its fields against the `tickets` columns (a polled
record that does not fit is quarantined with the reason, a pushed one refused with it), and a web form that
writes a column of its own calls `check(Model, {...})` and turns `DoesNotFit` into a 4xx.
Values are refused, never altered: a complaint is a legal record. Text kept only to show an operator why a
record was set aside goes through `storable`, which writes the characters the database refuses as escapes.
"""
from __future__ import annotations

import json
import math
from dataclasses import dataclass
from decimal import Decimal, InvalidOperation, localcontext
from functools import lru_cache
from typing import Any, Mapping, Optional

from sqlalchemy import JSON, BigInteger, Integer, Numeric, SmallInteger, String

# The integer ranges of PostgreSQL, also applied on SQLite (whose INTEGER is wider) so both refuse alike.
_INT_RANGE = {SmallInteger: 2**15, Integer: 2**31, BigInteger: 2**63}


@dataclass(frozen=True)
class Limit:
    """What a column can hold: text up to `length` characters (None: any), JSON, or a number."""

    kind: str                      # "text", "json", "number", "integer" or "other"
    length: Optional[int] = None   # text: the most characters
    whole_digits: Optional[int] = None  # number: digits before the point (precision - scale)
    scale: Optional[int] = None
    bound: Optional[int] = None    # integer: -bound <= value < bound


@dataclass(frozen=True)
class FieldProblem:
    field: str
    message: str

    def __str__(self) -> str:
        return f"{self.field}: {self.message}"


class DoesNotFit(ValueError):
    """Values that cannot be stored as given; `problems` names each field and says why (never the value)."""

    def __init__(self, problems: list[FieldProblem]):
        super().__init__("; ".join(map(str, problems)))
        self.problems = problems

    def errors(self) -> list[dict[str, str]]:
        """As the push and Open311 endpoints answer them: [{field, message}]."""
        return [{"field": p.field, "message": p.message} for p in self.problems]


def _limit_of(column_type) -> Limit:
    # A variant (BigInteger, Integer on SQLite) is judged by its base type: the one PostgreSQL enforces.
    if isinstance(column_type, String):  # Text and Unicode too
        return Limit("text", length=column_type.length)
    if isinstance(column_type, JSON):
        return Limit("json")
    if isinstance(column_type, Numeric) and not isinstance(column_type, Integer):
        precision, scale = column_type.precision, column_type.scale or 0
        if precision is not None and getattr(column_type, "asdecimal", True) is not False:
            return Limit("number", whole_digits=precision - scale, scale=scale)
        return Limit("other")
    for base in (SmallInteger, BigInteger, Integer):
        if isinstance(column_type, base):
            return Limit("integer", bound=_INT_RANGE[base])
    impl = getattr(column_type, "impl", None)  # a TypeDecorator: what it stores
    if impl is not None and not isinstance(impl, type):
        return _limit_of(impl)
    return Limit("other")


@lru_cache(maxsize=None)
def column_limits(model) -> dict[str, Limit]:
    """Each column of a mapped class (by its attribute name) and what it can hold."""
    mapper = model.__mapper__
    return {attr.key: _limit_of(attr.columns[0].type) for attr in mapper.column_attrs if attr.columns}


def text_problem(value: str, length: Optional[int] = None) -> Optional[str]:
    """Why `value` cannot be stored as text of at most `length` characters, or None."""
    at = value.find("\x00")
    if at >= 0:
        return f"holds a NUL byte (character {at + 1}), which the database does not store"
    bad = _surrogate_at(value)
    if bad is not None:
        return f"holds a broken character (a lone surrogate, character {bad + 1}), which is not text"
    if length is not None and len(value) > length:
        return f"is {len(value)} characters long; the column holds at most {length}"
    return None


def _surrogate_at(value: str) -> Optional[int]:
    try:
        value.encode("utf-8")
        return None
    except UnicodeEncodeError as exc:
        return exc.start


def json_problem(doc: Any) -> Optional[str]:
    """Why a JSON document cannot be stored (PostgreSQL's JSONB refuses NUL in any string and NaN or Infinity
    as numbers; SQLite would take them): the path of the first value or key that breaks it, or None."""
    # Every record polled is checked, re-reads of a poll's overlap too: the encoder in C clears a sound document
    # at once; only one it refuses, or whose text shows a NUL or a broken character, is walked to find where.
    try:
        text = json.dumps(doc, ensure_ascii=False, allow_nan=False)
        text.encode("utf-8")
    except (TypeError, ValueError, RecursionError):   # a Decimal, NaN, a lone surrogate, ...: look closer
        return _json_problem_at(doc)
    return _json_problem_at(doc) if "\\u0000" in text else None


def _json_problem_at(doc: Any) -> Optional[str]:
    stack: list[tuple[str, Any]] = [("", doc)]
    while stack:
        path, value = stack.pop()
        if isinstance(value, str):
            problem = text_problem(value)
            if problem:
                return f"{path or 'the document'} {problem}"
        elif isinstance(value, float):
            if not math.isfinite(value):
                return f"{path or 'the document'} is {value!r}, which JSON does not have"
        elif isinstance(value, Decimal):
            if not value.is_finite():
                return f"{path or 'the document'} is {value}, which JSON does not have"
        elif isinstance(value, Mapping):
            for key, item in reversed(list(value.items())):
                key_text = str(key)
                name = _path(path, key_text)
                problem = text_problem(key_text)
                if problem:
                    return f"a key under {path or 'the document'} {problem}"
                stack.append((name, item))
        elif isinstance(value, (list, tuple)):
            stack.extend((f"{path}[{i}]", item) for i, item in reversed(list(enumerate(value))))
    return None


def _path(parent: str, key: str) -> str:
    shown = storable(key[:40]) + ("…" if len(key) > 40 else "")
    return f"{parent}.{shown}" if parent else shown


def number_problem(value: Any, limit: Limit) -> Optional[str]:
    """Why a number does not fit a NUMERIC(p, s) or integer column, or None."""
    if isinstance(value, bool) or value is None:
        return None
    if limit.kind == "integer":
        if isinstance(value, int) and not -limit.bound <= value < limit.bound:
            return f"is out of range; the column holds whole numbers from {-limit.bound} to {limit.bound - 1}"
        return None
    try:
        number = value if isinstance(value, Decimal) else Decimal(str(value))
    except (InvalidOperation, ValueError):
        return None  # not a number at all: the field's own type says so
    if not number.is_finite():
        return f"is {number}, not a number the column can hold"
    ceiling = Decimal(10) ** limit.whole_digits
    if number.adjusted() >= limit.whole_digits or abs(_rounded(number, limit.scale or 0)) >= ceiling:
        return f"is too large; the column holds numbers below {ceiling:,}"
    return None


def _rounded(number: Decimal, scale: int) -> Decimal:
    """As the database rounds it to `scale` places (a value just below the ceiling may round up to it)."""
    with localcontext() as ctx:
        ctx.prec = max(ctx.prec, number.adjusted() + scale + 2)
        return number.quantize(Decimal(1).scaleb(-scale))


def problem(model, field: str, value: Any) -> Optional[str]:
    """Why `value` cannot be stored in column `field` of `model`, or None when it fits (or no such column)."""
    if value is None:
        return None
    limit = column_limits(model).get(field)
    if limit is None:
        return None
    if limit.kind == "text" and isinstance(value, str):
        return text_problem(value, limit.length)
    if limit.kind == "json":
        return json_problem(value)
    if limit.kind in ("number", "integer"):
        return number_problem(value, limit)
    return None


def problems(model, values: Mapping[str, Any]) -> list[FieldProblem]:
    """Every field of `values` that cannot be stored in its column of `model`, with the reason."""
    found = []
    for name, value in values.items():
        why = problem(model, name, value)
        if why:
            found.append(FieldProblem(name, why))
    return found


def check(model, values: Mapping[str, Any]) -> None:
    """Refuse (DoesNotFit, a ValueError) values that would not be stored as given in `model`'s columns: a NUL byte
    or a lone surrogate in text or JSON, text longer than its column, a number past its precision. Call it at an
    entry point before anything is written; the web layer answers DoesNotFit with a 4xx and its `errors()`."""
    found = problems(model, values)
    if found:
        raise DoesNotFit(found)


def storable(text: str, length: Optional[int] = None) -> str:
    """Text kept only to be shown (a quarantined record, a reason, an error) with the characters the database
    refuses written as escapes (`\\x00`, `\\udc80`), cut to `length` characters if given."""
    if "\x00" in text:
        text = text.replace("\x00", "\\x00")
    if _surrogate_at(text) is not None:
        text = "".join(c if not 0xD800 <= ord(c) <= 0xDFFF else f"\\u{ord(c):04x}" for c in text)
    if length is not None and len(text) > length:
        text = text[: length - 1] + "…"
    return text
