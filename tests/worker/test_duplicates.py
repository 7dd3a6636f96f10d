"""One complaint, two channels: the consumer rings 12345 and files on 12315 about the same shop. One ticket is
dispatched and texted, the other is linked to it, and both sources receive the final result."""
from __future__ import annotations

from datetime import datetime, timedelta

import pytest
from sqlalchemy import select

from cli.main import main as cli
from settings.config_schema import load_config
from simulators.platform_12315 import Platform12315
from simulators.testing import write_config
from tickets import Ticket
from worker import Worker

RESULT = "经调解，商家同意退还预付卡余额2680元，消费者表示满意。"


@pytest.fixture
def platform():
    with Platform12315("oq-12315", "s3cret", seed=7, rate_limit_rps=None) as sim:
        yield sim


def config_with_12315(tmp_path, db_url, hotline, sms_provider, platform, window_days=30):
    return write_config(tmp_path / "config.yaml", db_url, hotline, sms_provider, extra=f"""
  - name: 12315-shunde
    kind: "12315"
    poll_seconds: 0.5
    settings:
      base_url: "{platform.base_url}"
      client_id: oq-12315
      client_secret: s3cret
duplicates:
  window_days: {window_days}
  min_similarity: 0.5
""")


def the_same_complaint_on_12315(platform, order: dict) -> dict:
    """The consumer files on 12315 what they told the hotline, in the platform's words."""
    return platform.add_case(
        kind="COMPLAINT",
        consumer={"name": order["LDRXM"] or "匿名", "mobile": "+86 " + order["LDHM"]},
        business={"name": order["BSQYMC"], "address": order["SFDZ"], "regionCode": order["QYDM"]},
        description=order["SQNR"].replace("来电人", "消费者"),
    )


def by_channel(worker) -> dict[str, Ticket]:
    with worker.db.transaction() as s:
        return {t.channel: t for t in s.scalars(select(Ticket))}


def test_the_same_complaint_by_12345_and_12315_is_one_dispatch_and_both_sources_get_the_result(
        tmp_path, db_url, hotline, sms_provider, platform):
    # given a complaint at the 12345 hotline and the same complaint on the 12315 platform
    order = next(o for o in hotline.add_orders(30) if o["SQLX"] == "投诉" and o["BSQYMC"])
    case = the_same_complaint_on_12315(platform, order)
    config = config_with_12315(tmp_path, db_url, hotline, sms_provider, platform)
    worker = Worker(load_config(config))

    # when the worker polls both channels and dispatches
    worker.run_once()

    # then the 12315 ticket is linked to the 12345 one, and only the 12345 one reached a unit
    with worker.db.transaction() as s:
        primary = s.scalars(select(Ticket).where(Ticket.source_ref == order["GDBH"])).one()
        duplicate = s.scalars(select(Ticket).where(Ticket.source_ref == case["caseId"])).one()
        assert primary.status == "dispatched"
        assert (duplicate.status, duplicate.duplicate_of) == ("duplicate", primary.id)
        assert [e.action for e in duplicate.events] == ["received", "duplicate_linked"]
        assert "duplicate_added" in [e.action for e in primary.events]
    unit = worker.dispatcher.units.get(primary.assigned_unit)
    assert sorted(m["to"] for m in sms_provider.messages if primary.number in m["body"]) == sorted(
        "+86" + c.phone for c in unit.contacts)
    assert not [m for m in sms_provider.messages if duplicate.number in m["body"]]

    # when the unit resolves the one ticket
    assert cli(["--config", config, "tickets", "resolve", primary.number, "--result", RESULT]) == 0
    worker.run_once()
    worker.run_once()

    # then both sources hold the result, each effect once, and no more SMS went to the unit about it
    shown = hotline.get(order["GDBH"])
    assert (shown["ZT"], shown["HFNR"]) == ("已办结", RESULT)
    assert hotline.effect_count(order["GDBH"], "sign") == 1 and hotline.effect_count(order["GDBH"], "reply") == 1
    on_platform = platform.get(case["caseId"])
    assert on_platform["status"] == "CLOSED" and on_platform["result"]["note"] == RESULT
    assert platform.effect_count(case["caseId"], "ACCEPTED") == 1
    assert platform.effect_count(case["caseId"], "CLOSED") == 1
    assert len([m for m in sms_provider.messages if primary.number in m["body"]]) == len(unit.contacts)
    assert not [m for m in sms_provider.messages if duplicate.number in m["body"]]


def test_staff_unlink_a_duplicate_and_it_is_dispatched_on_its_own(tmp_path, db_url, hotline, sms_provider, platform):
    order = next(o for o in hotline.add_orders(30) if o["SQLX"] == "投诉" and o["BSQYMC"])
    the_same_complaint_on_12315(platform, order)
    config = config_with_12315(tmp_path, db_url, hotline, sms_provider, platform)
    worker = Worker(load_config(config))
    worker.run_once()
    duplicate = by_channel(worker)["12315-shunde"]
    assert duplicate.status == "duplicate"

    assert cli(["--config", config, "tickets", "unlink", duplicate.number]) == 0
    worker.run_once()

    with worker.db.transaction() as s:
        again = s.get(Ticket, duplicate.id)
        assert again.status == "dispatched" and again.duplicate_of is None
        assert [e.action for e in again.events][:4] == ["received", "duplicate_linked", "duplicate_unlinked",
                                                       "dispatched"]
    assert [m for m in sms_provider.messages if duplicate.number in m["body"]]
    # and a ticket that is not a duplicate cannot be unlinked
    assert cli(["--config", config, "tickets", "unlink", duplicate.number]) == 1


def test_outside_the_window_the_same_complaint_is_a_ticket_of_its_own(tmp_path, db_url, hotline, sms_provider,
                                                                      platform):
    order = next(o for o in hotline.add_orders(30) if o["SQLX"] == "投诉" and o["BSQYMC"])
    case = the_same_complaint_on_12315(platform, order)
    long_before = datetime.fromisoformat(order["LDSJ"]) - timedelta(days=45)
    platform.update_case(case["caseId"], receivedAt=long_before.isoformat())
    worker = Worker(load_config(config_with_12315(tmp_path, db_url, hotline, sms_provider, platform)))
    worker.run_once()
    assert by_channel(worker)["12315-shunde"].status == "dispatched"


def test_when_the_first_channel_withdraws_the_matter_goes_on_in_the_other(tmp_path, db_url, hotline, sms_provider,
                                                                          platform):
    order = next(o for o in hotline.add_orders(30) if o["SQLX"] == "投诉" and o["BSQYMC"])
    case = the_same_complaint_on_12315(platform, order)
    worker = Worker(load_config(config_with_12315(tmp_path, db_url, hotline, sms_provider, platform)))
    worker.run_once()
    # when the caller withdraws at the hotline, but the 12315 complaint stands
    hotline.withdraw(order["GDBH"])
    worker.run_once()
    # then the 12315 ticket is released and dispatched on its own
    with worker.db.transaction() as s:
        ticket = s.scalars(select(Ticket).where(Ticket.source_ref == case["caseId"])).one()
        assert ticket.status == "dispatched" and ticket.duplicate_of is None
        assert "duplicate_released" in [e.action for e in ticket.events]
    assert [m for m in sms_provider.messages if ticket.number in m["body"]]
