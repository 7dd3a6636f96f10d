"""The connector plugin base: a pydantic config model and the capabilities pull, write_back and health."""
from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime
from typing import TYPE_CHECKING, Any, Callable, ClassVar, Iterable, Iterator, Literal, Mapping, Optional

import structlog
from pydantic import BaseModel, ConfigDict, ValidationError

from connectors.change_cursor import ChangeCursor
from tickets.schema import BadRecord, IncomingTicket

if TYPE_CHECKING:
    from connectors.paging import Paginator

log = structlog.get_logger("connectors.base")


class ConnectorConfig(BaseModel):
    """Base of every kind's settings model: unknown settings are errors."""

    model_config = ConfigDict(extra="forbid")


@dataclass
class Batch:
    """One page of a pull: good records, set-aside records, and the cursor to store with them."""

    records: list[IncomingTicket]
    bad: list[BadRecord]
    cursor: Optional[str]
    raw_count: int = 0


@dataclass(frozen=True)
class WriteBackRequest:
    """An effect a source must learn about one of its records. `key` is stable per intended effect."""

    source_ref: str
    effect: Literal["accepted", "resolved", "returned"]
    key: str
    body: dict[str, Any] = field(default_factory=dict)
    # The record as the source sent it (the ticket's payload): where to answer, e.g. a callback URL or a
    # mail's Message-ID and sender.
    source_payload: dict[str, Any] = field(default_factory=dict)


@dataclass(frozen=True)
class WriteBackResult:
    outcome: Literal["done", "already_done"]
    detail: str = ""


class SourceUnavailable(Exception):
    """The source could not be reached or answered with a temporary error; try again later."""

    def __init__(self, message: str, retry_after: Optional[float] = None):
        super().__init__(message)
        self.retry_after = retry_after


class CursorExpired(Exception):
    """The source no longer knows the paging cursor asked with: the query must start again."""

    def __init__(self, status: int):
        super().__init__(f"paging cursor refused with HTTP {status}")
        self.status = status


class WriteBackRejected(Exception):
    """The source refused the effect for good (e.g. a transition its state forbids)."""


def normalise_or_quarantine(
    items: Iterable[Any], normalise: Callable[[Any], IncomingTicket], ref_of: Callable[[Any], Optional[str]],
    names: Optional[Mapping[str, str]] = None,
) -> tuple[list[IncomingTicket], list[BadRecord]]:
    """A page's records in the ticket schema, and the ones that break the contract set aside with their reason
    (`normalise` raises ValueError, pydantic's ValidationError among them; a field is named as the source names
    it, from `names`), so the rest of the page goes in."""
    records: list[IncomingTicket] = []
    bad: list[BadRecord] = []
    for item in items:
        try:
            records.append(normalise(item))
        except ValueError as exc:
            bad.append(BadRecord(raw=item, reason=reason_of(exc, names), source_ref=ref_of(item)))
    return records, bad


def reason_of(exc: Exception, names: Optional[Mapping[str, str]] = None) -> str:
    """Why a record breaks the contract, without its values: for pydantic's ValidationError each wrong field
    (under the source's own name for it, from `names`, once per name) and what is wrong with it. The payload is
    the record as received, so its problem is left out when a field already says it."""
    if not isinstance(exc, ValidationError):
        return str(exc)
    said: dict[str, str] = {}
    errors = exc.errors()
    for e in errors:
        field = ".".join(map(str, e["loc"]))
        if field == "payload" and len(errors) > 1:
            continue
        said.setdefault((names or {}).get(field, field), e["msg"].removeprefix("Value error, "))
    return "; ".join(f"{name}: {message}" for name, message in said.items())


class Connector:
    """Base of every connector kind. Subclasses set `kind` and `Config` and implement what they support."""

    kind: ClassVar[str]
    Config: ClassVar[type[ConnectorConfig]] = ConnectorConfig
    # True when `pull` only reads the source as it goes on (no file moved, no message flagged, no one-use
    # paging cursor spent, when the caller comes back for more): the poll then fetches the next batch while it
    # stores this one. 12345 pages by number; the 12315 platform's cursors serve once.
    read_ahead: ClassVar[bool] = False
    # The source's own name of each ticket field it fills, so a record set aside says which of its fields is wrong.
    source_names: ClassVar[Mapping[str, str]] = {}

    def __init__(self, name: str, config: ConnectorConfig):
        self.name = name
        self.config = config

    def pull(self, cursor: Optional[str]) -> Iterator[Batch]:
        """Yield batches from `cursor` on; each batch's cursor is stored in the transaction that stores it."""
        raise NotImplementedError(f"connector kind {self.kind!r} does not pull")

    # --- paging: the loop lives here; a kind that lists records by change time says where they are, how it
    # asks for a page and which paginator (connectors.paging) walks its pages ---------------------------------

    def request_page(self, paginator: "Paginator") -> tuple[list, Any]:
        """Ask the source for the page `paginator` is at: the page's raw records, and the whole answer (where a
        cursor paginator finds the next cursor). Raises SourceUnavailable, or CursorExpired."""
        raise NotImplementedError(f"connector kind {self.kind!r} does not page")

    def record(self, item: Any) -> IncomingTicket:
        """One raw record in the ticket schema; ValueError with the reason when it breaks the contract."""
        raise NotImplementedError(f"connector kind {self.kind!r} does not page")

    def record_ref(self, item: Any) -> Optional[str]:
        """A raw record's source reference, if it has a readable one (for the quarantine)."""
        return None

    def restart_since(self, read: ChangeCursor) -> Optional[datetime]:
        """Where a query starts again after its paging cursor expired."""
        return read.read_to

    def stored_cursor(self, read: ChangeCursor, paginator: "Paginator") -> Optional[str]:
        """The cursor stored with a page: how far the pull has surely read, and where an unfinished query
        goes on, should the pull stop here."""
        if paginator.finished:
            return read.dump(finished=True)
        return read.dump(finished=False, **paginator.resume())

    def request_records(self, read: ChangeCursor, paginator: "Paginator") -> Iterator[Batch]:
        """The paginator loop of every paging kind: ask for a page, set aside its records that break the
        contract, let the paginator learn where the next page starts, and yield the page with its cursor."""
        while True:
            try:
                items, answer = self.request_page(paginator)
            except CursorExpired as expired:
                paginator.restart(self.restart_since(read))
                log.info("cursor_expired", connector=self.name, restart=paginator.restarts, status=expired.status)
                continue
            records, bad = normalise_or_quarantine(items, self.record, self.record_ref, self.source_names)
            end = read.page([r.source_updated_at for r in records])
            paginator.advance(items, answer, end)
            yield Batch(records, bad, self.stored_cursor(read, paginator), raw_count=len(items))
            if paginator.finished:
                return

    def write_back(self, request: WriteBackRequest) -> WriteBackResult:
        """Apply one effect at the source, idempotently under `request.key`."""
        raise NotImplementedError(f"connector kind {self.kind!r} does not write back")

    def scan_since(self, since: datetime) -> Iterator[Batch]:
        """Re-read the source's records changed since `since`, for reconciliation (pull-able kinds)."""
        raise NotImplementedError(f"connector kind {self.kind!r} cannot be re-read")

    @classmethod
    def writeback_requests(cls, config: ConnectorConfig) -> int:
        """How many requests one write-back attempt can wait for, one after another, each for up to the kind's
        `timeout_seconds` (0: it waits on no source). Loading the configuration refuses a channel whose requests
        can add up to `jobs.claim_seconds`: an attempt must end inside the claim renewed just before it, or a
        second worker may send the same result. The count is of an attempt's usual path; a token the source
        refuses mid-attempt (renewed, and the write tried again) can make an attempt longer. A Retry-After is
        never waited out inside a write-back: it ends the attempt, and the outbox comes back after it."""
        return 0

    @classmethod
    def answers_complainant(cls, payload: dict[str, Any]) -> bool:
        """Whether the source itself tells the complainant of the ticket made from `payload` what became of it
        (a hotline calls back, a platform shows it). Where it does not, onequeue texts them (notify.complainant)."""
        return True

    # For reconciliation: which source statuses show that an effect has arrived.
    effect_statuses: ClassVar[dict[str, frozenset[str]]] = {}

    def health(self) -> dict[str, Any]:
        return {}

    def lag(self, cursor: Optional[str], now: datetime) -> Optional[float]:
        """Seconds between now and the newest source change the cursor has passed, if the kind knows it."""
        return None
