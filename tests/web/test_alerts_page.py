"""The back office's 预警 page in a real headless Chromium: a lead sees the prepaid-card alert the worker's jobs
raised, with its tickets, acknowledges it and closes it with a note; staff may not open the page."""
from __future__ import annotations

from datetime import datetime, timedelta, timezone

import pytest

from tickets import IncomingTicket, store

from .conftest import log_in

pytestmark = pytest.mark.slow
CST = timezone(timedelta(hours=8))


def _flight(site) -> None:
    """Three complainants about one gym's prepaid cards and its closed doors, taken in by the worker's jobs."""
    start = datetime.now(CST) - timedelta(days=2)
    with site.db.transaction() as s:
        store.ingest(s, "12345-shunde", "12345", [IncomingTicket(
            source_ref=f"F-{i}", source_updated_at=start + timedelta(hours=i), received_at=start + timedelta(hours=i),
            title="预付卡投诉", text="办了健身年卡，健身房突然关门，老板联系不上", business_name="顺德区悦动健身有限公司",
            event_address="大良街道华盖路88号", complainant_phone=f"1390000000{i}") for i in range(3)])
    site.worker.dispatch()
    site.worker.watch_businesses()


def test_a_lead_acknowledges_and_closes_an_alert_with_a_note(site, make_user, page, new_page):
    _flight(site)
    log_in(page, site, make_user("lead1", name="陈组长", role="lead"))
    page.click("nav >> text=预警")
    row = page.locator("#alerts tr[data-id]")
    assert row.count() == 1
    assert "预付卡跑路" in row.inner_text() and "悦动健身" in row.inner_text() and "3 张" in row.inner_text()
    assert row.locator(".prio-urgent").inner_text() == "紧急"

    row.locator("form[action$='/ack'] input[name=note]").fill("已派员核查")
    row.locator("form[action$='/ack'] button").click()
    page.wait_for_load_state()
    assert "已确认" in page.inner_text("p.notice")
    assert "已确认" in page.locator("#alerts tr[data-id] td.status").inner_text()

    # a close without a note is held by the form itself; with one, the alert leaves the list of those not closed
    page.locator("#alerts tr[data-id] form[action$='/close'] input[name=note]").fill("已立案调查，约谈负责人")
    page.locator("#alerts tr[data-id] form[action$='/close'] button").click()
    page.wait_for_load_state()
    assert "已关闭" in page.inner_text("p.notice")
    assert page.locator("#no-alerts").is_visible()
    page.click("text=已关闭")
    assert "已立案调查，约谈负责人" in page.locator("#alerts tr[data-id]").inner_text()

    staff = new_page()
    log_in(staff, site, make_user("staff1", role="staff"))
    assert staff.goto(site.url + "/alerts").status == 403
    assert staff.locator("nav a[href='/alerts']").count() == 0
