"""The spine, end to end on real parts: 12345 orders become tickets, reach a station's phones, and the
results go back to the hotline, each effect once."""
from __future__ import annotations

import json
from collections import Counter

import pytest
from sqlalchemy import func, select

from cli.main import main as cli
from simulators.testing import write_config
from settings.config_schema import load_config
from tickets.models import QuarantinedRecord, Ticket
from worker import Worker

RESULT = "已联系商家，商家同意全额退款，消费者表示满意。"


@pytest.mark.slow
def test_two_hundred_orders_travel_to_phones_and_back(tmp_path, db_url, hotline, sms_provider, capsys):
    # given 200 orders at the hotline, 12 of them malformed
    hotline.add_orders(188, malformed=12)
    # and orders that change and arrive while the worker pages through the list
    listed = {"n": 0}

    def shift_pages(_request):
        listed["n"] += 1
        if listed["n"] == 2:
            for order in [o for o in hotline.orders if o.get("GDBH")][:5]:
                hotline.update_order(order["GDBH"], SQNR=order.get("SQNR", "") + "（补充：商家仍未回复）")
            hotline.add_orders(4)

    hotline.on_list = shift_pages
    config = write_config(tmp_path / "config.yaml", db_url, hotline, sms_provider, page_size=50)
    worker = Worker(load_config(config))

    # when the worker runs its jobs
    worker.run_once()
    worker.run_once()

    good = {o["GDBH"] for o in hotline.orders if _is_good(o)}
    with worker.db.transaction() as s:
        tickets = s.scalars(select(Ticket)).all()
        quarantined = s.scalars(select(QuarantinedRecord)).all()
    # then every good order is one ticket, and only once
    assert sorted(t.source_ref for t in tickets) == sorted(good)
    assert len(good) == 192
    # and the malformed ones are set aside with their reasons
    assert len(quarantined) == 12
    assert all(q.reason for q in quarantined)
    # and each dispatched ticket's unit contacts got exactly one SMS naming it
    dispatched = [t for t in tickets if t.status == "dispatched"]
    assert len(dispatched) > 150, Counter(t.status for t in tickets)
    sent = Counter((m["to"], m["body"]) for m in sms_provider.messages)
    assert max(sent.values()) == 1
    for t in dispatched:
        unit = worker.dispatcher.units.get(t.assigned_unit)
        to_unit = [m for m in sms_provider.messages if t.number in m["body"]]
        assert sorted(m["to"] for m in to_unit) == sorted("+86" + c.phone for c in unit.contacts)

    # when staff resolve the dispatched tickets through the command line
    numbers = [t.number for t in dispatched]
    assert cli(["--config", config, "tickets", "resolve", *numbers, "--result", RESULT]) == 0
    worker.run_once()
    worker.run_once()

    # then the hotline holds each of those orders as 办结 with our text, signed once and replied once
    for t in dispatched:
        order = hotline.get(t.source_ref)
        assert order["ZT"] == "已办结"
        assert order["HFNR"] == RESULT
        assert hotline.effect_count(t.source_ref, "sign") == 1
        assert hotline.effect_count(t.source_ref, "reply") == 1
    capsys.readouterr()
    assert cli(["--config", config, "tickets", "show", numbers[0], "--json"]) == 0
    shown = json.loads(capsys.readouterr().out)
    # (the hotline's own echoes of our write-backs show as source_updated events between them)
    assert [e["action"] for e in shown["events"] if e["action"] != "source_updated"] == [
        "received", "dispatched", "accepted", "resolved"]


def test_a_withdrawn_order_is_closed_without_dispatch_and_a_dispatched_one_is_recalled(
        tmp_path, db_url, hotline, sms_provider):
    # given two orders, one withdrawn before onequeue sees it
    early, late = hotline.add_orders(2)
    hotline.withdraw(early["GDBH"])
    worker = Worker(load_config(write_config(tmp_path / "config.yaml", db_url, hotline, sms_provider)))
    worker.run_once()
    with worker.db.transaction() as s:
        by_ref = {t.source_ref: t for t in s.scalars(select(Ticket))}
    # then the withdrawn one is closed as withdrawn, and nobody was texted about it
    assert by_ref[early["GDBH"]].status == "withdrawn"
    assert not [m for m in sms_provider.messages if by_ref[early["GDBH"]].number in m["body"]]
    # when the other is withdrawn after it was dispatched
    assert by_ref[late["GDBH"]].status == "dispatched"
    hotline.withdraw(late["GDBH"])
    worker.run_once()
    with worker.db.transaction() as s:
        ticket = s.scalars(select(Ticket).where(Ticket.source_ref == late["GDBH"])).one()
    # then it is withdrawn and its unit is told to stop
    assert ticket.status == "withdrawn"
    recalls = [m for m in sms_provider.messages if ticket.number in m["body"] and "撤销" in m["body"]]
    assert len(recalls) == len(worker.dispatcher.units.get(ticket.assigned_unit).contacts)


def _is_good(order: dict) -> bool:
    from connectors.workorders_12345 import normalise

    try:
        normalise(order)
    except ValueError:
        return False
    return True
