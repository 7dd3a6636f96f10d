"""Deadlines: the working-day calendar, the policies per channel and kind, the clocks on each ticket, and the scan
that sends reminders before a deadline and escalates at a breach.

The worker starts clocks at dispatch (`start_clocks`) and runs `scan_due`; staff suspend, resume and extend them.
"""
from sla.calendar_cn import Reckoning, WorkCalendar, WorkingHours, YearDays
from sla.clocks import SlaError, extend, recompute_stale, resume, start_clocks, start_clocks_many, suspend
from sla.config import SlaConfig
from sla.follow import follow_ticket_events
from sla.models import SlaNotice, TicketClock
from sla.policy import Deadlines
from sla.scan import ScanReport, scan_due

__all__ = ["Deadlines", "Reckoning", "ScanReport", "SlaConfig", "SlaError", "SlaNotice", "TicketClock",
           "WorkCalendar", "WorkingHours", "YearDays", "extend", "follow_ticket_events", "recompute_stale", "resume",
           "scan_due", "start_clocks", "start_clocks_many", "suspend"]
