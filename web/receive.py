"""Reading what a machine caller sent and storing one record it pushed. A field the service cannot take (a NUL
character, a number out of its column's range) is refused as a 400 naming the field, never a 500."""
from __future__ import annotations

from dataclasses import dataclass
from typing import Mapping, Optional

import structlog
from fastapi import FastAPI, Request
from fastapi.responses import JSONResponse

from tickets.column_fit import DoesNotFit
from tickets.db import Database
from tickets.intake import register
from tickets.schema import IncomingTicket

log = structlog.get_logger("web")

# Row ids are 64-bit; small codes (a provider's error code) are stored in 32-bit columns.
MAX_ID, MAX_CODE = 2**63 - 1, 2**31 - 1


class FieldRefused(Exception):
    """A request field the service cannot take; answered `status` with the message and the field's name."""

    def __init__(self, field: str, message: str, status: int = 400):
        super().__init__(f"{field}: {message}")
        self.field, self.message, self.status = field, message, status


def whole_number(value: object, field: str, low: int, high: int) -> Optional[int]:
    """`value` as an int from `low` to `high`; None when absent or empty; FieldRefused otherwise."""
    if value in (None, ""):
        return None
    text = str(value).strip()
    if not (text.isascii() and text.lstrip("+-").isdigit()) or len(text) > 20 or not low <= int(text) <= high:
        raise FieldRefused(field, f"must be a whole number from {low} to {high}")
    return int(text)


def text_fields(form: Mapping[str, object]) -> dict[str, str]:
    """The form's text values; a NUL character, which no text of ours holds and PostgreSQL cannot store, is refused
    naming its field."""
    fields = {}
    for name, value in form.items():
        if not isinstance(value, str):
            raise FieldRefused(name, "must be text, not a file", 415)
        if "\x00" in value or "\x00" in name:
            raise FieldRefused(name.replace("\x00", "\\x00"), "holds a NUL character")
        fields[name] = value
    return fields


def address_text(request: Request) -> None:
    """A dependency of every route: a NUL character in a path or query parameter (which no id, date or search
    of ours holds, and PostgreSQL cannot even compare) is refused naming the parameter."""
    for name, value in list(request.path_params.items()) + request.query_params.multi_items():
        if "\x00" in name or (isinstance(value, str) and "\x00" in value):
            raise FieldRefused(name.replace("\x00", "\\x00"), "holds a NUL character")


def install(app: FastAPI) -> None:
    """Every route answers a field it cannot take with a 4xx naming it: a FieldRefused from reading the request, a
    DoesNotFit from the store's check that each value fits its column."""

    @app.exception_handler(FieldRefused)
    async def _refused(request: Request, exc: FieldRefused) -> JSONResponse:
        return JSONResponse({"error": str(exc), "field": exc.field}, status_code=exc.status)

    @app.exception_handler(DoesNotFit)
    async def _does_not_fit(request: Request, exc: DoesNotFit) -> JSONResponse:
        log.info("request_does_not_fit", path=request.url.path, fields=[p.field for p in exc.problems])
        return JSONResponse({"error": "a value cannot be stored as given", "errors": exc.errors()}, status_code=422)


@dataclass(frozen=True)
class Received:
    number: str
    status: str
    created: bool


def receive(db: Database, channel: str, channel_kind: str, record: IncomingTicket) -> Received:
    """Register `record` and commit; called from a thread of the web server's pool."""
    with db.transaction() as s:
        got = register(s, channel, channel_kind, record)
        return Received(got.ticket.number, got.ticket.status, got.created)
