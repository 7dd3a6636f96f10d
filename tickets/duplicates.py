"""Duplicates across channels: the same consumer about the same business with a similar story, within a
window, is linked to the open ticket instead of being dispatched again; its source still gets the result."""
from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Callable, Optional, Sequence

import structlog
from sqlalchemy import exists, select
from sqlalchemy.orm import Session, lazyload

from tickets import store
from tickets.models import Ticket, TicketEvent
from tickets.states import OPEN_STATUSES

log = structlog.get_logger("tickets.duplicates")

# Words every channel's operators put around a story; they say nothing about which story it is.
_BOILERPLATE = re.compile(r"来电人|消费者|投诉人|举报人|反映|诉求|要求|相关部门|商家|该店|其|称")
_NOT_TEXT = re.compile(r"[\W_]+", re.UNICODE)
_BUSINESS_NOISE = re.compile(r"^(广东省)?(佛山市)?(顺德区)?|有限责任公司$|有限公司$|[\s()（）]")


@dataclass(frozen=True)
class DuplicatePolicy:
    window_days: float = 30
    min_similarity: float = 0.5


def phone_key(phone: Optional[str]) -> Optional[str]:
    """The subscriber number: digits only, without the country code; None if too short to identify anyone."""
    digits = re.sub(r"\D", "", phone or "")
    if digits.startswith("0086"):
        digits = digits[4:]
    elif digits.startswith("86") and len(digits) == 13:
        digits = digits[2:]
    return digits if len(digits) >= 7 else None


def _phone_forms(key: str) -> list[str]:
    return [key, "86" + key, "+86" + key, "0086" + key, "+86 " + key]


def phone_forms(phone: Optional[str]) -> list[str]:
    """The ways the same subscriber's number is stored by the channels; empty if too short to identify anyone."""
    key = phone_key(phone)
    return _phone_forms(key) if key else []


def business_stem(name: Optional[str]) -> str:
    """A business name without the district's prefix and the company suffix: what two channels agree on."""
    return _BUSINESS_NOISE.sub("", name or "")


def similarity(a: str, b: str) -> float:
    """Dice coefficient of the character pairs of two stories, their boilerplate left out (0..1)."""
    pa, pb = _pairs(a), _pairs(b)
    if not pa or not pb:
        return 0.0
    return 2 * len(pa & pb) / (len(pa) + len(pb))


def _pairs(text: str) -> set[str]:
    core = _NOT_TEXT.sub("", _BOILERPLATE.sub("", text or ""))
    return {core[i:i + 2] for i in range(len(core) - 1)}


def same_business(a: Ticket, b: Ticket) -> bool:
    if a.business_code and b.business_code:
        return a.business_code == b.business_code
    na = _BUSINESS_NOISE.sub("", a.business_name or "")
    nb = _BUSINESS_NOISE.sub("", b.business_name or "")
    if len(na) < 2 or len(nb) < 2:
        return False
    return na == nb or na in nb or nb in na


def find_primary(session: Session, ticket: Ticket, policy: DuplicatePolicy) -> tuple[Optional[Ticket], float]:
    """The earlier open ticket this one repeats, with the similarity of their stories; (None, 0) if none."""
    return find_primaries(session, [ticket], policy).get(ticket.id, (None, 0.0))


def find_primaries(session: Session, tickets: Sequence[Ticket], policy: DuplicatePolicy,
                   on_found: Optional[Callable[[Ticket, Ticket, float], None]] = None
                   ) -> dict[int, tuple[Ticket, float]]:
    """For each ticket, in id order, the earlier open ticket it repeats and their stories' similarity; two
    queries for the whole batch. `on_found(ticket, primary, score)` is called as each is found, so a ticket of
    the batch linked by it is no longer open for the later ones (as if they had been looked at one by one)."""
    keyed = [(t, phone_key(t.complainant_phone)) for t in sorted(tickets, key=lambda t: t.id)]
    keyed = [(t, k) for t, k in keyed if k is not None and (t.business_name or t.business_code)]
    if not keyed:
        return {}
    forms = sorted({form for _, key in keyed for form in _phone_forms(key)})
    # Only the phone goes into SQL, so the phone index is used whatever the planner thinks of the others.
    t = Ticket.__table__.c
    by_key: dict[str, list[tuple[int, datetime]]] = {}
    for tid, phone, status, received in session.connection().execute(
            select(t.id, t.complainant_phone, t.status, t.received_at).where(t.complainant_phone.in_(forms))):
        if status in OPEN_STATUSES:
            by_key.setdefault(phone_key(phone), []).append((tid, received))
    window = timedelta(days=policy.window_days)
    wanted = {ticket.id: [tid for tid, received in by_key.get(key, ())
                          if tid < ticket.id  # the earlier one is the primary, so two never point at each other
                          and abs(received - ticket.received_at) <= window]
              for ticket, key in keyed}
    ids = sorted({tid for found in wanted.values() for tid in found})
    if not ids:
        return {}
    candidates = {c.id: c for c in session.scalars(select(Ticket).options(lazyload(Ticket.events))
                                                    .where(Ticket.id.in_(ids)))}
    found: dict[int, tuple[Ticket, float]] = {}
    for ticket, _ in keyed:
        best, best_score = None, 0.0
        for cid in sorted(wanted[ticket.id]):
            candidate = candidates[cid]
            if candidate.status not in OPEN_STATUSES or not same_business(ticket, candidate):
                continue
            score = similarity(f"{ticket.title} {ticket.text}", f"{candidate.title} {candidate.text}")
            if score >= policy.min_similarity and score > best_score:
                best, best_score = candidate, score
        if best is not None:
            found[ticket.id] = (best, best_score)
            if on_found is not None:
                on_found(ticket, best, best_score)
    return found


def link_duplicates(session: Session, tickets: Sequence[Ticket], policy: DuplicatePolicy,
                    actor: str = "dispatch") -> set[int]:
    """Link each new ticket that repeats an open one to it (status duplicate, an event on both), in id order;
    returns the ids of those linked. A ticket staff have unlinked before is left alone."""
    linked: set[int] = set()

    def link(ticket: Ticket, primary: Ticket, score: float) -> None:
        if _was_unlinked(session, ticket):
            return
        ticket.duplicate_of = primary.id
        store.transition(session, ticket, "duplicate", actor, "duplicate_linked", {
            "of": primary.number, "of_channel": primary.channel, "similarity": round(score, 2)})
        store.add_event(session, primary, "duplicate_added", actor, detail={
            "duplicate": ticket.number, "channel": ticket.channel, "source_ref": ticket.source_ref,
            "similarity": round(score, 2)})
        linked.add(ticket.id)
        log.info("ticket_linked_as_duplicate", ticket_id=ticket.id, primary_id=primary.id, similarity=round(score, 2))

    with session.no_autoflush:  # status changes are flushed by transition(); nothing else here needs to be
        find_primaries(session, tickets, policy, on_found=link)
    return linked


def link(session: Session, ticket: Ticket, primary: Ticket, actor: str) -> Ticket:
    """Staff say `ticket` is the same matter as `primary` (关联): it follows the primary and gets its result."""
    if primary.id == ticket.id:
        raise ValueError("a ticket cannot be a duplicate of itself")
    if primary.duplicate_of is not None:
        raise ValueError(f"{primary.number} is itself a duplicate; link to the ticket it repeats")
    if primary.status not in OPEN_STATUSES:
        raise ValueError(f"{primary.number} is no longer open; link to an open ticket")
    ticket.duplicate_of = primary.id
    store.transition(session, ticket, "duplicate", actor, "duplicate_linked",
                     {"of": primary.number, "of_channel": primary.channel, "by_hand": True})
    store.add_event(session, primary, "duplicate_added", actor, detail={
        "duplicate": ticket.number, "channel": ticket.channel, "source_ref": ticket.source_ref, "by_hand": True})
    return ticket


def unlink(session: Session, ticket: Ticket, actor: str) -> Ticket:
    """Staff say it is not the same matter: the ticket is new again (and dispatched on its own)."""
    primary = session.get(Ticket, ticket.duplicate_of) if ticket.duplicate_of else None
    store.transition(session, ticket, "new", actor, "duplicate_unlinked",
                     {"was_of": primary.number if primary else None})
    ticket.duplicate_of = None
    if primary is not None:
        store.add_event(session, primary, "duplicate_removed", actor, detail={"duplicate": ticket.number})
    return ticket


def release(session: Session, primary: Ticket, actor: str) -> list[Ticket]:
    """The primary is gone (withdrawn at its source) but the matter still stands in its duplicates' channels:
    they are new again, to be dispatched, the earliest first and the others linked to it."""
    released = duplicates_of(session, primary)
    for dup in released:
        store.transition(session, dup, "new", actor, "duplicate_released",
                         {"was_of": primary.number, "reason": f"{primary.number} was {primary.status}"})
        dup.duplicate_of = None
    if released:
        log.info("duplicates_released", ticket_id=primary.id, count=len(released))
    return released


def duplicates_of(session: Session, primary: Ticket) -> list[Ticket]:
    """Every ticket linked to `primary`, directly or through another duplicate, oldest first."""
    found: list[Ticket] = []
    frontier = [primary.id]
    seen = {primary.id}
    while frontier:
        # Only the link in SQL: with the status there too, SQLite may read every duplicate in the queue.
        rows = list(session.scalars(select(Ticket).where(Ticket.duplicate_of.in_(frontier)).order_by(Ticket.id)))
        rows = [t for t in rows if t.status == "duplicate" and t.id not in seen]
        seen.update(t.id for t in rows)
        found += rows
        frontier = [t.id for t in rows]
    return found


def share_result(session: Session, primary: Ticket, actor: str, result: str, body: dict) -> list[Ticket]:
    """Write the primary's result back to the source of each of its duplicates: signed first, as the
    primary's own source was, then the result. Returns the duplicates told."""
    from writeback import OutboxItem, enqueue

    duplicates = duplicates_of(session, primary)
    for dup in duplicates:
        ev = store.add_event(session, dup, "result_shared", actor, detail={"from": primary.number, "result": result})
        dup.result_text = result
        signed = session.scalar(select(exists().where(OutboxItem.ticket_id == dup.id, OutboxItem.effect == "accepted")))
        if not signed:
            enqueue(session, dup, "accepted", ev, {"unit_name": body.get("unit_name", ""), "at": body.get("at")})
        enqueue(session, dup, "resolved", ev, dict(body))
    return duplicates


def _was_unlinked(session: Session, ticket: Ticket) -> bool:
    return bool(session.scalar(select(exists().where(TicketEvent.ticket_id == ticket.id,
                                                     TicketEvent.action == "duplicate_unlinked"))))
