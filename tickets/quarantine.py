"""How a record set aside by intake leaves quarantine: an operator discards it with a reason, or takes it in
again once its source has fixed it. The command line and the operators' pages call these."""
from __future__ import annotations

from datetime import datetime
from typing import Callable, Optional

from sqlalchemy import select
from sqlalchemy.orm import Session

from tickets import store
from tickets.db import utcnow
from tickets.models import QuarantinedRecord, Ticket
from tickets.queries import find_by_source_ref
from tickets.schema import IncomingTicket

# Reads the source again: the record under `source_ref` as the source holds it now, changed since a moment;
# gives the versions that make tickets and the reasons the others still do not.
Reread = Callable[[str, datetime], tuple[list[IncomingTicket], list[str]]]


class QuarantineRefused(ValueError):
    """Why a record cannot leave quarantine this way, said so the operator knows what to do."""


def get_quarantined(session: Session, record_id: int, for_update: bool = False) -> QuarantinedRecord:
    stmt = select(QuarantinedRecord).where(QuarantinedRecord.id == record_id)
    record = session.scalars(stmt.with_for_update() if for_update else stmt).first()
    if record is None:
        raise LookupError(f"没有编号为 {record_id} 的隔离记录。")
    return record


def _open(session: Session, record_id: int) -> QuarantinedRecord:
    record = get_quarantined(session, record_id, for_update=True)
    if record.resolved_at is not None:
        raise QuarantineRefused(f"隔离记录 {record_id} 已处理（{record.resolution or '已解决'}），无需再处理。")
    return record


def _resolve(record: QuarantinedRecord, how: str, note: str, actor: str) -> None:
    record.resolved_at = utcnow()
    record.resolution, record.resolution_note, record.resolved_by = how, note, actor[:64]


def discard(session: Session, record_id: int, reason: str, actor: str) -> QuarantinedRecord:
    """Drop a record for good (a test record, a source's mistake it will not fix), keeping why and who."""
    reason = " ".join((reason or "").split())
    if not reason:
        raise QuarantineRefused("丢弃隔离记录需要填写原因。")
    record = _open(session, record_id)
    _resolve(record, "discarded", reason, actor)
    return record


def take_in(session: Session, record_id: int, channel_kind: str, reread: Reread, actor: str) -> Ticket:
    """Read the record again from its source (which has fixed it) and store it as a ticket, like any other."""
    record = _open(session, record_id)
    if not record.source_ref:
        raise QuarantineRefused("该记录没有来源编号，无法从来源重新读取；请来源修正后重新推送，并丢弃这条记录。")
    records, reasons = reread(record.source_ref, record.created_at)
    records = [r for r in records if r.source_ref == record.source_ref]
    if not records:
        if reasons:
            raise QuarantineRefused(f"来源中的这条记录仍不合规：{reasons[-1]}。请来源修正后再试。")
        raise QuarantineRefused(f"来源中找不到编号为 {record.source_ref} 的记录。")
    store.ingest(session, record.channel, channel_kind, records)
    ticket = find_by_source_ref(session, record.channel, record.source_ref)
    if ticket is None:  # pragma: no cover - ingest stores or finds every record it is given
        raise QuarantineRefused(f"记录 {record.source_ref} 未能入库。")
    _resolve(record, "taken_in", ticket.number, actor)
    return ticket

