"""Registering by hand in a real headless Chromium: a visitor's complaint typed at the counter becomes a ticket
that the real worker dispatches to the station, which is texted at the Twilio stand-in; an open ticket of the
same phone warns first; a station's register uploaded with one bad row names that row and stores the others."""
from __future__ import annotations

from datetime import datetime
from pathlib import Path

import openpyxl
import pytest
from sqlalchemy import select

from tickets import Ticket

from .conftest import log_in

pytestmark = pytest.mark.slow

WALK_IN = """
  - name: walkin-stations
    kind: walk_in
"""
STATION = "st-daliang-01"
SHOTS = Path("var/screenshots")


@pytest.fixture
def walkin_site(start_site):
    return start_site(extra=WALK_IN)


def walk_in_tickets(site) -> list[Ticket]:
    with site.db.transaction() as s:
        return list(s.scalars(select(Ticket).where(Ticket.channel == "walkin-stations").order_by(Ticket.id)))


def shot(page, name: str) -> None:
    SHOTS.mkdir(parents=True, exist_ok=True)
    page.screenshot(path=str(SHOTS / name), full_page=True)


def fill_visit(page, phone: str, business: str = "大良悦动健身会所") -> None:
    page.select_option("#f-station", STATION)
    page.fill("#f-name", "梁女士")
    page.fill("#f-phone", phone)
    page.select_option("#f-kind", "投诉")
    page.fill("#f-business", business)
    page.fill("#f-address", "大良街道升平社区华盖路88号")
    page.fill("#f-amount", "3680")
    page.fill("#f-text", "在健身会所办了年卡，会所突然关门，要求退还剩余费用。")


def test_a_visit_registered_by_the_form_is_dispatched_and_the_station_texted(walkin_site, make_user, page,
                                                                             sms_provider):
    log_in(page, walkin_site, make_user("desk1", name="陈前台", role="staff"))
    page.click("nav >> text=人工下单")
    # a field left wrong is named beside the form, and what was typed stays
    fill_visit(page, "1380013")
    page.click("#walkin-form button[type=submit]")
    assert "11 位手机号" in page.inner_text("#e-phone")
    assert page.input_value("#f-text").startswith("在健身会所办了年卡")
    assert page.input_value("#f-business") == "大良悦动健身会所"
    shot(page, "walkin-error.png")
    page.fill("#f-phone", "13802891234")
    page.click("#walkin-form button[type=submit]")
    page.wait_for_load_state()
    (ticket,) = walk_in_tickets(walkin_site)
    assert ticket.intake_station == STATION and ticket.amount == 3680
    assert ticket.complainant_phone == "13802891234" and ticket.business_name == "大良悦动健身会所"
    assert ticket.number in page.inner_text("main")   # the ticket's page, or the notice where it is not yet seen
    # the worker dispatches it back to the station that took the visit, and texts the station
    walkin_site.worker.run_once()
    walkin_site.worker.send_sms()
    (ticket,) = walk_in_tickets(walkin_site)
    assert ticket.status == "dispatched" and ticket.assigned_unit == STATION
    station = walkin_site.units.get(STATION)
    assert any(ticket.number in m["body"] for c in station.contacts for m in sms_provider.messages_to("+86" + c.phone))


def test_the_same_phone_with_an_open_ticket_warns_before_registering(walkin_site, logged_in_page):
    page = logged_in_page
    page.goto(walkin_site.url + "/walkin")
    fill_visit(page, "13802891234")
    page.click("#walkin-form button[type=submit]")
    page.wait_for_load_state()
    (first,) = walk_in_tickets(walkin_site)
    assert page.url.endswith(f"/tickets/{first.number}")
    # the same visitor again, written +86 and about another business
    page.goto(walkin_site.url + "/walkin")
    fill_visit(page, "+86 138 0289 1234", business="容桂顺联手机通讯店")
    page.click("#walkin-form button[type=submit]")
    page.wait_for_load_state()
    assert len(walk_in_tickets(walkin_site)) == 1
    warning = page.locator("#similar")
    assert warning.is_visible() and first.number in warning.inner_text()
    assert page.locator(f"#similar a[href='/tickets/{first.number}']").count() == 1
    assert page.input_value("#f-business") == "容桂顺联手机通讯店"
    shot(page, "walkin-duplicate.png")
    page.click("#walkin-form button:has-text('仍然登记')")
    page.wait_for_load_state()
    tickets = walk_in_tickets(walkin_site)
    assert len(tickets) == 2 and page.url.endswith(f"/tickets/{tickets[1].number}")


def register_book(path: Path, rows: list[list]) -> Path:
    book = openpyxl.Workbook()
    sheet = book.active
    sheet.append(["来访日期", "来访时间", "姓名", "联系电话", "类型", "被投诉方", "地址", "诉求内容", "涉及金额", "接待人"])
    for row in rows:
        sheet.append(row)
    book.save(path)
    return path


def test_a_register_with_one_bad_row_shows_that_row_and_stores_the_good_ones(walkin_site, logged_in_page, tmp_path):
    page = logged_in_page
    book = register_book(tmp_path / "升平站来访登记.xlsx", [
        [datetime(2026, 11, 20), "10:15", "梁女士", "13802891234", "投诉", "大良悦动健身会所", "华盖路88号",
         "健身会所关门，要求退费。", "3680", "陈前台"],
        [datetime(2026, 11, 20), "11:00", "何先生", "1380013", "投诉", "某某餐厅", "清晖路", "饭菜有异物。", "", "陈前台"],
        [datetime(2026, 11, 21), "09:30", "李女士", "13902223333", "咨询", "", "", "预付卡如何退费？", "", "陈前台"],
    ])
    page.goto(walkin_site.url + "/walkin")
    page.select_option("#u-station", STATION)
    page.set_input_files("#u-file", str(book))
    page.click("#upload-form button[type=submit]")
    page.wait_for_load_state()
    assert "新登记 2 条" in page.inner_text("#upload-result") and "有误 1 行" in page.inner_text("#upload-result")
    errors = page.inner_text("#row-errors")
    assert "第 3 行" in errors and "1380013" in errors
    shot(page, "walkin-upload.png")
    stored = walk_in_tickets(walkin_site)
    assert sorted(t.complainant_phone for t in stored) == ["13802891234", "13902223333"]
    assert all(t.intake_station == STATION for t in stored)
