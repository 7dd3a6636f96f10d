"""The operators' pages in a real headless Chromium: a quarantined 12345 order is discarded with a reason, a dead
write-back is retried once the hotline is back, a pasted rules file with a mistake shows its line, a replay lists
the tickets that would move and changes nothing; staff get 403."""
from __future__ import annotations

import dataclasses
from pathlib import Path

import pytest
from sqlalchemy import select

from tickets import Ticket, handling
from tickets.queries import list_quarantined
from writeback import OutboxItem

from .conftest import log_in

pytestmark = pytest.mark.slow
SHOTS = Path("var/screenshots")
ROOT = Path(__file__).resolve().parents[2]


def shot(page, name: str) -> None:
    SHOTS.mkdir(parents=True, exist_ok=True)
    page.screenshot(path=str(SHOTS / name), full_page=True)


def test_staff_are_refused_the_operators_pages(site, make_user, page):
    log_in(page, site, make_user("staff1", role="staff"))
    for path in ("/admin/channels", "/admin/quarantine", "/admin/dead-letters", "/admin/sms", "/admin/rules"):
        response = page.goto(site.url + path)
        assert response.status == 403, path
        assert "需要管理员权限" in page.inner_text("main")
    assert page.locator("nav a[href='/admin/quarantine']").count() == 0


def test_an_operator_discards_a_quarantined_order_and_retries_a_dead_letter(site, hotline, logged_in_page):
    page = logged_in_page
    # given one good order and a malformed one pulled from the 12345 stand-in
    hotline.add_orders(1, malformed=2)
    site.worker.delivery = dataclasses.replace(site.worker.delivery, max_attempts=1)
    site.worker.run_once()
    page.goto(site.url + "/admin/channels")
    row = page.locator("#channels tr[data-channel='12345-shunde']")
    assert row.locator("td").nth(7).inner_text() == "2"
    shot(page, "admin-channels.png")
    page.click("nav >> text=隔离记录")
    rows = page.locator("#quarantine tr[data-id]")
    assert rows.count() == 2
    first = rows.first
    record_id = int(first.get_attribute("data-id"))
    assert first.locator("pre.raw").inner_text().strip().startswith("{")
    shot(page, "admin-quarantine.png")
    # when it is discarded with a reason
    first.locator("input[name=reason]").fill("热线测试数据，来源不会修正")
    first.locator("button", has_text="丢弃").click()
    page.wait_for_load_state()
    assert f"已丢弃隔离记录 {record_id}" in page.inner_text("main")
    assert page.locator(f"#quarantine tr[data-id='{record_id}']").count() == 0
    with site.db.transaction() as s:
        q = next(q for q in list_quarantined(s) if q.id == record_id)
        assert (q.resolution, q.resolution_note, q.resolved_by) == ("discarded", "热线测试数据，来源不会修正", "user:admin1")
    # and given a write-back that died while the hotline was down
    hotline.go_down()
    with site.db.transaction() as s:
        ticket = s.scalars(select(Ticket).where(Ticket.status == "dispatched")).first()
        handling.accept(s, ticket, "user:admin1", "大良升平消费维权服务站")
        number = ticket.number
    site.worker.deliver()
    hotline.come_up()
    page.click("nav >> text=回填死信")
    assert number in page.inner_text("#dead-letters")
    shot(page, "admin-dead-letters.png")
    page.locator("#dead-letters tr[data-id] button", has_text="重试").first.click()
    page.wait_for_load_state()
    assert "已将 1 条死信重新放回回填队列" in page.inner_text("main")
    site.worker.delivery = dataclasses.replace(site.worker.delivery, max_attempts=8)
    site.worker.deliver()
    with site.db.transaction() as s:
        assert {o.status for o in s.scalars(select(OutboxItem))} == {"delivered"}
    assert any(e["call"] == "sign" for e in hotline.effects)


def test_a_pasted_rules_file_is_checked_with_lines_and_replayed_without_changes(site, hotline, logged_in_page):
    page = logged_in_page
    hotline.add_orders(12)
    site.worker.run_once()
    page.goto(site.url + "/admin/rules")
    # a misspelt field on line 4
    page.fill("#rules", "rules:\n  - id: price\n    when:\n      kewords: {any: [乱收费]}\n    assign: sd-amr-price\n")
    page.click("#rules-form button:has-text('检查')")
    page.wait_for_load_state()
    problems = page.inner_text("#problems")
    assert "第 4 行" in problems and "rules[0].when.kewords" in problems
    shot(page, "admin-rules-check.png")
    # a rules file that sends everything to triage: every dispatched ticket would move
    with site.db.transaction() as s:
        before = {t.number: (t.status, t.assigned_unit) for t in s.scalars(select(Ticket))}
    dispatched = sorted(n for n, (status, _) in before.items() if status == "dispatched")
    assert dispatched
    page.fill("#rules", "rules:\n  - id: everything-to-people\n    when: {}\n    triage: true\n")
    page.fill("#days", "30")
    page.click("#replay")
    page.wait_for_load_state()
    if page.locator("#replayed .error").count():
        pytest.fail(page.inner_text("#replayed"))
    moved = page.locator("#moves tr[data-number]").evaluate_all("rows => rows.map(r => r.dataset.number)")
    assert set(dispatched) <= set(moved)
    assert "待分派" in page.inner_text("#moves")
    shot(page, "admin-rules-replay.png")
    with site.db.transaction() as s:
        assert {t.number: (t.status, t.assigned_unit) for t in s.scalars(select(Ticket))} == before
    # and any ticket's decision is explained rule by rule
    page.fill("#number", dispatched[0])
    page.click("#explain-form button")
    page.wait_for_load_state()
    assert page.locator("#explain ol.trace li.matched").count() >= 1
