"""A 12345 order marked 特急, end to end on real parts: it stays very urgent through dispatch, a rule may match it,
and its SMS go at once in quiet hours while a normal ticket's wait for the morning."""
from __future__ import annotations

import json
from datetime import datetime

from sqlalchemy import select

from cli.main import main as cli
from notify.models import SmsMessage
from settings.config_schema import load_config
from simulators.testing import write_config
from tickets.models import Ticket, TicketEvent
from tickets.vocabulary import CHINA_TZ
from worker import Worker

RULES = """
rules:
  - id: very-urgent-to-shengping
    when: {priority: very_urgent}
    assign: st-daliang-01
  - id: the-rest-to-wenxiu
    assign: st-daliang-02
"""
ORDER = dict(LDSJ="2026-09-29T16:50:00+08:00", BLSX="2026-12-30T18:00:00+08:00", SQLX="投诉",
             BT="预付卡商家闭店无法退款", SQNR="来电人反映，其在某健身会所办理的预付卡共计3000元，会所突然闭店，无法退款。")
STATION_HEAD, OTHER_HEAD, BRANCH_HEAD = "+8613707570013", "+8613707570015", "+8613807570011"


def cst(*args) -> datetime:
    return datetime(*args, tzinfo=CHINA_TZ)


def test_a_very_urgent_order_stays_very_urgent_and_its_sms_go_at_once_in_quiet_hours(
        tmp_path, db_url, hotline, sms_provider, capsys):
    # given two orders at the hotline on a Tuesday afternoon, one marked 特急, one 一般, with no urgent word
    very, plain = hotline.add_orders(2, seed=3)
    hotline.update_order(very["GDBH"], JJCD="特急", **ORDER)
    hotline.update_order(plain["GDBH"], JJCD="一般", **ORDER)
    rules = tmp_path / "rules.yaml"
    rules.write_text(RULES, encoding="utf-8")
    worker = Worker(load_config(write_config(tmp_path / "config.yaml", db_url, hotline, sms_provider,
                                             rules_file=rules)))
    moment = [cst(2026, 9, 29, 17)]
    worker.deadlines.clock = lambda: moment[0]

    # when the worker polls and dispatches at 17:00
    worker.run_once()

    # then the 特急 order is a very urgent ticket, decided by the rule that matches very_urgent
    with worker.db.transaction() as s:
        by_ref = {t.source_ref: t for t in s.scalars(select(Ticket))}
        urgent, normal = by_ref[very["GDBH"]], by_ref[plain["GDBH"]]
        decided = s.scalars(select(TicketEvent).where(TicketEvent.ticket_id == urgent.id,
                                                      TicketEvent.action == "dispatched")).one()
    assert (urgent.priority, urgent.status, urgent.assigned_unit) == ("very_urgent", "dispatched", "st-daliang-01")
    assert (decided.detail["rule"], decided.detail["priority"]) == ("very-urgent-to-shengping", "very_urgent")
    assert (normal.priority, normal.assigned_unit) == ("normal", "st-daliang-02")
    # and its dispatch notice went to the station's phones at once, as urgent
    dispatch_sms = _sms(worker, urgent.id, "dispatched")
    assert dispatch_sms and all(m.urgent and m.status != "pending" for m in dispatch_sms)
    assert [m["body"] for m in sms_provider.messages_to(STATION_HEAD) if urgent.number in m["body"]]

    # when nobody makes contact and the deadline scan runs at 20:00, in quiet hours
    moment[0] = cst(2026, 9, 29, 20)
    worker.scan_deadlines()

    # then the very urgent ticket's overdue notices are due now; the normal ticket's wait for working hours
    told_now = _sms(worker, urgent.id, "sla_overdue")
    held = _sms(worker, normal.id, "sla_overdue")
    assert {m.to_phone for m in told_now} >= {STATION_HEAD, BRANCH_HEAD}
    assert all(m.urgent and m.next_attempt_at == cst(2026, 9, 29, 20) for m in told_now)
    assert {m.to_phone: m.next_attempt_at for m in held if m.to_phone in (OTHER_HEAD, BRANCH_HEAD)} == {
        OTHER_HEAD: cst(2026, 9, 30, 9), BRANCH_HEAD: cst(2026, 9, 30, 8, 30)}
    assert not any(m.urgent for m in held)
    # and the very urgent ones reach the Twilio stand-in
    worker.send_sms()
    for phone in (STATION_HEAD, BRANCH_HEAD):
        assert [m for m in sms_provider.messages_to(phone) if urgent.number in m["body"] and "超时" in m["body"]]

    # when staff resolve it, the result goes back to the hotline, which still holds the order as 特急
    assert cli(["--config", str(tmp_path / "config.yaml"), "tickets", "resolve", urgent.number,
                "--result", "已协调退款"]) == 0
    worker.run_once()
    worker.run_once()
    order = hotline.get(very["GDBH"])
    assert (order["ZT"], order["JJCD"]) == ("已办结", "特急")
    # and the ticket is shown as very urgent
    capsys.readouterr()
    assert cli(["--config", str(tmp_path / "config.yaml"), "tickets", "show", urgent.number, "--json"]) == 0
    assert json.loads(capsys.readouterr().out)["priority"] == "very_urgent"


def _sms(worker: Worker, ticket_id: int, purpose: str) -> list[SmsMessage]:
    with worker.db.transaction() as s:
        return list(s.scalars(select(SmsMessage).where(SmsMessage.ticket_id == ticket_id,
                                                       SmsMessage.purpose == purpose).order_by(SmsMessage.id)))
