"""Photos of the scene that come with a result, kept in the database beside the ticket; images only (read by
their first bytes, whatever their name says), each within a configured size."""
from __future__ import annotations

import hashlib
from dataclasses import dataclass
from datetime import datetime
from typing import Optional

from sqlalchemy import ForeignKey, Integer, LargeBinary, String, select
from sqlalchemy.orm import Mapped, Session, mapped_column

from tickets.db import Base, UtcDateTime, utcnow
from tickets.models import Id, Ticket

MAX_PHOTOS = 3  # per result, as the station's page offers them


class TicketAttachment(Base):
    __tablename__ = "ticket_attachments"

    id: Mapped[int] = mapped_column(Id, primary_key=True)
    ticket_id: Mapped[int] = mapped_column(ForeignKey("tickets.id"), index=True)
    event_id: Mapped[Optional[int]] = mapped_column(ForeignKey("ticket_events.id"))  # the step it came with
    content_type: Mapped[str] = mapped_column(String(32))
    size: Mapped[int] = mapped_column(Integer)
    sha256: Mapped[str] = mapped_column(String(64))
    added_by: Mapped[str] = mapped_column(String(64))
    added_at: Mapped[datetime] = mapped_column(UtcDateTime(), default=utcnow)
    data: Mapped[bytes] = mapped_column(LargeBinary)


class NotAnImage(ValueError):
    """A file refused: not an image we take, or too large; the message says which, in Chinese."""


@dataclass(frozen=True)
class Photo:
    """An attachment without its bytes, as a page lists it."""

    id: int
    content_type: str
    size: int
    added_by: str
    added_at: datetime


def image_type(data: bytes) -> Optional[str]:
    """The image type the first bytes show (JPEG, PNG, GIF, WebP), or None."""
    if data.startswith(b"\xff\xd8\xff"):
        return "image/jpeg"
    if data.startswith(b"\x89PNG\r\n\x1a\n"):
        return "image/png"
    if data[:6] in (b"GIF87a", b"GIF89a"):
        return "image/gif"
    if data[:4] == b"RIFF" and data[8:12] == b"WEBP":
        return "image/webp"
    return None


def check_photo(data: bytes, max_bytes: int) -> str:
    """The photo's content type; NotAnImage when it is empty, too large or not an image."""
    if not data:
        raise NotAnImage("照片文件为空。")
    if len(data) > max_bytes:
        raise NotAnImage(f"照片超过 {max_bytes // 1024} KB，请压缩后再上传。")
    kind = image_type(data)
    if kind is None:
        raise NotAnImage("只能上传照片（JPEG、PNG、GIF 或 WebP 图片）。")
    return kind


def add_photos(session: Session, ticket: Ticket, actor: str, photos: list[bytes], max_bytes: int,
               event_id: Optional[int] = None) -> list[int]:
    """Keep up to MAX_PHOTOS checked photos with the ticket; refused whole (NotAnImage) if any one is not fit."""
    if len(photos) > MAX_PHOTOS:
        raise NotAnImage(f"最多上传 {MAX_PHOTOS} 张照片。")
    rows = [TicketAttachment(ticket_id=ticket.id, event_id=event_id, content_type=check_photo(p, max_bytes),
                             size=len(p), sha256=hashlib.sha256(p).hexdigest(), added_by=actor[:64], data=p)
            for p in photos]
    session.add_all(rows)
    session.flush()
    return [r.id for r in rows]


def photos_of(session: Session, ticket_id: int) -> list[Photo]:
    """A ticket's photos, oldest first, without their bytes."""
    rows = session.execute(select(TicketAttachment.id, TicketAttachment.content_type, TicketAttachment.size,
                                  TicketAttachment.added_by, TicketAttachment.added_at)
                           .where(TicketAttachment.ticket_id == ticket_id).order_by(TicketAttachment.id))
    return [Photo(*r) for r in rows]


def photo_data(session: Session, ticket_id: int, photo_id: int) -> Optional[tuple[str, bytes]]:
    """The content type and bytes of one photo of the ticket, or None."""
    row = session.execute(select(TicketAttachment.content_type, TicketAttachment.data)
                          .where(TicketAttachment.id == photo_id, TicketAttachment.ticket_id == ticket_id)).first()
    return (row[0], row[1]) if row else None
