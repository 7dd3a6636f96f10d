"""What staff must see about SMS in `onequeue health`: messages that did not reach a unit, and replies received."""
from __future__ import annotations

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from notify.models import SmsInbound, SmsMessage
from settings.masking import mask_phone, mask_text
from tickets.models import Ticket


def sms_health(session: Session, recent: int = 10) -> dict:
    """Undeliverable messages to units' contacts (count and the latest), and received replies by outcome."""
    failed = (SmsMessage.status.in_(("failed", "undelivered")), SmsMessage.unit_id.is_not(None))
    count = session.scalar(select(func.count()).select_from(SmsMessage).where(*failed)) or 0
    rows = session.execute(
        select(SmsMessage, Ticket.number).outerjoin(Ticket, Ticket.id == SmsMessage.ticket_id)
        .where(*failed).order_by(SmsMessage.id.desc()).limit(recent)).all()
    inbound = dict(session.execute(select(SmsInbound.outcome, func.count()).group_by(SmsInbound.outcome)).all())
    return {
        "undeliverable": count,
        "recent_undeliverable": [
            {"ticket": number, "unit": m.unit_id, "purpose": m.purpose, "to": mask_phone(m.to_phone),
             "status": m.status, "error_code": m.error_code,
             "error": mask_text(m.last_error) if m.last_error else None, "at": m.sent_at or m.created_at}
            for m, number in rows],
        "inbound": inbound,
    }
