"""End to end on real parts: a hotline order dispatched to a station where nobody acts; the worker's jobs, run at
simulated times, text the reminders and then the escalation through the real SmsSender to the Twilio stand-in."""
from __future__ import annotations

import pytest

from settings.config_schema import load_config
from simulators.testing import write_config
from tests.sla.helpers import actions, clocks, cst
from tickets.models import Ticket
from worker import Worker

POLICY = """
sla:
  policies:
    - id: hotline
      when: {channel_kind: ["12345"]}
      clocks:
        resolution:
          working_days: 15
          from: received
          source_deadline: true
          stop_on: [resolved, returned]
          on_breach: {transfer_to_parent: true}
"""


@pytest.mark.slow
def test_nobody_acts_reminders_then_escalation_arrive_at_the_right_times(tmp_path, db_url, hotline, sms_provider):
    # given hotline orders received at 10:00 on 30 September 2026, the eve of the National Day holiday
    for order in hotline.add_orders(3, seed=7):
        hotline.update_order(order["GDBH"], LDSJ="2026-09-30T10:00:00+08:00", BLSX="2026-11-30T18:00:00+08:00",
                             JJCD="一般")
    worker = Worker(load_config(write_config(tmp_path / "config.yaml", db_url, hotline, sms_provider, extra=POLICY)))
    moment = [cst(2026, 9, 30, 10)]
    worker.deadlines.clock = lambda: moment[0]

    def at(when):
        moment[0] = when
        worker.run_once()

    # when the worker takes them in and dispatches them at 10:00
    at(cst(2026, 9, 30, 10))
    with worker.db.transaction() as s:
        ticket = next(t for t in s.query(Ticket).order_by(Ticket.id)
                      if worker.dispatcher.units.get(t.assigned_unit).kind == "station")
    station = worker.dispatcher.units.get(ticket.assigned_unit)
    branch = worker.dispatcher.units.parent_of(station.id)
    head = "+86" + worker.dispatcher.units.head_contacts(station.id)[0].phone
    branch_head = "+86" + worker.dispatcher.units.head_contacts(branch.id)[0].phone
    assert clocks(worker.db, ticket.id)["resolution"].due_at == cst(2026, 10, 27, 18)

    def texts(phone):
        return [m["body"] for m in sms_provider.messages_to(phone) if ticket.number in m["body"]]

    assert len(texts(head)) == 1                                  # the dispatch notice
    # and nobody contacts the consumer, accepts or answers; the worker runs on
    at(cst(2026, 9, 30, 10, 15))
    assert len(texts(head)) == 1                                  # nothing due yet
    at(cst(2026, 9, 30, 10, 30))                                  # half an hour before first contact is due
    at(cst(2026, 9, 30, 11, 0, 1))                                # first contact overdue
    at(cst(2026, 10, 27, 9))                                      # one working day before the 15th working day
    at(cst(2026, 10, 27, 9, 5))                                   # (a scan with nothing new)
    at(cst(2026, 10, 27, 16))                                     # two working hours before
    at(cst(2026, 10, 27, 18, 0, 1))                               # overdue: transferred to the branch

    # then the station's head got, in order: the dispatch, a reminder to make contact, the first-contact breach,
    # the two resolution reminders and the breach with the transfer; each once
    got = texts(head)
    assert len(got) == 6, got
    assert "催办" in got[1] and "联系" in got[1]
    assert "超时" in got[2] and "联系" in got[2]
    assert "催办" in got[3] and "10月27日18:00" in got[3] and "催办" in got[4]
    assert "超时" in got[5] and "办结" in got[5] and branch.name in got[5]
    # and the branch's head was told of both breaches, the second with the ticket now on the branch's desk
    up = texts(branch_head)
    assert len(up) == 2 and "已转" + branch.name in up[1]
    # and the ticket is overdue at the branch, with all of it on its history
    with worker.db.transaction() as s:
        t = s.get(Ticket, ticket.id)
        assert (t.status, t.assigned_unit) == ("dispatched", branch.id)
    history = actions(worker.db, ticket.id)
    assert history.count("reminded") == 3 and history.count("overdue") == 2
    assert history.count("overdue_transfer") == 1
    # and the station's other contacts got the reminders but not the breach notices (those go to heads)
    clerk = "+86" + next(c.phone for c in station.contacts if "+86" + c.phone != head)
    assert len(texts(clerk)) == 4


def test_a_station_that_answers_by_sms_stops_its_clocks(web_worker, hotline, sms_provider):
    from web.sms_routes import INBOUND_PATH

    # given hotline orders received at 10:00 on 30 September and dispatched at once
    for order in hotline.add_orders(3, seed=7):
        hotline.update_order(order["GDBH"], LDSJ="2026-09-30T10:00:00+08:00", JJCD="一般")
    worker = web_worker()
    moment = [cst(2026, 9, 30, 10)]
    worker.deadlines.clock = lambda: moment[0]

    def at(when):
        moment[0] = when
        worker.run_once()

    at(cst(2026, 9, 30, 10))
    with worker.db.transaction() as s:
        ticket = next(t for t in s.query(Ticket).order_by(Ticket.id)
                      if worker.dispatcher.units.get(t.assigned_unit).kind == "station")
    head = "+86" + worker.dispatcher.units.head_contacts(ticket.assigned_unit)[0].phone

    def texts():
        return [m["body"] for m in sms_provider.messages_to(head) if ticket.number in m["body"]]

    # when the station is reminded to make contact, and its head answers "受理" by SMS
    at(cst(2026, 9, 30, 10, 30))
    assert len(texts()) == 2 and "催办" in texts()[1]
    status, _ = sms_provider.send_inbound(head, f"{ticket.number} 受理", worker.web_url + INBOUND_PATH)
    assert status == 200
    # then the first-contact deadline passes without an overdue notice
    at(cst(2026, 9, 30, 11, 0, 1))
    assert clocks(worker.db, ticket.id)["first_contact"].stop_reason == "accepted"
    # and once the head reports it done, no reminder of the resolution deadline follows
    status, _ = sms_provider.send_inbound(head, f"{ticket.number} 办结：已协调退款", worker.web_url + INBOUND_PATH)
    assert status == 200
    at(cst(2026, 11, 30, 10))
    got = texts()   # the dispatch, the one reminder, and the confirmations of the two replies
    assert [b for b in got if "催办" in b or "超时" in b] == [got[1]]
    assert all(c.stopped_at is not None for c in clocks(worker.db, ticket.id).values())
    assert {"accepted", "resolved"} <= set(actions(worker.db, ticket.id))
