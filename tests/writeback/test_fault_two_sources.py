"""The 12345 hotline and the 12315 platform go down for a stretch (connection refused, then 503s, then answers
slower than onequeue waits) while staff accept and resolve tickets; when they come back every result arrives
once and in order, as the stand-ins' own records of the effects they applied show."""
from __future__ import annotations

import json
import time

import pytest
from sqlalchemy import select

import worker as worker_module
from cli.main import main as cli
from settings.config_schema import WritebackConfig, load_config
from simulators.platform_12315 import Platform12315
from simulators.testing import stops_within, wait_for, write_config
from tickets import Ticket
from writeback import OutboxItem

RESULT = "经调解，商家同意退款，消费者表示满意。"
TIMEOUT = 0.3   # how long the connectors wait for an answer
SLOW = 0.6      # how long a slow stand-in takes: the connectors give up first, the stand-in still acts
PHASE_SECONDS = 15  # the longest each fault may take to meet every waiting result: the outage lasts under a minute
# The write-back budget an operator sizes to the outage: retries from BACKOFF doubling up to MAX_BACKOFF, and
# MAX_ATTEMPTS of them last longer than the outage (see budget_seconds), so nothing becomes a dead letter.
# (write_config's 8 attempts, from 0.2 s doubling to 2 s, can be spent in under 10 seconds: less than this outage.)
BACKOFF, MAX_BACKOFF, MAX_ATTEMPTS = 0.2, 2.0, 60


def budget_seconds() -> float:
    """The shortest time a result is retried before its attempts are spent (jitter takes up to half a delay)."""
    return sum(0.5 * min(MAX_BACKOFF, BACKOFF * 2 ** (n - 1)) for n in range(1, MAX_ATTEMPTS))


@pytest.fixture
def platform():
    """A running 12315 stand-in on loopback."""
    with Platform12315("oq-12315", "s3cret", seed=15, rate_limit_rps=None) as sim:
        yield sim


def config_for_both(tmp_path, db_url, hotline, sms_provider, platform):
    """config.yaml with the 12345 and 12315 channels; the loaded config with their timeouts and the budget set."""
    path = write_config(tmp_path / "config.yaml", db_url, hotline, sms_provider, extra=f"""
  - name: 12315-shunde
    kind: "12315"
    poll_seconds: 0.5
    settings:
      base_url: "{platform.base_url}"
      client_id: oq-12315
      client_secret: s3cret
""")
    config = load_config(path)
    for channel in config.channels:
        channel.settings["timeout_seconds"] = TIMEOUT
    config.writeback = WritebackConfig(max_attempts=MAX_ATTEMPTS, backoff_seconds=BACKOFF,
                                       max_backoff_seconds=MAX_BACKOFF)
    return path, config


def start_worker(config):
    """A worker started as `onequeue run` starts it; returns a function that stops it as SIGTERM does."""
    worker = worker_module.Worker(config)
    worker.start()

    def stop():
        assert stops_within(worker, 30)
    return stop


def three_dispatched_on_each(db) -> tuple[list[Ticket], list[Ticket]] | None:
    """The first three dispatched tickets of 12345 and of 12315, once there are three of each."""
    with db.transaction() as s:
        tickets = s.scalars(select(Ticket).where(Ticket.status == "dispatched").order_by(Ticket.id)).all()
        s.expunge_all()
    hotline = [t for t in tickets if t.channel == "12345-shunde"][:3]
    platform = [t for t in tickets if t.channel == "12315-shunde"][:3]
    return (hotline, platform) if len(hotline) == len(platform) == 3 else None


def outbox(db) -> list[OutboxItem]:
    with db.transaction() as s:
        items = s.scalars(select(OutboxItem).order_by(OutboxItem.id)).all()
        s.expunge_all()
    return items


def waiting_heads(items: list[OutboxItem]) -> list[OutboxItem]:
    """The first pending result of each ticket: the ones delivery may try (the rest wait behind them)."""
    heads: dict[int, OutboxItem] = {}
    for item in items:
        if item.status == "pending":
            heads.setdefault(item.ticket_id, item)
    return list(heads.values())


def met(item: OutboxItem, fault: str) -> bool:
    return any(fault in (h.get("error") or "") for h in item.history or [])


def applied(hotline, platform) -> list[tuple[str, str, str]]:
    """(source record, effect, idempotency key) of each effect the stand-ins applied, in each one's order."""
    calls = {"sign": "accepted", "reply": "resolved"}
    events = {"ACCEPTED": "accepted", "CLOSED": "resolved"}
    return ([(e["gdbh"], calls.get(e["call"], e["call"]), e["request_id"]) for e in hotline.effects]
            + [(e["caseId"], events.get(e["type"], e["type"]), e["idempotencyKey"]) for e in platform.effects])


@pytest.mark.slow
def test_both_sources_down_refused_then_503_then_slow_and_every_result_arrives_once_in_order(
        tmp_path, db, db_url, hotline, sms_provider, platform, capsys):
    # given three complaints on each source, dispatched by a running worker
    hotline.add_orders(3)
    platform.add_cases(3)
    path, config = config_for_both(tmp_path, db_url, hotline, sms_provider, platform)
    stop = start_worker(config)
    try:
        (a1, b1, c1), (a2, b2, c2) = wait_for(lambda: three_dispatched_on_each(db), "six tickets to be dispatched")
        # and one ticket of each source accepted, its signing delivered, before the outage
        assert cli(["--config", path, "tickets", "accept", a1.number, a2.number]) == 0
        wait_for(lambda: len(applied(hotline, platform)) == 2, "the two signings before the outage")
        before = applied(hotline, platform)

        # when both sources refuse connections while staff resolve A and B and accept C
        hotline.go_down()
        platform.go_down()
        outage_began = time.monotonic()
        assert cli(["--config", path, "tickets", "resolve", a1.number, b1.number, a2.number, b2.number,
                    "--result", RESULT]) == 0
        assert cli(["--config", path, "tickets", "accept", c1.number, c2.number]) == 0
        items = outbox(db)
        during = {i.id for i in items if i.status != "delivered"}
        assert len(during) == 8   # A: reply; B: signing and reply; C: signing — for each source
        heads = {i.id for i in waiting_heads(items)}
        assert len(heads) == 6    # B's reply waits behind B's signing

        def waiting() -> list[OutboxItem]:
            return [i for i in outbox(db) if i.id in heads]

        def each_fails_with(fault: str) -> None:
            wait_for(lambda: all(met(i, fault) for i in waiting()), f"every waiting result to meet {fault!r}",
                     PHASE_SECONDS)
            now = outbox(db)
            assert {i.status for i in now if i.id in during} == {"pending"}
            # a reply is never tried while the signing before it is still to go
            assert [i.attempts for i in now if i.id in during - heads] == [0, 0]

        each_fails_with("ConnectionError")
        assert applied(hotline, platform) == before

        # when they answer again, but with 503s (maintenance)
        hotline.maintenance = platform.maintenance = True
        hotline.come_up()
        platform.come_up()
        each_fails_with("HTTP 503")
        assert applied(hotline, platform) == before

        # when maintenance ends but every answer comes after the connectors have given up waiting
        hotline.latency = platform.latency = SLOW
        time.sleep(0.1)    # requests already past the wait still meet maintenance
        hotline.maintenance = platform.maintenance = False
        each_fails_with("Timeout")
        # then the sources have acted on what onequeue still holds as undelivered: only the answers were lost
        time.sleep(SLOW + 0.2)
        acted = {key for _, _, key in applied(hotline, platform)}
        assert {i.key for i in waiting()} <= acted
        assert {i.status for i in outbox(db) if i.id in heads} == {"pending"}

        # when the sources answer promptly again
        hotline.latency = platform.latency = 0.0
        wait_for(lambda: {i.status for i in outbox(db)} == {"delivered"}, "every result to be delivered")
        outage = time.monotonic() - outage_began
    finally:
        for source in (hotline, platform):  # a worker stops once its running jobs end: let them end
            source.clear_faults()
            source.come_up()
        stop()
    time.sleep(SLOW + 0.2)  # any request still held by a slow stand-in has been answered by now

    # then each source has each result of each ticket once, signing before the reply, under its outbox key
    items = outbox(db)
    effects = applied(hotline, platform)
    expected = [(i.source_ref, i.effect, i.key) for i in items]
    for ticket in (a1, b1, c1, a2, b2, c2):
        assert [e for e in effects if e[0] == ticket.source_ref] == [e for e in expected if e[0] == ticket.source_ref]
    assert sorted(effects) == sorted(expected)
    assert [(hotline.effect_count(t.source_ref, "sign"), hotline.effect_count(t.source_ref, "reply"))
            for t in (a1, b1, c1)] == [(1, 1), (1, 1), (1, 0)]
    assert [hotline.get(t.source_ref)["ZT"] for t in (a1, b1, c1)] == ["已办结", "已办结", "已签收"]
    assert [(platform.effect_count(t.source_ref, "ACCEPTED"), platform.effect_count(t.source_ref, "CLOSED"))
            for t in (a2, b2, c2)] == [(1, 1), (1, 1), (1, 0)]
    assert [platform.get(t.source_ref)["status"] for t in (a2, b2, c2)] == ["CLOSED", "CLOSED", "ACCEPTED"]
    # and each waiting result met each fault in turn before it went through
    for item in (i for i in items if i.id in heads):
        firsts = [next(n for n, h in enumerate(item.history) if fault in (h.get("error") or ""))
                  for fault in ("ConnectionError", "HTTP 503", "Timeout")]
        assert firsts == sorted(firsts) and item.history[-1]["outcome"] == "delivered"
    # and nothing became a dead letter: the outage was shorter than the retry budget
    assert outage < budget_seconds(), (outage, budget_seconds())
    assert max(i.attempts for i in items) < MAX_ATTEMPTS
    capsys.readouterr()
    assert cli(["--config", path, "outbox", "list", "--dead", "--json"]) == 0
    assert json.loads(capsys.readouterr().out) == []
