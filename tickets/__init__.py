"""The one queue: tickets, their audit trail, the state machine and the store.

Other parts read and change tickets only through `tickets.store` and the models exported here.
"""
from tickets.db import Base, Database, database_url, utcnow
from tickets.models import ChannelCursor, QuarantinedRecord, Ticket, TicketEvent
from tickets.schema import BadRecord, IncomingTicket
from tickets.states import OPEN_STATUSES, STATUSES, TransitionError

__all__ = [
    "Base", "Database", "database_url", "utcnow", "Ticket", "TicketEvent", "QuarantinedRecord", "ChannelCursor",
    "IncomingTicket", "BadRecord", "STATUSES", "OPEN_STATUSES", "TransitionError",
]
