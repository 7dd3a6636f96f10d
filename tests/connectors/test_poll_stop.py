"""A poll ends between batches once its worker is told to stop: what it stored stays stored with its cursor, and
the next poll goes on from there without losing or repeating a ticket."""
from __future__ import annotations

import threading

from sqlalchemy import func, select

import worker as worker_module
from connectors import build_connector
from connectors.poll import poll_channel
from settings.config_schema import load_config
from simulators.testing import write_config
from tickets import Ticket


def connector(hotline):
    return build_connector("12345-sd", "12345", {"base_url": hotline.base_url, "app_id": "oq-test",
                                                 "app_secret": "s3cret", "page_size": 20, "timeout_seconds": 3})


def tickets(db) -> list[str]:
    with db.transaction() as s:
        return list(s.scalars(select(Ticket.source_ref)))


def test_a_poll_stops_between_batches_and_the_next_goes_on_without_loss_or_repeat(db, hotline):
    # given 100 orders, five pages of 20
    hotline.add_orders(100)
    stopping = threading.Event()
    pages = []

    def listed(query):
        pages.append(query["page"])
        if len(pages) == 2:   # the worker is told to stop while the second page is on its way
            stopping.set()

    def storing(session, result):
        # the second page is read ahead while the first is stored: the stop comes in the middle of storing
        assert stopping.wait(10)

    hotline.on_list = listed
    # when a poll is running as the worker is told to stop
    first = poll_channel(db, connector(hotline), "worker-a", stopping=stopping.is_set, hooks=[storing])
    # then it stores the page in hand and asks for no other
    assert first.stopped and first.error is None
    assert first.batches == 2 and len(pages) == 2
    assert 20 <= len(tickets(db)) == first.created < 100
    # and the channel's lease is released: another worker polls at once and goes on from the stored cursor
    hotline.on_list = None
    second = poll_channel(db, connector(hotline), "worker-b")
    assert not second.skipped and not second.stopped and second.error is None
    refs = tickets(db)
    assert sorted(refs) == sorted(o["GDBH"] for o in hotline.orders)
    assert len(first.created_ids) + len(second.created_ids) == len(set(first.created_ids + second.created_ids)) == 100


def test_a_stopping_worker_starts_no_poll(tmp_path, db_url, hotline, sms_provider):
    # given a worker told to stop, with orders waiting
    hotline.add_orders(10)
    worker = worker_module.Worker(load_config(write_config(tmp_path / "config.yaml", db_url, hotline, sms_provider)))
    worker.prepare()
    worker.stopping.set()
    # when its poll job comes round
    report = worker.poll("12345-shunde")
    # then it asks the source for nothing and leaves the orders to the next start
    assert report.stopped and report.batches == 0
    with worker.db.transaction() as s:
        assert s.scalar(select(func.count()).select_from(Ticket)) == 0
    worker.db.dispose()
