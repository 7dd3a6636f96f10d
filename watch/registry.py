"""The business registry kept current: a job follows the tickets' history from a stored high-water mark (core bulk
inserts fire no ORM events, but every change is an event row) and matches each ticket it names to its business —
by a valid credit code, else by its name's key and town, with businesses.yaml's aliases. A ticket is matched again
when it changes (dispatch gives it its town), unless an administrator placed it by hand."""
from __future__ import annotations

from dataclasses import dataclass
from datetime import timedelta
from typing import Callable, Iterable, Optional, Sequence

import structlog
from sqlalchemy import func, or_, select
from sqlalchemy.orm import Session

from tickets.db import Database, utcnow
from tickets.marks import hold_mark, set_mark
from tickets.models import Ticket, TicketEvent
from watch.aliases import Aliases
from watch.credit_code import clean_code, credit_code_problem
from watch.models import Business, BusinessEvent, BusinessTicket
from watch.names import name_key

log = structlog.get_logger("watch")

MARK = "watch:last_event"  # the counters row holding the id of the last event the registry has taken in
LOOK_BACK = timedelta(minutes=2)  # an event inserted before another may commit after it
LOOK_BACK_EVENTS = 20000          # ... and at most this many events back: a range of the primary key, not a scan


class BusinessNotFound(LookupError):
    pass


@dataclass(frozen=True)
class Linked:
    """A ticket newly about a business (or moved to another)."""

    ticket_id: int
    business_id: int


# Called with the tickets newly placed and the businesses of every ticket looked at (a resolved ticket's too).
OnLinked = Callable[[Session, list[Linked], set[int]], None]


def catch_up(db: Database, aliases: Aliases = Aliases(), hooks: Sequence[OnLinked] = (), batch: int = 2000,
             stopping: Callable[[], bool] = lambda: False, look_back: bool = True) -> int:
    """Match the tickets changed since the last run (and with `look_back`, those of the last two minutes again);
    returns how many were newly placed. `hooks` see the newly placed tickets in the same transaction (the
    early-warning rules). Safe in several workers at once."""
    placed = 0
    first = look_back
    while not stopping():
        with db.transaction() as s:
            mark = hold_mark(s, MARK)
            rows = s.execute(select(TicketEvent.id, TicketEvent.ticket_id).where(TicketEvent.id > mark)
                             .order_by(TicketEvent.id).limit(batch)).all()
            ids = {r.ticket_id for r in rows}
            if first:
                ids.update(s.scalars(select(TicketEvent.ticket_id).distinct().where(
                    TicketEvent.id > mark - LOOK_BACK_EVENTS, TicketEvent.id <= mark,
                    TicketEvent.at >= utcnow() - LOOK_BACK)))
                first = False
            linked = match(s, sorted(ids), aliases)
            if hooks:
                touched = set(s.scalars(select(BusinessTicket.business_id).distinct().where(
                    BusinessTicket.ticket_id.in_(sorted(ids))))) if ids else set()
                for hook in hooks:
                    hook(s, linked, touched)
            if rows:
                set_mark(s, MARK, rows[-1].id)
            placed += len(linked)
        if len(rows) < batch:
            break
    if placed:
        log.info("businesses_matched", tickets=placed)
    return placed


def match(session: Session, ticket_ids: Sequence[int], aliases: Aliases = Aliases()) -> list[Linked]:
    """Place each of these tickets with its business (made if new); returns those placed anew or moved."""
    out: list[Linked] = []
    for start in range(0, len(ticket_ids), 500):
        chunk = list(ticket_ids[start:start + 500])
        tickets = session.execute(select(Ticket.id, Ticket.business_name, Ticket.business_code, Ticket.town)
                                  .where(Ticket.id.in_(chunk))).all()
        links = {b.ticket_id: b for b in session.scalars(
            select(BusinessTicket).where(BusinessTicket.ticket_id.in_(chunk)))}
        for t in tickets:
            link = links.get(t.id)
            if link is not None and link.pinned:
                continue
            found = _business_for(session, t.business_name, t.business_code, t.town or "", aliases)
            if found is None:
                if link is not None:
                    session.delete(link)
                continue
            business, how, note = found
            if link is None:
                session.add(BusinessTicket(ticket_id=t.id, business_id=business.id, matched_by=how, note=note))
                out.append(Linked(t.id, business.id))
            elif link.business_id != business.id or link.matched_by != how or link.note != note:
                if link.business_id != business.id:
                    out.append(Linked(t.id, business.id))
                link.business_id, link.matched_by, link.note, link.at = business.id, how, note, utcnow()
        session.flush()
    return out


def _business_for(session: Session, name: Optional[str], code: Optional[str], town: str,
                  aliases: Aliases) -> Optional[tuple[Business, str, Optional[str]]]:
    """The business a ticket's name, code and town stand for, how it was recognised, and a note."""
    note = None
    code = clean_code(code)
    if code:
        problem = credit_code_problem(code)
        if problem is None:
            business = session.scalar(select(Business).where(Business.credit_code == code))
            if business is None:
                business = _by_name(session, name_key(name), town, create=False)
                if business is not None and business.credit_code is None:
                    business.credit_code = code   # the name's business now has its code
                else:
                    business = _create(session, name or code, name_key(name) or code, town, code)
            business = _followed(session, business)
            if town and not business.town:
                business.town = town
            return business, "code", None
        note = f"{problem}：{code}，未用于识别"
        log.warning("credit_code_ignored", problem=problem)
    key = name_key(name)
    if not key:
        return None
    how = "name"
    canonical = aliases.canonical(key, town)
    if canonical is not None:
        key, how = canonical, "alias"
    business = _by_name(session, key, town, create=True, name=name)
    return _followed(session, business), how, note


def _by_name(session: Session, key: str, town: str, create: bool, name: Optional[str] = None) -> Optional[Business]:
    if not key:
        return None
    # merged businesses too: what matched one before goes where it was merged to
    rows = list(session.scalars(select(Business).where(Business.name_key == key).order_by(Business.id)))
    if town:
        same = [b for b in rows if b.town == town]
        if same:
            return same[0]
        unplaced = [b for b in rows if b.town == ""]
        if unplaced:  # known before any ticket about it had its town
            unplaced[0].town, unplaced[0].updated_at = town, utcnow()
            return unplaced[0]
    else:
        if len(rows) == 1 or (rows and all(b.town == "" for b in rows)):
            return rows[0]
        unplaced = [b for b in rows if b.town == ""]
        if unplaced:
            return unplaced[0]
    return _create(session, name or key, key, town, None) if create else None


def _create(session: Session, name: str, key: str, town: str, code: Optional[str]) -> Business:
    business = Business(name=name.strip()[:200], name_key=key[:200], town=town, credit_code=code)
    session.add(business)
    session.flush()
    return business


def _followed(session: Session, business: Business) -> Business:
    """The business a merged one now is."""
    seen = {business.id}
    while business.merged_into is not None:
        business = session.get(Business, business.merged_into)
        if business.id in seen:
            break
        seen.add(business.id)
    return business


def rematch(db: Database, aliases: Aliases = Aliases(), batch: int = 2000) -> int:
    """Match every ticket again (after businesses.yaml was edited); returns the tickets that moved."""
    moved, last = 0, 0
    while True:
        with db.transaction() as s:
            ids = list(s.scalars(select(Ticket.id).where(Ticket.id > last).order_by(Ticket.id).limit(batch)))
            if not ids:
                break
            moved += len(match(s, ids, aliases))
            last = ids[-1]
    return moved


# --- what administrators do -------------------------------------------------------------------------------------

def get(session: Session, ref: str | int) -> Business:
    """A business by its id or credit code."""
    business = None
    text = str(ref).strip()
    if text.isdigit():
        business = session.get(Business, int(text))
    if business is None:
        business = session.scalar(select(Business).where(Business.credit_code == clean_code(text)))
    if business is None:
        raise BusinessNotFound(f"no business {text!r} (give its id or credit code, as `onequeue businesses list` "
                               "shows them)")
    return business


def merge(session: Session, into: str | int, others: Iterable[str | int], actor: str) -> Business:
    """The others become `into`: their tickets move to it and tickets matching them later go to it too."""
    target = _followed(session, get(session, into))
    for ref in others:
        other = get(session, ref)
        if _followed(session, other).id == target.id:
            raise ValueError(f"business {other.id} is already {target.id}")
        if other.credit_code and target.credit_code and other.credit_code != target.credit_code:
            raise ValueError(f"business {other.id} and {target.id} have different credit codes: they are two "
                             "businesses")
        moved = 0
        for link in session.scalars(select(BusinessTicket).where(BusinessTicket.business_id == other.id)):
            link.business_id, link.matched_by, link.at = target.id, "merge", utcnow()
            moved += 1
        other.merged_into, other.updated_at = target.id, utcnow()
        if other.credit_code and not target.credit_code:
            code, other.credit_code = other.credit_code, None
            session.flush()
            target.credit_code = code
        session.add(BusinessEvent(business_id=target.id, actor=actor, action="merged",
                                  detail={"from": other.id, "name": other.name, "tickets": moved}))
        session.add(BusinessEvent(business_id=other.id, actor=actor, action="merged_into",
                                  detail={"into": target.id, "tickets": moved}))
    target.updated_at = utcnow()
    session.flush()
    log.info("businesses_merged", into=target.id, actor=actor)
    return target


def split(session: Session, ref: str | int, numbers: Sequence[str], actor: str, name: Optional[str] = None) -> Business:
    """These tickets of a business are about another one: a new business (named `name`, else as the first ticket
    names it) takes them, and they stay there when matched again."""
    source = get(session, ref)
    tickets = list(session.execute(select(Ticket.id, Ticket.number, Ticket.business_name).join(
        BusinessTicket, BusinessTicket.ticket_id == Ticket.id).where(
        Ticket.number.in_(list(numbers)), BusinessTicket.business_id == source.id)).all())
    missing = set(numbers) - {t.number for t in tickets}
    if missing:
        raise ValueError(f"not tickets of business {source.id}: {', '.join(sorted(missing))}")
    if not tickets:
        raise ValueError("name the tickets to split off")
    name = (name or tickets[0].business_name or source.name).strip()
    new = _create(session, name, name_key(name) or source.name_key, source.town, None)
    for link in session.scalars(select(BusinessTicket).where(BusinessTicket.ticket_id.in_([t.id for t in tickets]))):
        link.business_id, link.matched_by, link.pinned, link.at = new.id, "hand", True, utcnow()
    detail = {"tickets": [t.number for t in tickets]}
    session.add(BusinessEvent(business_id=source.id, actor=actor, action="split", detail={**detail, "to": new.id}))
    session.add(BusinessEvent(business_id=new.id, actor=actor, action="split_from", detail={**detail,
                                                                                          "from": source.id}))
    session.flush()
    log.info("business_split", business=source.id, new=new.id, actor=actor)
    return new


def listing(session: Session, town: Optional[str] = None, search: Optional[str] = None, limit: int = 50) -> list[dict]:
    """Businesses with their tickets' count, most complained-about first (merged ones are not listed)."""
    count = func.count(BusinessTicket.ticket_id)
    q = (select(Business, count.label("tickets")).join(BusinessTicket, BusinessTicket.business_id == Business.id)
         .where(Business.merged_into.is_(None)).group_by(Business.id).order_by(count.desc(), Business.id).limit(limit))
    if town:
        q = q.where(Business.town == town)
    if search:
        key = name_key(search) or search
        q = q.where(or_(Business.name_key.contains(key), Business.name.contains(search),
                        Business.credit_code == clean_code(search)))
    return [dict(id=b.id, name=b.name, town=b.town, credit_code=b.credit_code, tickets=n)
            for b, n in session.execute(q).all()]


def show(session: Session, ref: str | int) -> dict:
    """A business: its names as written, its tickets, what was done to it."""
    business = get(session, ref)
    rows = session.execute(select(Ticket.number, Ticket.channel, Ticket.received_at, Ticket.business_name,
                                  Ticket.business_code, Ticket.status, BusinessTicket.matched_by, BusinessTicket.note)
                           .join(BusinessTicket, BusinessTicket.ticket_id == Ticket.id)
                           .where(BusinessTicket.business_id == business.id).order_by(Ticket.received_at)).all()
    spellings: dict[str, int] = {}
    for r in rows:
        spellings[r.business_name or ""] = spellings.get(r.business_name or "", 0) + 1
    events = session.scalars(select(BusinessEvent).where(BusinessEvent.business_id == business.id)
                             .order_by(BusinessEvent.id)).all()
    from watch.watchlist import current_entry, history

    return dict(
        id=business.id, name=business.name, town=business.town, credit_code=business.credit_code,
        merged_into=business.merged_into, spellings=spellings, watched=current_entry(session, business.id) is not None,
        watch_history=history(session, business.id),
        tickets=[dict(number=r.number, channel=r.channel, received_at=r.received_at, business_name=r.business_name,
                      business_code=r.business_code, status=r.status, matched_by=r.matched_by, note=r.note)
                 for r in rows],
        events=[dict(at=e.at, actor=e.actor, action=e.action, detail=e.detail) for e in events])


def business_of(session: Session, ticket_id: int) -> Optional[Business]:
    """The business a ticket is about, if the registry knows it."""
    link = session.get(BusinessTicket, ticket_id)
    return session.get(Business, link.business_id) if link is not None else None


