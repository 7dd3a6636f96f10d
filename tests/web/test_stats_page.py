"""The statistics page in a real headless Chromium: a person picks the period and the dimension, reads the table
and the bars, and clicks a town's bar to see that town's tickets in the queue. Tickets come from the 12345
stand-in through the real worker, which also keeps the rollup current."""
from __future__ import annotations

import csv
import io
import re
from collections import Counter
from pathlib import Path
from datetime import timedelta

import pytest
from sqlalchemy import select

from stats.periods import today
from tickets import Ticket

from .conftest import log_in

pytestmark = pytest.mark.slow


def test_a_towns_bar_drills_down_to_its_tickets_in_the_queue(site, hotline, make_user, page):
    hotline.add_orders(30, seed=11)
    site.worker.run_once()
    with site.db.transaction() as s:
        tickets = [t for t in s.scalars(select(Ticket)) if t.status != "duplicate"]
    by_town = Counter(t.town for t in tickets if t.town)
    town, n = by_town.most_common(1)[0]

    log_in(page, site, make_user("admin1", name="李管理", role="admin"))
    page.click("text=统计分析")
    period = f"{today() - timedelta(days=7)}..{today()}"
    page.fill("input[name=period]", period)
    page.select_option("select[name=by]", "town")
    page.click("button:has-text('统计')")
    assert page.locator(".stats-summary b").inner_text() == str(len(tickets))
    cells = page.locator("table.stats-counts tbody tr").filter(has_text=town).locator("td")
    assert cells.nth(1).inner_text() == str(n)

    with page.expect_download() as download:   # the same table as a spreadsheet reads it
        page.locator("h2 a.csv").first.click()
    table = list(csv.reader(io.StringIO(Path(download.value.path()).read_text("utf-8-sig"))))
    assert table[0][:2] == ["镇街", "投诉件数"]
    assert {row[0]: int(row[1]) for row in table[1:-1]} == dict(by_town)
    assert table[-1][:2] == ["合计", str(len(tickets))]

    page.locator(f"svg.bars g.bar[data-name='{town}'] a").click()
    page.wait_for_url(re.compile(r".*/\?.*town="))
    assert f"共 {n} 件" in page.locator(".queue-head h1").inner_text()
    assert "统计明细" in page.locator("p.drilled").inner_text()
    rows = page.locator("table tbody tr[data-number]")
    assert rows.count() == n
    numbers = {rows.nth(i).get_attribute("data-number") for i in range(rows.count())}
    assert numbers == {t.number for t in tickets if t.town == town}


def test_the_monthly_report_downloads_from_the_page_as_a_workbook(site, hotline, make_user, page):
    from openpyxl import load_workbook

    hotline.add_orders(12, seed=13)
    site.worker.run_once()
    with site.db.transaction() as s:
        tickets = [t for t in s.scalars(select(Ticket)) if t.status != "duplicate"]
    log_in(page, site, make_user("admin1", name="李管理", role="admin"))
    page.goto(site.url + "/stats?period=this-month")
    with page.expect_download() as download:
        page.click("a.report")
    book = load_workbook(io.BytesIO(Path(download.value.path()).read_bytes()))
    summary = {row[0]: row[1] for row in book["概况"].iter_rows(min_row=5, values_only=True)}
    assert summary["投诉举报咨询件数（不含重复件）"] == len(tickets)
    towns = {row[0]: row[1] for row in book["镇街"].iter_rows(min_row=2, values_only=True)}
    assert towns["合计"] == len(tickets) and sum(v for k, v in towns.items() if k != "合计") == len(tickets)


def test_a_station_s_staff_see_their_own_figures_and_a_bad_period_is_said_so(site, hotline, make_user, page):
    hotline.add_orders(20, seed=5)
    site.worker.run_once()
    with site.db.transaction() as s:
        units = Counter(t.assigned_unit for t in s.scalars(select(Ticket)) if t.status != "duplicate")
    station = next(u for u, _ in units.most_common() if u and site.units.get(u).kind == "station")
    log_in(page, site, make_user("zhang", name="张三", unit=station))
    page.goto(site.url + f"/stats?period={today() - timedelta(days=7)}..{today()}&by=unit")
    names = page.locator("table.stats-counts tbody td:first-child").all_inner_texts()
    assert names == [site.units.get(station).name]
    assert page.locator(".stats-summary b").inner_text() == str(units[station])
    page.goto(site.url + "/stats?period=2026-13")
    assert "查询条件有误" in page.content() and "2026-13" in page.content()
    page.goto(site.url + "/?view=all&received_from=2026-11-31")
    assert "查询条件有误" in page.content() and "2026-11-31" in page.content()
