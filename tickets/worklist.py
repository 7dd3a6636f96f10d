"""The back office's queue: its views, filters, search, sorting and paging, read through indexes only.

A page of the queue costs the same with a thousand tickets or a million: views select on indexed columns,
pages continue from the last row seen (keyset, never OFFSET), counts stop at a cap, and text is found through
the database's own index (FTS5 trigram on SQLite, pg_trgm on PostgreSQL).
"""
from __future__ import annotations

import base64
import json
import re
from dataclasses import dataclass, field, replace
from datetime import date, datetime, time, timedelta
from typing import Any, Collection, Optional
from urllib.parse import urlencode

from sqlalchemy import ColumnElement, and_, false, func, literal_column, or_, select, text, true
from sqlalchemy.orm import Session, lazyload

from tickets.db import is_postgres
from tickets.duplicates import phone_forms
from tickets.models import Followup, SavedView, Ticket, TicketEvent
from tickets.states import OPEN_SQL, OPEN_STATUSES
from tickets.vocabulary import CHINA_TZ

FINISHED_STATUSES = ("resolved", "closed", "rejected", "withdrawn")
# Open tickets as the partial index ix_tickets_open_due_at states it, so that the deadline views read it.
OPEN_BY_DEADLINE = text("tickets." + OPEN_SQL)

# The views down the left of the queue, in the order shown, with the sort each opens with.
VIEWS: dict[str, tuple[str, str]] = {
    # "all" leads the command line's listing; the pages show the others.
    "triage": ("待分派", "-received"),
    "new": ("新工单", "-received"),
    "unit": ("本单位待办", "deadline"),
    "due_soon": ("即将超期", "deadline"),
    "overdue": ("已超期", "deadline"),
    "duplicates": ("疑似重复", "-received"),
    "open": ("全部在办", "-received"),
    "closed": ("已办结", "-received"),
    "callback": ("回访", "-received"),   # complainants who answered 1 or 2: to be called back
    "all": ("全部工单", "-received"),
}

# Sortable columns: the key in the page's address and the column behind it.
SORTS: dict[str, Any] = {
    "number": Ticket.id,  # numbers are given in arrival order
    "received": Ticket.id,
    "channel": Ticket.channel,
    "kind": Ticket.kind,
    "priority": Ticket.priority,
    "title": Ticket.title,
    "unit": Ticket.assigned_unit,
    "town": Ticket.town,
    "deadline": Ticket.due_at,
    "status": Ticket.status,
}

COUNT_CAP = 1_000  # a count beyond it shows as 1000+: counting further costs a scan
NUMBER_RE = re.compile(r"^[A-Za-z]{2}\d{4}-\d{3,6}$")


class BadQuery(ValueError):
    """A filter the queue does not know: a page answers 400 with this text."""


@dataclass(frozen=True)
class Filters:
    """What a person asked the queue for; every field is optional but the view."""

    view: str = "open"
    q: str = ""
    status: str = ""
    channel: str = ""
    kind: str = ""
    priority: str = ""
    unit: str = ""
    town: str = ""
    # What the statistics drill down with: the days received (China Standard Time, both included), the
    # station, the dispute type and the outcome; `counted` "1" leaves out duplicates, as the figures count.
    received_from: str = ""
    received_to: str = ""
    station: str = ""
    category: str = ""
    outcome: str = ""
    counted: str = ""
    sort: str = ""  # a key of SORTS, "-" in front for descending; empty: the view's own

    def __post_init__(self):
        if self.view not in VIEWS:
            raise BadQuery(f"unknown view {self.view!r}; views: {', '.join(VIEWS)}")
        if self.sort and self.sort.lstrip("-") not in SORTS:
            raise BadQuery(f"cannot sort by {self.sort!r}; columns: {', '.join(SORTS)}")
        for name in ("received_from", "received_to"):
            value = getattr(self, name)
            try:
                if value:
                    date.fromisoformat(value)
            except ValueError:
                raise BadQuery(f"{name} {value!r} is not a date like 2026-11-30") from None

    @property
    def drilled(self) -> bool:
        """True if the statistics' own filters narrow the queue (the page says so, with a way out)."""
        return any((self.received_from, self.received_to, self.station, self.category, self.outcome, self.counted))

    @classmethod
    def from_query(cls, params: dict[str, str]) -> "Filters":
        known = {f: (params.get(f) or "").strip() for f in cls.__dataclass_fields__ if params.get(f)}
        return cls(**known)

    @property
    def order(self) -> tuple[str, bool]:
        """(column key, descending)."""
        key = self.sort or VIEWS[self.view][1]
        return key.lstrip("-"), key.startswith("-")

    def sort_link(self, key: str) -> str:
        """The query string that sorts by `key`: a second click on the same column turns the order round."""
        current, descending = self.order
        if current == key:
            return self.query_string(sort=key if descending else "-" + key)
        return self.query_string(sort=key)

    def query_string(self, **changes) -> str:
        """The page's address for these filters with `changes`, leaving out what is empty."""
        data = {k: v for k, v in vars(replace(self, **changes) if changes else self).items() if v}
        return urlencode(data)


@dataclass(frozen=True)
class Moments:
    """The times the deadline views compare with: now, and one working day from now."""

    now: datetime
    one_working_day: datetime


@dataclass
class Page:
    tickets: list[Ticket]
    next_after: Optional[str]  # give it back as `after` for the next page; None on the last
    filters: Filters
    extra: dict = field(default_factory=dict)


def _view_clause(view: str, moments: Moments, own_units: Optional[Collection[str]]) -> ColumnElement:
    open_ = Ticket.status.in_(sorted(OPEN_STATUSES))
    if view == "triage":
        return Ticket.status == "triage"
    if view == "new":
        return Ticket.status == "new"
    if view == "unit":
        # The person's own unit and those under it.
        return and_(open_, Ticket.assigned_unit.in_(sorted(own_units))) if own_units else false()
    if view == "due_soon":
        return and_(OPEN_BY_DEADLINE, Ticket.due_at >= moments.now, Ticket.due_at <= moments.one_working_day)
    if view == "overdue":
        return and_(OPEN_BY_DEADLINE, Ticket.due_at < moments.now)
    if view == "duplicates":
        return Ticket.status == "duplicate"
    if view == "open":
        return open_
    if view == "all":
        return true()
    if view == "callback":
        return Ticket.id.in_(select(Followup.ticket_id).where(Followup.callback == "due"))
    return Ticket.status.in_(FINISHED_STATUSES)


def scope_clause(scope_units: Optional[Collection[str]]) -> ColumnElement:
    """What a person may see: None is everything; otherwise the tickets held by one of `scope_units`."""
    if scope_units is None:
        return true()
    if not scope_units:
        return false()
    return Ticket.assigned_unit.in_(sorted(scope_units))


def escape_like(term: str) -> str:
    return term.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_")


def search_clause(session: Session, q: str) -> ColumnElement:
    """Tickets a search box entry finds: by number, source reference or phone exactly, by business name or
    any text of the complaint as a substring (Chinese included)."""
    q = " ".join(q.split())
    if not q:
        return true()
    found = [Ticket.source_ref == q]
    if NUMBER_RE.match(q):
        found.append(Ticket.number == q.upper())
    digits = re.sub(r"[\s\-+]", "", q)
    if digits.isdigit() and len(digits) >= 7:
        found.append(Ticket.complainant_phone.in_(sorted({q, digits, *phone_forms(q)})))
        return or_(*found)
    found.append(_text_clause(session, q))
    return or_(*found)


def _text_clause(session: Session, q: str) -> ColumnElement:
    pattern = f"%{escape_like(q)}%"
    like = or_(Ticket.title.like(pattern, escape="\\"), Ticket.text.like(pattern, escape="\\"),
               Ticket.business_name.like(pattern, escape="\\"))
    if is_postgres(session):
        # pg_trgm's GIN indexes serve LIKE '%…%' directly; the three combine as a bitmap OR.
        return or_(Ticket.title.ilike(pattern, escape="\\"), Ticket.text.ilike(pattern, escape="\\"),
                   Ticket.business_name.ilike(pattern, escape="\\"))
    if len(q) < 3:
        # Trigrams need three characters; a shorter term is looked for row by row, newest first, and the
        # page's LIMIT stops the scan once it has its rows.
        return like
    phrase = '"' + q.replace('"', '""') + '"'
    return Ticket.id.in_(select(literal_column("rowid")).select_from(text("tickets_fts"))
                         .where(text("tickets_fts MATCH :fts_phrase").bindparams(fts_phrase=phrase)))


@dataclass(frozen=True)
class Viewer:
    """Who is looking: the units they may see (None: every ticket) and their own unit with those under it."""

    scope_units: Optional[frozenset[str]] = None
    own_units: frozenset[str] = frozenset()


EVERYONE = Viewer()


def _filter_clauses(session: Session, f: Filters, moments: Moments, viewer: Viewer) -> list[ColumnElement]:
    clauses = [_view_clause(f.view, moments, viewer.own_units), scope_clause(viewer.scope_units)]
    for name in ("status", "channel", "kind", "priority", "town", "station", "category", "outcome"):
        value = getattr(f, name)
        if value:
            clauses.append(getattr(Ticket, name) == value)
    if f.unit:
        clauses.append(Ticket.assigned_unit == f.unit)
    if f.received_from:
        clauses.append(Ticket.received_at >= _cst_midnight(date.fromisoformat(f.received_from)))
    if f.received_to:
        clauses.append(Ticket.received_at < _cst_midnight(date.fromisoformat(f.received_to) + timedelta(days=1)))
    if f.counted:
        clauses.append(Ticket.status != "duplicate")
    if f.q:
        clauses.append(search_clause(session, f.q))
    return clauses


def _cst_midnight(day: date) -> datetime:
    return datetime.combine(day, time(0), CHINA_TZ)


def _encode(value: Any, ticket_id: int) -> str:
    if isinstance(value, datetime):
        value = {"t": value.isoformat()}
    raw = json.dumps([value, ticket_id], ensure_ascii=False).encode()
    return base64.urlsafe_b64encode(raw).decode().rstrip("=")


def _decode(after: str) -> tuple[Any, int]:
    try:
        value, ticket_id = json.loads(base64.urlsafe_b64decode(after + "=" * (-len(after) % 4)))
        if isinstance(value, dict):
            value = datetime.fromisoformat(value["t"])
        return value, int(ticket_id)
    except (ValueError, TypeError, KeyError) as exc:
        raise BadQuery("the page marker `after` is not one this queue gave out") from exc


def _after_clause(column, descending: bool, value: Any, ticket_id: int) -> ColumnElement:
    """Rows after (value, id) in the order `column` (NULLs last), id — for keyset paging."""
    beyond_id = Ticket.id < ticket_id if descending else Ticket.id > ticket_id
    if column is Ticket.id:
        return beyond_id
    if value is None:
        return and_(column.is_(None), beyond_id)
    beyond = column < value if descending else column > value
    return or_(beyond, and_(column == value, beyond_id), column.is_(None))


def find(session: Session, f: Filters, moments: Moments, viewer: Viewer = EVERYONE, limit: int = 50,
         after: Optional[str] = None) -> Page:
    """One page of the queue as `f` asks, of the tickets `viewer` may see."""
    key, descending = f.order
    column = SORTS[key]
    stmt = select(Ticket).options(lazyload(Ticket.events)).where(*_filter_clauses(session, f, moments, viewer))
    if after:
        stmt = stmt.where(_after_clause(column, descending, *_decode(after)))
    if column is Ticket.id:
        order = [Ticket.id.desc() if descending else Ticket.id.asc()]
    else:
        order = [(column.desc() if descending else column.asc()).nulls_last(),
                 Ticket.id.desc() if descending else Ticket.id.asc()]
    rows = list(session.scalars(stmt.order_by(*order).limit(limit + 1)))
    more = len(rows) > limit
    rows = rows[:limit]
    next_after = None
    if more and rows:
        last = rows[-1]
        next_after = _encode(getattr(last, column.key), last.id)
    return Page(rows, next_after, f)


def count(session: Session, f: Filters, moments: Moments, viewer: Viewer = EVERYONE, cap: int = COUNT_CAP) -> int:
    """How many tickets `f` matches, counted up to `cap` (a page shows "10000+" beyond it)."""
    inner = select(Ticket.id).where(*_filter_clauses(session, f, moments, viewer)).limit(cap + 1)
    return session.scalar(select(func.count()).select_from(inner.subquery())) or 0


def view_counts(session: Session, moments: Moments, viewer: Viewer = EVERYONE, cap: int = COUNT_CAP) -> dict[str, int]:
    """The count beside each view, each up to `cap`."""
    return {view: count(session, Filters(view=view), moments, viewer, cap) for view in VIEWS}


def all_ids(session: Session, f: Filters, moments: Moments, viewer: Viewer = EVERYONE, cap: int = 1000) -> list[int]:
    """The ids of every ticket `f` matches, up to `cap`: "all N matching this view" for a bulk action."""
    stmt = select(Ticket.id).where(*_filter_clauses(session, f, moments, viewer)).order_by(Ticket.id)
    return list(session.scalars(stmt.limit(cap)))


# --- saved views ----------------------------------------------------------------------------------

def save_view(session: Session, owner: str, name: str, f: Filters, shared_unit: Optional[str] = None) -> SavedView:
    """Keep `f` under `name` for `owner` (and for everyone of `shared_unit`, when a lead shares it)."""
    name = " ".join(name.split())
    if not name:
        raise ValueError("a saved view needs a name")
    view = SavedView(owner=owner, name=name[:60], query=f.query_string(), shared_unit=shared_unit or None)
    session.add(view)
    session.flush()
    return view


def saved_views(session: Session, owner: str, units: Collection[str] = ()) -> list[SavedView]:
    """A person's own views, then those shared with one of `units`."""
    stmt = select(SavedView).where(or_(SavedView.owner == owner, SavedView.shared_unit.in_(sorted(units))))
    return sorted(session.scalars(stmt), key=lambda v: (v.owner != owner, v.name))


def delete_view(session: Session, owner: str, view_id: int) -> None:
    view = session.get(SavedView, view_id)
    if view is None or view.owner != owner:
        raise ValueError("no such saved view of yours")
    session.delete(view)


# --- live changes ---------------------------------------------------------------------------------

def changes_since(session: Session, event_id: Optional[int], viewer: Viewer = EVERYONE,
                  limit: int = 200) -> tuple[int, list[str]]:
    """(the newest event's id, the numbers of the tickets `viewer` sees that changed after `event_id`).

    With no `event_id`, only the newest id: where a page starts listening."""
    if event_id is None:
        return session.scalar(select(func.max(TicketEvent.id))) or 0, []
    stmt = (select(TicketEvent.id, Ticket.number).join(Ticket, Ticket.id == TicketEvent.ticket_id)
            .where(TicketEvent.id > event_id).order_by(TicketEvent.id).limit(limit))
    rows = session.execute(stmt).all()
    if not rows:
        return event_id, []
    newest = rows[-1][0] if len(rows) == limit else (session.scalar(select(func.max(TicketEvent.id))) or event_id)
    visible = set(session.scalars(select(Ticket.number).where(
        Ticket.number.in_({number for _, number in rows}), scope_clause(viewer.scope_units))))
    return newest, sorted(visible)


def numbers_of(session: Session, ids: Collection[int]) -> list[str]:
    """The numbers of the tickets `ids`, in the order they came in."""
    if not ids:
        return []
    return list(session.scalars(select(Ticket.number).where(Ticket.id.in_(list(ids))).order_by(Ticket.id)))
