"""The 12345 connector against the stand-in: it survives the faults the contract names and skips nothing."""
from __future__ import annotations

import time
from datetime import datetime, timedelta, timezone

import pytest
from sqlalchemy import select

from connectors import SourceUnavailable, WriteBackRejected, WriteBackRequest, build_connector
from connectors.poll import poll_channel
from simulators import WorkOrder12345
from simulators.clock import ManualClock
from tickets import QuarantinedRecord, Ticket, store


def connector(hotline, **settings):
    base = {"base_url": hotline.base_url, "app_id": "oq-test", "app_secret": "s3cret", "page_size": 20,
            "timeout_seconds": 3, "max_attempts": 4}
    return build_connector("12345-sd", "12345", base | settings)


def pull_all(conn, cursor=None):
    records, bad = [], []
    for batch in conn.pull(cursor):
        records += batch.records
        bad += batch.bad
        cursor = batch.cursor
    return records, bad, cursor


def test_pages_that_shift_while_paging_skip_nothing(hotline):
    hotline.add_orders(100)
    calls = {"n": 0}
    moved = []

    def shift(_request):
        calls["n"] += 1
        if calls["n"] in (2, 3):
            # an early order is updated: it moves to the end of the list, everything after it moves up
            early = hotline.orders[calls["n"]]
            moved.append(hotline.update_order(early["GDBH"], SQNR="补充材料")["GDBH"])
            hotline.add_orders(3)

    hotline.on_list = shift
    records, bad, _ = pull_all(connector(hotline))
    assert {r.source_ref for r in records} == {o["GDBH"] for o in hotline.orders}
    assert not bad
    latest = {r.source_ref: r for r in sorted(records, key=lambda r: r.source_updated_at)}
    assert all(latest[ref].text == "补充材料" for ref in moved)


def test_malformed_orders_are_set_aside_with_a_reason_and_the_rest_go_in(hotline):
    hotline.add_orders(30, malformed=5)
    records, bad, _ = pull_all(connector(hotline))
    # (the overlap re-reads some orders; the store keeps each once)
    assert len({r.source_ref for r in records}) == 30
    assert len({repr(b.raw) for b in bad}) == 5
    assert all(("GDBH" in b.reason) or ("not a date" in b.reason) or ("missing" in b.reason) for b in bad)


def test_an_expired_token_is_renewed_once_and_the_pull_goes_on(hotline):
    hotline.add_orders(5)
    conn = connector(hotline)
    pull_all(conn)
    hotline.expire_tokens()
    records, _, _ = pull_all(conn)
    assert len({r.source_ref for r in records}) == 5


def test_rate_limits_and_maintenance_are_waited_out(hotline):
    hotline.add_orders(60)
    hotline.rate_limit_rps = 4
    hotline.fail_next(2, status=503)
    started = time.monotonic()
    records, _, _ = pull_all(connector(hotline, page_size=10, max_attempts=8))
    assert len({r.source_ref for r in records}) == 60
    # Retry-After was obeyed rather than hammering: at 4 requests per second this took a while
    assert time.monotonic() - started > 0.5


def test_a_source_that_stays_down_is_an_error_for_the_next_poll_and_nothing_is_lost(db, hotline):
    hotline.add_orders(10)
    conn = connector(hotline, max_attempts=2)
    hotline.go_down()
    report = poll_channel(db, conn, "w1")
    assert report.error and "ConnectionError" in report.error
    with db.transaction() as s:
        assert store.counts_by_status(s) == {}
    hotline.come_up()
    report = poll_channel(db, conn, "w1")
    assert report.error is None and report.created == 10


def test_a_burst_larger_than_one_poll_within_the_overlap_gets_through(db, hotline):
    # 300 orders stamped within seconds, so all inside the 300-second overlap; one poll takes 5 pages of 20.
    hotline.add_orders(300)
    conn = connector(hotline)
    created = []
    for _ in range(8):
        report = poll_channel(db, conn, "w1", max_batches=5)
        assert report.error is None
        created += report.created_ids
    assert len(created) == len(set(created)) == 300
    with db.transaction() as s:
        assert store.counts_by_status(s) == {"new": 300}
    assert poll_channel(db, conn, "w1").created == 0   # and, the burst through, polling goes on as before


def test_the_next_page_is_fetched_while_this_one_is_stored_and_a_failure_keeps_what_was_stored(db, hotline):
    hotline.add_orders(100)
    conn = connector(hotline, max_attempts=1)
    asked = {"pages": 0}
    seen_while_storing = []

    def count_and_fail_after_third(_request):
        asked["pages"] += 1
        if asked["pages"] == 3:
            hotline.fail_next(5, 500)   # the fourth page fails: the source goes down mid-pull

    def slow_store(_session, _result):
        time.sleep(0.3)
        seen_while_storing.append(asked["pages"])

    hotline.on_list = count_and_fail_after_third
    report = poll_channel(db, conn, "w1", hooks=[slow_store])
    # while the first page was being stored, the second had been asked for
    assert seen_while_storing[0] >= 2
    # the failure on page 4 is the poll's error; the three pages before it are stored with their cursor
    assert report.error and "500" in report.error and report.batches == 3 and 0 < report.created < 100
    with db.transaction() as s:
        assert store.counts_by_status(s) == {"new": report.created}
    hotline.on_list = None
    hotline.clear_faults()
    again = poll_channel(db, conn, "w1")
    assert again.error is None and report.created + again.created == 100
    with db.transaction() as s:
        assert store.counts_by_status(s) == {"new": 100}


def test_write_back_is_idempotent_and_forbidden_transitions_are_refused(hotline):
    order = hotline.add_orders(1)[0]
    conn = connector(hotline)
    sign = WriteBackRequest(order["GDBH"], "accepted", "oq-key-1", {"unit_name": "大良市场监督管理所"})
    assert conn.write_back(sign).outcome == "done"
    assert conn.write_back(sign).outcome == "done"  # the same request id: the first answer, no second effect
    again = WriteBackRequest(order["GDBH"], "accepted", "oq-key-2", {"unit_name": "大良市场监督管理所"})
    assert conn.write_back(again).outcome == "already_done"  # 40901
    assert hotline.effect_count(order["GDBH"], "sign") == 1
    hotline.withdraw(order["GDBH"])
    with pytest.raises(WriteBackRejected, match="40902"):
        conn.write_back(WriteBackRequest(order["GDBH"], "resolved", "oq-key-3", {"result": "已办结"}))


def test_wrong_credentials_say_so(hotline):
    conn = connector(hotline, app_secret="wrong")
    with pytest.raises(SourceUnavailable, match="refused the credentials"):
        pull_all(conn)


def a_minute_apart(n, **options):
    """A 12345 stand-in on a hand-moved clock holding `n` orders updated a minute apart."""
    clock = ManualClock(datetime(2026, 11, 23, 9, 0, tzinfo=timezone(timedelta(hours=8))))
    sim = WorkOrder12345(app_id="oq-test", app_secret="s3cret", seed=7, rate_limit_rps=None, clock=clock,
                         **options)
    for _ in range(n):
        sim.add_orders(1)
        clock.advance(minutes=1)
    return sim, clock


def test_a_page_out_of_order_skips_nothing(db):
    # Given 60 orders a minute apart, and a source that answers one page of 20 out of order: the order in
    # the middle of the page shows a GXSJ an hour later than the orders after it
    sim, _ = a_minute_apart(60)
    with sim:
        sim.unsort_next_page()
        # When the channel is polled
        report = poll_channel(db, connector(sim), "w1")
        # Then every order is a ticket: none after the late one was skipped
        assert report.error is None
        with db.transaction() as s:
            assert store.counts_by_status(s) == {"new": 60}


def test_a_token_living_under_a_minute_serves_many_requests_and_is_renewed_before_it_lapses():
    # Given a hotline whose tokens live 30 seconds
    sim, clock = a_minute_apart(5, token_ttl=30)
    with sim:
        conn = connector(sim)
        conn.auth.clock = lambda: clock().timestamp()
        # When the channel is pulled again and again within those seconds
        for _ in range(6):
            records, _, _ = pull_all(conn)
            assert len({r.source_ref for r in records}) == 5
        # Then one token served every request
        assert sim.token_requests == 1
        # And when most of its life has passed (yet the hotline still takes it), the next pull renews it first
        clock.advance(seconds=25)
        pull_all(conn)
        assert sim.token_requests == 2


def test_an_order_the_database_cannot_store_as_given_is_set_aside_and_the_channel_keeps_flowing(db, hotline):
    # Given four orders, one whose text holds a NUL byte and one whose phone is longer than its column
    # (PostgreSQL refuses both, which stuck the poll on every run; SQLite stored them silently)
    orders = hotline.add_orders(4)
    nul, long_phone = orders[1]["GDBH"], orders[2]["GDBH"]
    hotline.update_order(nul, SQNR="在该店购买的预付卡\x00无法使用，要求退款。")
    hotline.update_order(long_phone, LDHM="1" * 40)
    conn = connector(hotline)

    report = poll_channel(db, conn, "w1")

    # Then the two others are tickets, and the two are set aside naming the hotline's field and what is wrong
    assert report.error is None and report.created == 2
    with db.transaction() as s:
        aside = {q.source_ref: q.reason for q in s.scalars(select(QuarantinedRecord))}
        assert {t.source_ref for t in s.scalars(select(Ticket))} == {orders[0]["GDBH"], orders[3]["GDBH"]}
    assert aside[nul].startswith("SQNR: does not fit: holds a NUL byte")
    assert aside[long_phone] == "LDHM: does not fit: is 40 characters long; the column holds at most 32"

    # And when the hotline corrects the order, the next poll takes it in
    hotline.update_order(nul, SQNR="在该店购买的预付卡无法使用，要求退款。")
    assert poll_channel(db, conn, "w1").created == 1
