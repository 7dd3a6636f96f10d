"""Reading one record again from its source, for an operator who takes a quarantined record in once the source
has fixed it: the kinds that can re-read their source (`scan_since`) do it; the others cannot."""
from __future__ import annotations

from datetime import datetime, timedelta

from connectors.base import Connector
from tickets.schema import IncomingTicket

# The fixed record was changed after it was set aside; read from a little before, in case the clocks differ.
MARGIN = timedelta(hours=1)


class CannotReread(LookupError):
    pass


def reread(connector: Connector, source_ref: str, since: datetime) -> tuple[list[IncomingTicket], list[str]]:
    """The versions of `source_ref` the source holds since `since`: those that make tickets, and the reasons of
    those that still do not."""
    if type(connector).scan_since is Connector.scan_since:
        raise CannotReread(f"「{connector.kind}」类渠道不能从来源重新读取：请来源重新推送，再丢弃这条隔离记录。")
    records: list[IncomingTicket] = []
    reasons: list[str] = []
    for batch in connector.scan_since(since - MARGIN):
        records += [r for r in batch.records if r.source_ref == source_ref]
        reasons += [b.reason for b in batch.bad if b.source_ref == source_ref]
    return records, reasons
