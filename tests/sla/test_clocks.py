"""A ticket's clocks: started at dispatch from the policies of deadlines.md, kept through reassignment, stopped by
the history, suspended and resumed, and recomputed when the calendar changes."""
from __future__ import annotations

import pytest

from sla import SlaConfig, SlaError, extend, recompute_stale, resume, suspend
from sla.follow import follow_ticket_events
from tickets import handling, store
from tickets.models import Ticket

from tests.sla.helpers import actions, clocks, cst, dispatch, make_deadlines, new_tickets, ticket

pytestmark = pytest.mark.usefixtures("dates_ahead")  # tickets dated after today's date

STATION = "st-daliang-01"


def test_a_12345_complaint_dispatched_on_the_eve_of_national_day(db, deadlines):
    # given a hotline complaint received and dispatched at 17:30 on 30 September 2026
    [tid] = new_tickets(db, 1, cst(2026, 9, 30, 17, 30))
    dispatch(db, deadlines, [tid], STATION, cst(2026, 9, 30, 17, 30))
    c = clocks(db, tid)
    # then first contact is due half an hour into the first working day after the holiday
    assert c["first_contact"].due_at == cst(2026, 10, 8, 9, 30)
    # and the 15 working days of the Guangdong 12345 measures end on 27 October at closing time
    assert c["resolution"].due_at == cst(2026, 10, 27, 18)
    assert ticket(db, tid).due_at == cst(2026, 10, 27, 18)
    # and the scan will first look at the clock at the half-hour reminder before first contact
    assert c["first_contact"].next_action_at == cst(2026, 10, 8, 9)
    assert not c["resolution"].uncertain


def test_the_hotline_deadline_wins_when_it_is_earlier(db, deadlines):
    [tid] = new_tickets(db, 1, cst(2026, 9, 30, 10), source_deadline=cst(2026, 10, 12, 12))
    dispatch(db, deadlines, [tid], STATION, cst(2026, 9, 30, 10))
    c = clocks(db, tid)["resolution"]
    assert c.due_at == cst(2026, 10, 12, 12) and c.source_due


def test_reassignment_does_not_restart_the_resolution_clock(db, deadlines):
    [tid] = new_tickets(db, 1, cst(2026, 9, 30, 10))
    dispatch(db, deadlines, [tid], STATION, cst(2026, 9, 30, 10))
    before = clocks(db, tid)["resolution"].due_at
    # when the station hands the ticket on a week later
    dispatch(db, deadlines, [tid], "st-daliang-02", cst(2026, 10, 14, 10))
    assert clocks(db, tid)["resolution"].due_at == before


def test_acceptance_stops_first_contact_and_a_12315_complaint_starts_its_mediation_clock(db, deadlines):
    follow_ticket_events()
    # given a 12315 complaint received on Friday 9 October and dispatched the same day
    [tid] = new_tickets(db, 1, cst(2026, 10, 9, 9), channel_kind="12315")
    dispatch(db, deadlines, [tid], STATION, cst(2026, 10, 9, 10))
    c = clocks(db, tid)
    assert c["acceptance"].due_at == cst(2026, 10, 19, 18)      # 7 working days, Saturday 10 included
    assert c["resolution"].started_at is None                    # 45 days from acceptance: not yet
    # when the station accepts it
    with db.transaction() as s:
        t = s.get(Ticket, tid)
        handling.accept(s, t, "sms:station", "大良升平消费维权服务站")
    # then the clocks are due for the scan at once, which stops and starts them from the history
    from sla import scan_due
    scan_due(db, deadlines, now=cst(2026, 10, 9, 11))
    c = clocks(db, tid)
    assert c["first_contact"].stop_reason == "accepted" and c["acceptance"].stop_reason == "accepted"
    assert c["resolution"].started_at is not None and c["resolution"].due_at is not None
    assert c["first_contact"].next_action_at is None and c["resolution"].next_action_at is not None
    assert ticket(db, tid).due_at == c["resolution"].due_at


def test_suspension_adds_the_working_time_back(db, deadlines):
    [tid] = new_tickets(db, 1, cst(2026, 9, 30, 10))
    dispatch(db, deadlines, [tid], STATION, cst(2026, 9, 30, 10))
    # when the ticket waits for a product test from Thursday 10:00 to Friday 10:00 (7 working hours)
    with db.transaction() as s:
        t = s.get(Ticket, tid)
        names = suspend(s, deadlines, t, "送检", "staff:cli", now=cst(2026, 10, 8, 10))
    assert "resolution" in names and clocks(db, tid)["resolution"].next_action_at is None
    with db.transaction() as s:
        with_pending_suspension = s.get(Ticket, tid)
        try:
            suspend(s, deadlines, with_pending_suspension, "again", "staff:cli", now=cst(2026, 10, 8, 11))
            raise AssertionError("a suspended ticket cannot be suspended again")
        except SlaError:
            pass
    with db.transaction() as s:
        dues = resume(s, deadlines, s.get(Ticket, tid), "检测报告已出", "staff:cli", now=cst(2026, 10, 9, 10))
    # then the deadline moves from 27 October 18:00 by those 7 hours: to the close of the next working day
    assert dues["resolution"] == cst(2026, 10, 28, 18)
    assert ticket(db, tid).due_at == cst(2026, 10, 28, 18)
    assert actions(db, tid)[-2:] == ["sla_suspended", "sla_resumed"]


def test_a_report_is_extended_once(db, deadlines):
    [tid] = new_tickets(db, 1, cst(2026, 9, 30, 10), channel_kind="12315", kind="report")
    dispatch(db, deadlines, [tid], STATION, cst(2026, 9, 30, 10))
    assert clocks(db, tid)["resolution"].due_at == cst(2026, 10, 27, 18)
    with db.transaction() as s:
        due = extend(s, deadlines, s.get(Ticket, tid), "案情复杂", "staff:cli", now=cst(2026, 10, 12, 10))
    assert due == cst(2026, 11, 17, 18)                      # 15 more working days
    with db.transaction() as s:
        try:
            extend(s, deadlines, s.get(Ticket, tid), "again", "staff:cli", now=cst(2026, 10, 12, 11))
            raise AssertionError("a second extension must be refused")
        except SlaError as exc:
            assert "extended already" in str(exc)


def test_a_deadline_in_2027_is_flagged_then_exact_when_the_calendar_is_given(db, units):
    # given a ticket whose 15 working days run into 2027, for which there is no holiday data
    deadlines = make_deadlines(units)
    [tid] = new_tickets(db, 1, cst(2026, 12, 21, 10))
    dispatch(db, deadlines, [tid], STATION, cst(2026, 12, 21, 10))
    c = clocks(db, tid)["resolution"]
    assert c.uncertain and c.due_at == cst(2027, 1, 11, 18)     # weekends alone: 1 January counted as worked
    assert "deadline_uncertain" in actions(db, tid)
    # when an administrator gives 2027's schedule in config.yaml and the worker starts again
    exact = make_deadlines(units, """
calendar:
  years:
    2027: {holidays: ["2027-01-01..2027-01-03"], workdays: []}
""")
    assert recompute_stale(db, exact, now=cst(2026, 12, 22, 10)) >= 1
    c = clocks(db, tid)["resolution"]
    # then the deadline is exact, one working day later, and the change is on the history
    assert not c.uncertain and c.due_at == cst(2027, 1, 12, 18)
    assert ticket(db, tid).due_at == cst(2027, 1, 12, 18)
    assert "deadline_changed" in actions(db, tid)
    # and nothing is recomputed twice
    assert recompute_stale(db, exact, now=cst(2026, 12, 22, 10)) == 0


def test_the_shipped_policies_are_the_legal_defaults():
    # config.yaml carries the same policies as the code's defaults (the figures of deadlines.md)
    from settings.config_schema import load_config
    from simulators.testing import ROOT

    shipped = load_config(ROOT / "config.yaml").sla
    assert shipped.policies == SlaConfig().policies
    assert shipped.all_tickets == SlaConfig().all_tickets
    figures = {p.id: {n: c.working_days or c.working_hours for n, c in p.clocks.items()} for p in shipped.policies}
    assert figures["12345-consultation"] == {"resolution": 2}
    assert figures["12345-help-suggestion"] == {"resolution": 10}
    assert figures["12345-complaint-report"] == {"resolution": 15}
    assert figures["complaint"] == {"acceptance": 7, "resolution": 45, "closure_notice": 7}
    assert figures["report"] == {"resolution": 15}
    assert shipped.all_tickets["first_contact"].working_hours == 1


def test_when_the_hotline_brings_its_deadline_forward_the_clock_follows(db, deadlines):
    from datetime import timedelta

    from sla import scan_due
    from tickets.schema import IncomingTicket

    follow_ticket_events()
    received = cst(2026, 9, 30, 10)
    [tid] = new_tickets(db, 1, received)
    dispatch(db, deadlines, [tid], STATION, received)
    assert clocks(db, tid)["resolution"].due_at == cst(2026, 10, 27, 18)
    # when a later version of the order arrives with BLSX at noon on 20 October
    with db.transaction() as s:
        t = s.get(Ticket, tid)
        store.ingest(s, t.channel, t.channel_kind, [IncomingTicket(
            source_ref=t.source_ref, source_updated_at=received + timedelta(days=1), received_at=received,
            title=t.title, source_deadline=cst(2026, 10, 20, 12))])
    scan_due(db, deadlines, now=cst(2026, 10, 8, 10))
    # then the resolution deadline is the hotline's
    c = clocks(db, tid)["resolution"]
    assert c.due_at == cst(2026, 10, 20, 12) and c.source_due
    assert ticket(db, tid).due_at == cst(2026, 10, 20, 12)
