"""The scan at simulated times: reminders once, one SMS per recipient listing all their tickets, quiet hours,
and at a breach the overdue mark, the notices up the hierarchy and the transfer to the parent unit."""
from __future__ import annotations

import threading

import pytest
from sqlalchemy import func, select

from notify.models import SmsMessage
from sla import scan_due
from sla.models import SlaNotice
from tickets.db import Database
from tickets.models import Ticket

from tests.sla.helpers import actions, clocks, cst, dispatch, make_deadlines, new_tickets, ticket

STATION = "st-daliang-01"   # contacts 13707570013 (站长) and 13707570014; parent br-daliang (head 13807570011)
HEAD, CLERK, BRANCH_HEAD = "+8613707570013", "+8613707570014", "+8613807570011"
TRANSFER = """
policies:
  - id: hotline
    when: {channel_kind: ["12345"]}
    clocks:
      resolution:
        working_days: 2
        from: received
        stop_on: [resolved]
        on_breach: {transfer_to_parent: true}
"""


def sms(db, **where) -> list[SmsMessage]:
    with db.transaction() as s:
        stmt = select(SmsMessage).order_by(SmsMessage.id)
        for k, v in where.items():
            stmt = stmt.where(getattr(SmsMessage, k) == v)
        return list(s.scalars(stmt))


def test_a_station_with_twelve_tickets_gets_one_message_per_person_and_never_twice(db, deadlines):
    # given twelve hotline complaints at one station, received on 30 September (due 27 October 18:00)
    ids = new_tickets(db, 12, cst(2026, 9, 30, 10))
    dispatch(db, deadlines, ids, STATION, cst(2026, 9, 30, 11))
    # when the scan runs at 09:00 on the last day (one working day before) and again a minute later
    first = scan_due(db, deadlines, now=cst(2026, 10, 27, 9))
    again = scan_due(db, deadlines, now=cst(2026, 10, 27, 9, 1))
    # then each contact of the station got one message naming all twelve
    reminders = sms(db, purpose="sla_reminder")
    assert sorted(m.to_phone for m in reminders) == [HEAD, CLERK]
    numbers = [ticket(db, t).number for t in ids]
    for m in reminders:
        assert all(n in m.body for n in numbers) and "12件" in m.body and "10月27日18:00" in m.body
        assert m.segments > 1 and m.validity_seconds == 7200
    assert first.reminders == 12 and again.reminders == 0
    # and each ticket's history records the reminder
    assert actions(db, ids[0]).count("reminded") == 1
    # when the scan reaches the next point (two working hours before: 16:00)
    scan_due(db, deadlines, now=cst(2026, 10, 27, 16))
    assert len(sms(db, purpose="sla_reminder")) == 4
    with db.transaction() as s:
        points = s.execute(select(SlaNotice.point, func.count()).where(SlaNotice.clock == "resolution")
                           .group_by(SlaNotice.point)).all()
    assert dict(points) == {"1WD": 24, "2WH": 24}


def test_a_late_scan_holds_normal_reminders_for_working_hours_and_sends_urgent_ones_at_once(db, deadlines):
    # given two tickets the hotline wants finished by noon on 27 October, one of them urgent
    normal = new_tickets(db, 1, cst(2026, 9, 30, 10), source_deadline=cst(2026, 10, 27, 12))
    urgent = new_tickets(db, 1, cst(2026, 9, 30, 10), priority="urgent", source_deadline=cst(2026, 10, 27, 12))
    dispatch(db, deadlines, normal + urgent, STATION, cst(2026, 9, 30, 11))
    # when the scan runs at 20:00 the day before (the point one working day before, 14:00, has passed)
    scan_due(db, deadlines, now=cst(2026, 10, 26, 20))
    by_urgency = {m.urgent: m for m in sms(db, purpose="sla_reminder", to_phone=HEAD)}
    # then the urgent ticket's reminder goes now, the other waits for 09:00
    assert by_urgency[True].next_attempt_at == cst(2026, 10, 26, 20)
    assert by_urgency[False].next_attempt_at == cst(2026, 10, 27, 9)
    assert ticket(db, urgent[0]).number in by_urgency[True].body
    assert ticket(db, urgent[0]).number not in by_urgency[False].body


def test_at_the_breach_the_ticket_is_overdue_the_heads_are_told_and_it_goes_to_the_branch(db, units):
    deadlines = make_deadlines(units, TRANSFER)
    [tid] = new_tickets(db, 1, cst(2026, 9, 30, 10))
    dispatch(db, deadlines, [tid], STATION, cst(2026, 9, 30, 11))
    assert clocks(db, tid)["resolution"].due_at == cst(2026, 10, 9, 18)
    # when nobody acts and the scan runs past the deadline
    report = scan_due(db, deadlines, now=cst(2026, 10, 9, 18, 0, 30))
    assert report.overdue >= 1 and report.transferred == 1
    t = ticket(db, tid)
    # then it is overdue, on the branch's desk, and its history says so
    assert t.assigned_unit == "br-daliang" and t.status == "dispatched"
    assert clocks(db, tid)["resolution"].breached_at is not None
    assert {"overdue", "overdue_transfer"} <= set(actions(db, tid))
    # and the station's head and the branch's head are told, after hours: on the make-up Saturday morning
    notices = sms(db, purpose="sla_overdue")
    assert {m.to_phone for m in notices} == {HEAD, BRANCH_HEAD}
    resolution = [m for m in notices if "办结" in m.body]
    assert resolution and all("已转" in m.body and t.number in m.body for m in resolution)
    held = {m.to_phone: m.next_attempt_at for m in notices}
    assert held == {HEAD: cst(2026, 10, 10, 9), BRANCH_HEAD: cst(2026, 10, 10, 8, 30)}   # their on-duty hours
    # and a later scan does not escalate again
    assert scan_due(db, deadlines, now=cst(2026, 10, 12, 10)).overdue == 0


def test_a_resolved_ticket_gets_no_reminder(db, deadlines):
    from sla.follow import follow_ticket_events
    from tickets import handling

    follow_ticket_events()
    [tid] = new_tickets(db, 1, cst(2026, 9, 30, 10))
    dispatch(db, deadlines, [tid], STATION, cst(2026, 9, 30, 11))
    with db.transaction() as s:
        handling.resolve(s, s.get(Ticket, tid), "staff:cli", "已协调退款", "大良升平消费维权服务站")
    scan_due(db, deadlines, now=cst(2026, 10, 27, 17))
    assert not sms(db, purpose="sla_reminder") and not sms(db, purpose="sla_overdue")
    assert all(c.next_action_at is None for c in clocks(db, tid).values())


@pytest.mark.postgres_only  # SQLite has one writer at a time; several workers are a PostgreSQL matter
def test_two_workers_scanning_at_once_send_each_reminder_once(db_url, units):
    from tickets.migrate import upgrade

    main = Database(db_url)
    upgrade(main.engine)
    deadlines = make_deadlines(units)
    stations = ["st-daliang-01", "st-daliang-02", "st-daliang-03", "st-daliang-04"]
    for station in stations:
        ids = new_tickets(main, 50, cst(2026, 9, 30, 10), ref=station)
        dispatch(main, deadlines, ids, station, cst(2026, 9, 30, 11))
    # when two workers, each with its own connections, scan at the same moment in small batches
    workers = [Database(db_url) for _ in range(2)]
    start = threading.Barrier(2)
    reports = []

    def run(db):
        start.wait()
        reports.append(scan_due(db, make_deadlines(units), now=cst(2026, 10, 27, 9), batch_size=7))

    threads = [threading.Thread(target=run, args=(w,)) for w in workers]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    # then every ticket was reminded once, shared between them, and no phone got a ticket twice
    assert sum(r.reminders for r in reports) == 200
    with main.transaction() as s:
        messages = list(s.scalars(select(SmsMessage).where(SmsMessage.purpose == "sla_reminder")))
        notices = s.scalar(select(func.count()).select_from(SlaNotice).where(SlaNotice.point != "overdue"))
    listed = [(m.to_phone, n) for m in messages for n in m.body.split("：", 2)[-1].split("；")]
    assert len(listed) == len(set(listed)) == notices
    for db in workers + [main]:
        db.dispose()
