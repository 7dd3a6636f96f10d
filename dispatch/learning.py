"""Learning from the staff's corrections: when a person sends a ticket to a station, the part of its address that no
gazetteer name reads (a road, a building, an estate) is recorded with that station; a fragment sent to the same
station several times becomes a suggestion an administrator accepts into gazetteer.yaml or rejects.
Nothing is learned silently: only an accepted suggestion changes where tickets go.
"""
from __future__ import annotations

import re
import weakref
from dataclasses import dataclass
from pathlib import Path
from typing import Optional

import structlog
from sqlalchemy import func, select
from sqlalchemy.orm import Session

from tickets.db import utcnow
from tickets.models import Ticket
from tickets.upsert import insert_or_ignore

from dispatch.directory import UnitDirectory
from dispatch.gazetteer_file import add_place
from dispatch.geography import Gazetteer
from dispatch.models import GazetteerCorrection, GazetteerSuggestion

log = structlog.get_logger("dispatch")

MIN_TICKETS = 3     # tickets sent to one station before their fragment is suggested

# A road, a street, a lane, a building, an estate, a market or a mall: the run up to its last such word.
_FRAGMENT = re.compile(r"[\u4e00-\u9fff]{1,12}(?:大道|大街|商业街|步行街|路|街|巷|里|花园|大厦|广场|小区|公寓|商城|市场|中心|新村|苑|城|庭|府)")
_KINDS = (("road", ("大道", "路")), ("street", ("街", "巷", "里")), ("estate", ("花园", "小区", "公寓", "新村", "苑", "庭", "府")),
          ("market", ("市场",)), ("mall", ("商城", "城")), ("building", ("大厦", "广场", "中心")))

_by_units: "weakref.WeakKeyDictionary[UnitDirectory, Gazetteer]" = weakref.WeakKeyDictionary()


class SuggestionNotFound(LookupError):
    pass


@dataclass(frozen=True)
class Suggestion:
    id: int
    fragment: str
    station: str
    status: str
    tickets: list[str]          # the numbers of the tickets staff sent there


@dataclass(frozen=True)
class Accepted:
    id: int
    fragment: str
    station: str
    file: str
    line: int


def fragment_of(gazetteer: Gazetteer, *addresses: Optional[str]) -> Optional[str]:
    """The first road, building or estate of the addresses that the gazetteer does not read, if any."""
    for address in addresses:
        for run in gazetteer.unread(address):
            match = _FRAGMENT.search(run)
            if match and len(match.group(0)) >= 2:
                return match.group(0)
    return None


def kind_of(fragment: str) -> str:
    for kind, endings in _KINDS:
        if fragment.endswith(endings):
            return kind
    return "other"


def record_correction(session: Session, ticket: Ticket, unit, units: UnitDirectory, actor: str) -> Optional[int]:
    """Staff sent `ticket` to `unit`: if that is a station and the address holds a fragment no name reads, record
    it for that station (once per ticket). Returns the suggestion's id, or None when there is nothing to learn."""
    if getattr(unit, "kind", None) != "station":
        return None
    gazetteer = _by_units.get(units)
    if gazetteer is None:
        gazetteer = _by_units[units] = Gazetteer(units)
    fragment = fragment_of(gazetteer, ticket.event_address, ticket.business_address)
    if fragment is None:
        return None
    session.execute(insert_or_ignore(session, GazetteerSuggestion, ["fragment", "station"]),
                    [{"fragment": fragment, "station": unit.id, "status": "open", "created_at": utcnow()}])
    suggestion_id = session.scalar(select(GazetteerSuggestion.id).where(
        GazetteerSuggestion.fragment == fragment, GazetteerSuggestion.station == unit.id))
    session.execute(insert_or_ignore(session, GazetteerCorrection, ["suggestion_id", "ticket_id"]),
                    [{"suggestion_id": suggestion_id, "ticket_id": ticket.id, "actor": actor[:64],
                      "created_at": utcnow()}])
    log.info("gazetteer_correction_recorded", ticket_id=ticket.id, station=unit.id, suggestion=suggestion_id)
    return suggestion_id


def suggestions(session: Session, min_tickets: int = MIN_TICKETS, gazetteer: Optional[Gazetteer] = None,
                status: str = "open") -> list[Suggestion]:
    """Fragments staff sent to one station at least `min_tickets` times, most tickets first, with the tickets.
    With the running `gazetteer`, a fragment it already sends to that station is left out."""
    counted = (select(GazetteerSuggestion, func.count(GazetteerCorrection.id).label("n"))
               .join(GazetteerCorrection, GazetteerCorrection.suggestion_id == GazetteerSuggestion.id)
               .where(GazetteerSuggestion.status == status)
               .group_by(GazetteerSuggestion.id)
               .having(func.count(GazetteerCorrection.id) >= min_tickets)
               .order_by(func.count(GazetteerCorrection.id).desc(), GazetteerSuggestion.id))
    rows = [(row, n) for row, n in session.execute(counted)]
    if gazetteer is not None:
        rows = [(row, n) for row, n in rows if gazetteer.resolve(row.fragment).station != row.station]
    numbers = _numbers(session, [row.id for row, _ in rows])
    return [Suggestion(row.id, row.fragment, row.station, row.status, numbers.get(row.id, [])) for row, _ in rows]


def _numbers(session: Session, ids: list[int]) -> dict[int, list[str]]:
    found: dict[int, list[str]] = {}
    if ids:
        for sid, number in session.execute(
                select(GazetteerCorrection.suggestion_id, Ticket.number)
                .join(Ticket, Ticket.id == GazetteerCorrection.ticket_id)
                .where(GazetteerCorrection.suggestion_id.in_(ids)).order_by(Ticket.id)):
            found.setdefault(sid, []).append(number)
    return found


def _open(session: Session, suggestion_id: int) -> GazetteerSuggestion:
    row = session.scalars(select(GazetteerSuggestion).where(GazetteerSuggestion.id == suggestion_id)
                          .with_for_update()).first()
    if row is None:
        raise SuggestionNotFound(f"no gazetteer suggestion {suggestion_id}")
    if row.status != "open":
        raise ValueError(f"suggestion {suggestion_id} is already {row.status}"
                         + (f" ({row.written_at})" if row.written_at else ""))
    return row


def accept(session: Session, suggestion_id: int, actor: str, path: str | Path, units: UnitDirectory) -> Accepted:
    """Write the suggestion into the gazetteer file at `path` (validated first: an entry that would make the file
    invalid is refused with the file's own error) and mark it accepted; a running worker reloads the file."""
    row = _open(session, suggestion_id)
    tickets = _numbers(session, [row.id]).get(row.id, [])
    line = add_place(path, units, {"name": row.fragment, "kind": kind_of(row.fragment), "station": row.station,
                                   "learned_from": tickets})
    row.status, row.decided_by, row.decided_at, row.written_at = "accepted", actor[:64], utcnow(), f"{path}:{line}"
    log.info("gazetteer_suggestion_accepted", suggestion=row.id, station=row.station, file=str(path), line=line)
    return Accepted(row.id, row.fragment, row.station, str(path), line)


def reject(session: Session, suggestion_id: int, actor: str) -> Suggestion:
    """The suggestion is wrong: it is no longer listed (more tickets sent the same way do not bring it back)."""
    row = _open(session, suggestion_id)
    row.status, row.decided_by, row.decided_at = "rejected", actor[:64], utcnow()
    log.info("gazetteer_suggestion_rejected", suggestion=row.id, station=row.station)
    return Suggestion(row.id, row.fragment, row.station, row.status, _numbers(session, [row.id]).get(row.id, []))
