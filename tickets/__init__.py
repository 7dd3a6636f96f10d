"""The one queue: tickets, their audit trail, the state machine and the store.

Other parts read and change tickets only through `tickets.store` and the models exported here.
"""
from tickets.db import Base, Database, database_url, utcnow
from tickets.models import ChannelCursor, QuarantinedRecord, Ticket, TicketEvent
from tickets.schema import BadRecord, IncomingTicket
from tickets.states import OPEN_STATUSES, TransitionError
from tickets.vocabulary import (CHINA_TZ, KIND_LABELS, KINDS, PRIORITIES, PRIORITY_LABELS, STATUS_LABELS, STATUSES, Kind,
                                 Priority, Status, is_urgent, kind_label, priority_label, status_label)

__all__ = [
    "Base", "Database", "database_url", "utcnow", "Ticket", "TicketEvent", "QuarantinedRecord", "ChannelCursor",
    "IncomingTicket", "BadRecord", "STATUSES", "OPEN_STATUSES", "TransitionError",
    "CHINA_TZ", "Kind", "Priority", "Status", "KINDS", "PRIORITIES", "KIND_LABELS", "PRIORITY_LABELS", "STATUS_LABELS",
    "kind_label", "priority_label", "status_label", "is_urgent",
]
