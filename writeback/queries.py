"""The listing of write-backs for the command line and the pages: filters as keyword arguments, a limit,
newest first."""
from __future__ import annotations

from typing import Optional

from sqlalchemy import select
from sqlalchemy.orm import Session

from settings.masking import mask_text
from writeback.models import OutboxItem


def list_outbox(session: Session, *, status: Optional[str] = None, channel: Optional[str] = None,
                ticket_id: Optional[int] = None, limit: int = 100) -> list[OutboxItem]:
    """Write-backs in a status ("pending", "delivered", "dead": the dead letters), to a channel, about a
    ticket (each filter optional), newest first."""
    stmt = select(OutboxItem).order_by(OutboxItem.id.desc()).limit(limit)
    if status:
        stmt = stmt.where(OutboxItem.status == status)
    if channel:
        stmt = stmt.where(OutboxItem.channel == channel)
    if ticket_id is not None:
        stmt = stmt.where(OutboxItem.ticket_id == ticket_id)
    return list(session.scalars(stmt))


def shown_history(history: Optional[list]) -> list:
    """A row's attempts as shown to operators: each error masked again (one stored before masking was added
    still names the people in it)."""
    return [entry | {"error": mask_text(entry["error"])} if isinstance(entry, dict) and entry.get("error") else entry
            for entry in history or []]
