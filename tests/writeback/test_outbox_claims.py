"""A write-back is sent by the worker that holds its claim and by no other, however long a delivery run takes;
and a run ends soon after its worker is told to stop, whatever the source is doing."""
from __future__ import annotations

import threading
import time
from collections import Counter
from dataclasses import replace

import pytest
from sqlalchemy import select

import worker as worker_module
from cli.main import main as cli
from settings.config_schema import WritebackConfig, load_config
from simulators import WorkOrder12345
from simulators.testing import stops_within, wait_for, write_config
from tickets.claims import Claims, work_batch
from tickets.clock import ManualClock
from tickets.models import Ticket
from writeback import OutboxItem, deliver_due
from writeback import outbox as writeback_outbox

CLAIM = 1.0    # seconds a worker holds what it claims: shorter than one run against the slow source below
SLOW = 0.3     # seconds the slow source takes per request: well inside a claim, so a renewed claim covers a send
STOP_WITHIN = 10.0  # a generous bound on how long a run may go on once its worker is told to stop


class CountingHotline(WorkOrder12345):
    """The 12345 stand-in that also counts each write it is sent, by request_id: the effects a source that does
    not recognise a repeated request_id would apply (this one answers a repeat from memory)."""

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.writes_received: Counter[str] = Counter()

    def handle(self, request):
        if request.method == "POST" and "/workorders/" in request.path:
            try:
                key = (request.json() or {}).get("request_id")
            except ValueError:
                key = None
            with self._lock:
                self.writes_received[key] += 1
        return super().handle(request)


@pytest.fixture
def counting_hotline():
    sim = CountingHotline(app_id="oq-test", app_secret="s3cret", seed=12345, rate_limit_rps=None)
    sim.start()
    yield sim
    sim.stop()


def outbox(db) -> list[OutboxItem]:
    with db.transaction() as s:
        items = s.scalars(select(OutboxItem).order_by(OutboxItem.id)).all()
        s.expunge_all()
    return items


def accepted_at_the_source(tmp_path, db_url, hotline, sms_provider, orders: int, claim_seconds=None):
    """`orders` dispatched tickets, each accepted by staff: one signing per order waits in the outbox.
    Returns the config file, the loaded config (attempts enough to outlast any test) and the first worker."""
    hotline.add_orders(orders)
    path = write_config(tmp_path / "config.yaml", db_url, hotline, sms_provider)
    config = load_config(path)
    if claim_seconds is not None:
        # Shorter than the loader allows with the channel's 5 s timeout: here a run outlasts its claims by its
        # length, each request well inside a claim, and a claim long enough for the timeouts would make it slow.
        config.jobs.claim_seconds = claim_seconds
    config.writeback = WritebackConfig(max_attempts=60, backoff_seconds=0.2, max_backoff_seconds=2)
    worker = worker_module.Worker(config, owner="worker-a")
    worker.run_once()
    with worker.db.transaction() as s:
        numbers = list(s.scalars(select(Ticket.number).where(Ticket.status == "dispatched").order_by(Ticket.id)))
    assert len(numbers) == orders
    assert cli(["--config", path, "tickets", "accept", *numbers]) == 0
    assert len(outbox(worker.db)) == orders
    return path, config, worker


def test_a_claim_that_lapses_mid_run_is_sent_once_while_a_second_worker_takes_it_up(
        tmp_path, db_url, counting_hotline, sms_provider):
    # given eight signings waiting, a source that takes SLOW per request and claims that last CLAIM seconds
    hotline = counting_hotline
    _, config, first = accepted_at_the_source(tmp_path, db_url, hotline, sms_provider, 8, claim_seconds=CLAIM)
    second = worker_module.Worker(config, owner="worker-b")
    hotline.latency = SLOW
    # when worker-a claims all eight in one batch and works through them for longer than its claims last
    # (8 x SLOW > CLAIM), while worker-b keeps delivering whatever it can claim
    reports = {}
    run = threading.Thread(target=lambda: reports.__setitem__("a", deliver_due(
        first.db, first.connectors, first.owner, replace(first.delivery, pass_seconds=60))))
    run.start()
    try:
        wait_for(lambda: all(i.claimed_by == "worker-a" or i.status == "delivered" for i in outbox(first.db)),
                 "worker-a to claim the signings")
        taken_up = []
        deadline = time.monotonic() + 60
        while run.is_alive() or any(i.status != "delivered" for i in outbox(first.db)):
            assert time.monotonic() < deadline, "the signings were not all delivered in time"
            taken_up.append(second.deliver().delivered)
            time.sleep(0.05)
    finally:
        run.join(60)
        hotline.latency = 0.0
    # then every signing was delivered, and the source was sent each one once, by one worker or the other
    items = outbox(first.db)
    assert {i.status for i in items} == {"delivered"}
    assert {i.key: hotline.writes_received[i.key] for i in items} == {i.key: 1 for i in items}
    assert [hotline.effect_count(i.source_ref, "sign") for i in items] == [1] * len(items)
    # and worker-b did take up signings whose claims had lapsed: worker-a left them to it
    assert sum(taken_up) >= 1
    assert reports["a"].delivered + sum(taken_up) == len(items)
    assert reports["a"].claims_lost >= 1


@pytest.mark.parametrize("fault", ["down", "slow"])
def test_a_delivery_run_returns_promptly_when_its_worker_stops_during_an_outage(
        tmp_path, db_url, hotline, sms_provider, fault):
    # given twenty signings waiting at a source that refuses connections, or takes a second per request
    _, _, worker = accepted_at_the_source(tmp_path, db_url, hotline, sms_provider, 20)
    if fault == "down":
        hotline.go_down()
    else:
        hotline.latency = 1.0
    stopping = threading.Event()
    run = threading.Thread(target=lambda: deliver_due(worker.db, worker.connectors, worker.owner, worker.delivery,
                                                      stopping=stopping.is_set))
    run.start()
    try:
        wait_for(lambda: any(i.history for i in outbox(worker.db)), "the first attempt to be recorded")
        # when the worker is told to stop mid-run
        stopping.set()
        asked = time.monotonic()
        run.join(STOP_WITHIN)
        # then the run ends within the bound, though the source has not come back
        assert not run.is_alive(), f"deliver_due still running {STOP_WITHIN} s after it was asked to stop"
        assert time.monotonic() - asked < STOP_WITHIN
    finally:
        hotline.come_up()
        hotline.latency = 0.0
        run.join(120)
    # and what it had claimed but not tried is handed back, for another worker to take up at once
    items = outbox(worker.db)
    assert [i for i in items if i.claimed_by is not None] == []
    assert any(not i.history for i in items)
    # and once the source is back, every signing arrives once
    def all_delivered() -> bool:
        worker.deliver()
        return {i.status for i in outbox(worker.db)} == {"delivered"}

    wait_for(all_delivered, "every signing to be delivered")
    assert [hotline.effect_count(i.source_ref, "sign") for i in items] == [1] * len(items)


def test_a_running_worker_stops_promptly_while_it_delivers_to_a_slow_source(
        tmp_path, db_url, hotline, sms_provider):
    # given a worker running as `onequeue run` runs it, with thirty signings waiting at a source that takes a
    # second per request (a delivery run would take half a minute)
    path, config, _ = accepted_at_the_source(tmp_path, db_url, hotline, sms_provider, 30)
    hotline.latency = 1.0
    running = worker_module.Worker(config)
    running.start()
    try:
        wait_for(lambda: any(i.status == "delivered" for i in outbox(running.db)), "the first signing to arrive")
        # when it is told to stop mid-run, as SIGTERM tells `onequeue run`
        # then it stops within the bound, leaving the rest for the next start
        assert stops_within(running, STOP_WITHIN), f"the worker still running {STOP_WITHIN} s after SIGTERM"
        assert any(i.status == "pending" and i.claimed_by is None for i in outbox(running.db))
    finally:
        hotline.latency = 0.0
        running.stop()


def test_a_claim_held_by_a_stalled_worker_is_taken_up_once_the_clock_passes_it(
        tmp_path, db_url, counting_hotline, sms_provider):
    # given three signings waiting, claimed by worker-a, which then stalls before it tries any
    hotline = counting_hotline
    _, config, first = accepted_at_the_source(tmp_path, db_url, hotline, sms_provider, 3)
    second = worker_module.Worker(config, owner="worker-b")
    clock = ManualClock()
    held = Claims(first.db, OutboxItem, first.owner, "pending", first.delivery.claim_seconds, clock)
    stalled = writeback_outbox._claim(held, list(first.connectors), 10)
    assert len(stalled) == 3
    # when worker-b delivers while the claims hold, then again once the clock has passed them
    before = deliver_due(second.db, second.connectors, second.owner, second.delivery, clock=clock)
    clock.advance(first.delivery.claim_seconds + 1)
    after = deliver_due(second.db, second.connectors, second.owner, second.delivery, clock=clock)
    # then it left them alone at first, and delivered each once after
    assert before.delivered == 0 and after.delivered == 3
    # and worker-a, waking up, renews nothing and sends nothing: the rows are worker-b's now
    end = work_batch(held, stalled, lambda item: pytest.fail("a row another worker took up was sent"),
                     ends=float("inf"), stopping=lambda: False)
    assert end.lost == 3
    items = outbox(first.db)
    assert {i.status for i in items} == {"delivered"}
    assert {i.key: hotline.writes_received[i.key] for i in items} == {i.key: 1 for i in items}
