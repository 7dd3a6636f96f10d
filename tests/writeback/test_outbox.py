"""Results reach the source once and in order, through outages, with dead letters that can be re-driven."""
from __future__ import annotations

import json
import time

from sqlalchemy import select

from cli.main import main as cli
from settings.config_schema import load_config
from simulators.testing import write_config
from tickets.db import utcnow
from tickets.models import Ticket
from worker import Worker
from writeback import OutboxItem


def _dispatched(worker):
    with worker.db.transaction() as s:
        return [t.number for t in s.scalars(select(Ticket).where(Ticket.status == "dispatched").order_by(Ticket.id))]


def test_results_wait_out_an_outage_and_arrive_once_in_order(tmp_path, db_url, hotline, sms_provider):
    hotline.add_orders(5)
    config = write_config(tmp_path / "config.yaml", db_url, hotline, sms_provider)
    cfg = load_config(config)
    # An outage longer than a run: on a slow machine one run comes round to the same rows several times
    # (backoff 0.2 s), and must not spend their attempts before the source is back.
    cfg.writeback.max_attempts = 100
    worker = Worker(cfg)
    worker.run_once()
    numbers = _dispatched(worker)
    assert numbers
    # given the hotline is down while staff resolve the tickets
    hotline.go_down()
    assert cli(["--config", config, "tickets", "resolve", *numbers, "--result", "已调解"]) == 0
    worker.deliver()
    with worker.db.transaction() as s:
        pending = s.scalars(select(OutboxItem)).all()
    assert pending and {o.status for o in pending} == {"pending"}
    assert all(o.attempts >= 1 and o.last_error for o in pending if o.effect == "accepted")
    # when it comes back
    hotline.come_up()
    for _ in range(40):
        worker.deliver()
        with worker.db.transaction() as s:
            if {o.status for o in s.scalars(select(OutboxItem))} == {"delivered"}:
                break
        time.sleep(0.2)
    # then each order was signed once and then replied to once, in that order
    with worker.db.transaction() as s:
        refs = [t.source_ref for t in s.scalars(select(Ticket).where(Ticket.number.in_(numbers)))]
    for ref in refs:
        calls = [e["call"] for e in hotline.effects if e["gdbh"] == ref]
        assert calls == ["sign", "reply"], calls
        assert hotline.get(ref)["ZT"] == "已办结"


def test_a_dead_letter_is_listed_and_can_be_re_driven(tmp_path, db_url, hotline, sms_provider, capsys):
    hotline.add_orders(1)
    config = write_config(tmp_path / "config.yaml", db_url, hotline, sms_provider,
                          extra="")
    cfg = load_config(config)
    cfg.writeback.max_attempts = 1
    worker = Worker(cfg)
    worker.run_once()
    (number,) = _dispatched(worker)
    hotline.go_down()
    assert cli(["--config", config, "tickets", "accept", number]) == 0
    worker.deliver()
    capsys.readouterr()
    assert cli(["--config", config, "outbox", "list", "--dead", "--json"]) == 0
    dead = json.loads(capsys.readouterr().out)
    assert len(dead) == 1 and dead[0]["effect"] == "accepted" and "attempts spent" in dead[0]["last_error"]
    assert cli(["--config", config, "health", "--json"]) == 0
    assert json.loads(capsys.readouterr().out)["outbox"] == {"dead": 1}
    # when the cause is fixed and the dead letter re-driven
    hotline.come_up()
    assert cli(["--config", config, "outbox", "retry", "--all"]) == 0
    worker.deliver()
    with worker.db.transaction() as s:
        item = s.scalars(select(OutboxItem)).one()
        ref = s.scalars(select(Ticket.source_ref)).one()
    assert item.status == "delivered"
    assert hotline.effect_count(ref, "sign") == 1


def test_a_retry_after_ends_the_attempt_and_the_outbox_comes_back_after_it(tmp_path, db_url, hotline, sms_provider):
    hotline.add_orders(1)
    config = write_config(tmp_path / "config.yaml", db_url, hotline, sms_provider)
    worker = Worker(load_config(config))
    worker.run_once()
    (number,) = _dispatched(worker)
    assert cli(["--config", config, "tickets", "accept", number]) == 0
    # given the hotline answers the signing "503, come back in 90 s"
    hotline.fail_next(1, 503, retry_after=90)
    started = time.monotonic()
    worker.deliver()
    # then the worker did not sit out the 90 s inside its claim: the attempt ended and waits in the outbox
    assert time.monotonic() - started < 20
    with worker.db.transaction() as s:
        item = s.scalars(select(OutboxItem)).one()
        ref = s.scalars(select(Ticket.source_ref)).one()
        seconds_left = (item.next_attempt_at - utcnow()).total_seconds()
    assert item.status == "pending" and item.attempts == 1 and "503" in item.last_error
    assert 60 < seconds_left <= 90
    assert hotline.effect_count(ref, "sign") == 0
    worker.deliver()   # not yet due: nothing is sent before the source's time
    assert hotline.effect_count(ref, "sign") == 0


def test_a_transition_the_source_forbids_is_a_dead_letter_with_its_reason(tmp_path, db_url, hotline, sms_provider):
    order = hotline.add_orders(1)[0]
    config = write_config(tmp_path / "config.yaml", db_url, hotline, sms_provider)
    worker = Worker(load_config(config))
    worker.run_once()
    (number,) = _dispatched(worker)
    assert cli(["--config", config, "tickets", "accept", number]) == 0
    worker.deliver()
    # the caller withdraws at the hotline before onequeue has polled again
    hotline.withdraw(order["GDBH"])
    assert cli(["--config", config, "tickets", "resolve", number, "--result", "已处理"]) == 0
    worker.deliver()
    with worker.db.transaction() as s:
        reply = s.scalars(select(OutboxItem).where(OutboxItem.effect == "resolved")).one()
    assert reply.status == "dead" and "40902" in reply.last_error


def test_reconciliation_finds_a_result_the_source_lost_and_queues_it_again(
        tmp_path, db_url, hotline, sms_provider, capsys):
    hotline.add_orders(3)
    config = write_config(tmp_path / "config.yaml", db_url, hotline, sms_provider)
    worker = Worker(load_config(config))
    worker.run_once()
    numbers = _dispatched(worker)
    assert cli(["--config", config, "tickets", "resolve", *numbers, "--result", "已退款"]) == 0
    worker.deliver()
    with worker.db.transaction() as s:
        refs = {t.number: t.source_ref for t in s.scalars(select(Ticket))}
    # given the hotline loses one reply (its state rolls back to signed)
    lost = refs[numbers[0]]
    hotline.update_order(lost, ZT="已签收")
    capsys.readouterr()
    assert cli(["--config", config, "outbox", "reconcile", "--json"]) == 0
    report = json.loads(capsys.readouterr().out)
    assert [(d["source_ref"], d["source_status"]) for d in report["differences"]] == [(lost, "已签收")]
    assert report["checked"] == len(numbers)
    # when reconciliation may re-queue, the result goes again and arrives
    assert cli(["--config", config, "outbox", "reconcile", "--requeue"]) == 0
    worker.deliver()
    assert hotline.get(lost)["ZT"] == "已办结"
    assert hotline.effect_count(lost, "reply") == 2
    capsys.readouterr()
    assert cli(["--config", config, "outbox", "reconcile", "--json"]) == 0
    assert json.loads(capsys.readouterr().out)["differences"] == []
