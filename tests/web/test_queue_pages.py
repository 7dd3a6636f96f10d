"""The back office in a real headless Chromium: staff find tickets, dispatch, resolve, work in bulk and by keys,
see others' changes live, and see only what their unit may see. Tickets come from the 12345 stand-in through
the real worker; SMS go to the Twilio stand-in; results go back to the 12345 stand-in."""
from __future__ import annotations

import re

import pytest
from sqlalchemy import select

from tickets import Ticket

from .conftest import log_in

pytestmark = pytest.mark.slow


@pytest.fixture
def queue_site(site, hotline):
    """A back office whose queue holds 40 orders of the 12345 stand-in, dispatched by the real worker."""
    hotline.add_orders(40)
    # and one order whose place no rule can place: it waits in 待分派 for a person
    stray = hotline.add_orders(1)[0]["GDBH"]
    hotline.update_order(stray, SFDZ="某某路88号", QYDM="", BSQYMC="某网店", BT="网购商品质量问题",
                         SQNR="在网上买的商品质量有问题，联系商家不理睬，要求退货。")
    site.worker.run_once()
    return site


def tickets_where(site, **kw) -> list[Ticket]:
    with site.db.transaction() as s:
        stmt = select(Ticket).order_by(Ticket.id)
        for name, value in kw.items():
            stmt = stmt.where(getattr(Ticket, name) == value)
        return list(s.scalars(stmt))


def search(page, text: str) -> None:
    page.fill("#q", text)
    page.press("#q", "Enter")
    page.wait_for_load_state()


def listed(page) -> list[str]:
    return page.locator("#rows tr[data-number]").evaluate_all("rows => rows.map(r => r.dataset.number)")


def test_staff_find_a_ticket_by_a_chinese_substring_and_by_phone(queue_site, logged_in_page):
    page = logged_in_page
    target = next(t for t in tickets_where(queue_site)
                  if len(t.text) > 12 and t.complainant_phone and t.status in ("dispatched", "triage"))
    # given a few words from the middle of the complaint
    words = target.text[4:10]
    page.goto(queue_site.url + "/?view=open")
    search(page, words)
    expected = [t.number for t in tickets_where(queue_site) if words in (t.text + t.title + (t.business_name or ""))
                and t.status not in ("resolved", "closed", "rejected", "withdrawn", "duplicate")]
    assert target.number in listed(page)
    assert sorted(listed(page)) == sorted(expected)
    # and by the complainant's phone, exactly
    search(page, target.complainant_phone)
    same_phone = [t.number for t in tickets_where(queue_site, complainant_phone=target.complainant_phone)
                  if t.status not in ("resolved", "closed", "rejected", "withdrawn", "duplicate")]
    assert sorted(listed(page)) == sorted(same_phone)
    page.screenshot(path=str(_shots(page) / "queue-search.png"), full_page=True)


def test_a_triage_ticket_is_dispatched_from_its_page_and_the_unit_is_texted(queue_site, logged_in_page,
                                                                              sms_provider):
    page = logged_in_page
    triage = tickets_where(queue_site, status="triage")
    assert triage, "the stand-in's orders include some no rule decides"
    ticket = triage[0]
    station = queue_site.units.get("st-daliang-01")
    page.goto(queue_site.url + "/?view=triage")
    page.click(f"text={ticket.number}")
    assert page.locator("h2", has_text="为何未自动派发").is_visible()
    page.screenshot(path=str(_shots(page) / "ticket-triage.png"), full_page=True)
    form = page.locator("form[action$='/dispatch']")
    form.locator("input[name=unit]").fill(station.id)
    form.locator("button").click()
    page.wait_for_load_state()
    assert "已完成：派发" in page.inner_text("main")
    assert station.name in page.inner_text(".ticket-head")
    # then the station's contacts get the dispatch SMS at the Twilio stand-in
    queue_site.worker.send_sms()
    for contact in station.contacts:
        assert any(ticket.number in m["body"] for m in sms_provider.messages_to("+86" + contact.phone))
    # and the history names the person who did it
    assert "李管理" in page.inner_text("#history") or "admin1" in page.inner_text("#history")


def test_a_resolution_from_the_page_reaches_the_12345_hotline(queue_site, logged_in_page, hotline):
    page = logged_in_page
    ticket = tickets_where(queue_site, status="dispatched")[0]
    page.goto(queue_site.url + f"/tickets/{ticket.number}")
    form = page.locator("form[action$='/resolve']")
    assert "回填至" in form.inner_text()
    form.locator("select.pick-result").select_option(index=1)
    form.locator("select[name=outcome]").select_option("settled")
    form.locator("input[name=recovered_amount]").fill("1280")
    form.locator("button").click()
    page.wait_for_load_state()
    assert "已办结" in page.inner_text(".ticket-head")
    assert "挽回经济损失 1280.00 元" in page.inner_text("main")
    queue_site.worker.deliver()
    order = hotline.get(ticket.source_ref)
    assert order["ZT"] == "已办结"
    assert order["HFNR"].startswith("经调解，商家同意全额退款")
    assert hotline.effect_count(ticket.source_ref, "reply") == 1


def test_a_lead_reassigns_three_tickets_at_once(queue_site, make_user, page):
    log_in(page, queue_site, make_user("lead1", name="陈组长", role="lead"))
    page.goto(queue_site.url + "/?view=open&sort=received")
    numbers = listed(page)[:3]
    for number in numbers:
        page.check(f"input[name=numbers][value='{number}']")
    assert page.inner_text(".selected-count b") == "3"
    page.select_option("select[name=action]", "reassign")
    page.fill(".bulkbar input[name=unit]", "st-ronggui-02")
    page.fill(".bulkbar input[name=reason]", "辖区调整")
    page.click(".bulkbar button[type=submit]")
    page.wait_for_load_state()
    assert "完成 3 件" in page.inner_text("main")
    moved = {t.number: t for t in tickets_where(queue_site, assigned_unit="st-ronggui-02")}
    assert set(numbers) <= set(moved)
    assert all(moved[n].events[-1].actor == "user:lead1" for n in numbers)


def test_staff_keep_a_search_as_their_own_view_and_delete_it(queue_site, logged_in_page):
    page = logged_in_page
    page.goto(queue_site.url + "/?view=open")
    search(page, "质量")
    wanted = listed(page)
    # when they keep the search under a name
    page.click("details.save-view summary")
    page.fill("details.save-view input[name=name]", "质量问题在办")
    page.click("details.save-view button[type=submit]")
    page.wait_for_load_state()
    # then it is under 我的视图 and opens the same tickets
    page.goto(queue_site.url + "/")
    page.click("li.saved-view a:has-text('质量问题在办')")
    page.wait_for_load_state()
    assert sorted(listed(page)) == sorted(wanted)
    # and its × deletes it
    page.click("button[aria-label='删除视图「质量问题在办」']")
    page.wait_for_load_state()
    assert page.locator("li.saved-view").count() == 0


def test_staff_move_select_and_open_with_the_keyboard(queue_site, logged_in_page):
    page = logged_in_page
    page.goto(queue_site.url + "/?view=open")
    numbers = listed(page)
    page.keyboard.press("j")
    page.keyboard.press("j")
    assert page.locator("tr.cursor").get_attribute("data-number") == numbers[1]
    page.keyboard.press("k")
    assert page.locator("tr.cursor").get_attribute("data-number") == numbers[0]
    page.keyboard.press("x")
    assert page.locator(f"input[value='{numbers[0]}']").is_checked()
    page.keyboard.press("?")
    assert page.locator("#keys-help").is_visible()
    page.keyboard.press("/")
    assert page.evaluate("document.activeElement.id") == "q"
    page.keyboard.press("Escape")
    page.keyboard.press("o")
    page.wait_for_url(re.compile(f"/tickets/{numbers[0]}$"))


def test_a_second_browser_sees_a_change_live(queue_site, make_user, new_page, hotline):
    watcher, worker_page = new_page(), new_page()
    log_in(watcher, queue_site, make_user("watch", name="赵值班"))
    log_in(worker_page, queue_site, make_user("doer", name="钱办理"))
    ticket = tickets_where(queue_site, status="dispatched")[0]
    watcher.goto(queue_site.url + "/?view=open&sort=received")
    row = watcher.locator(f"tr[data-number='{ticket.number}']")
    assert "已派发" in row.inner_text()
    # when someone else accepts the ticket in their own browser
    worker_page.goto(queue_site.url + f"/tickets/{ticket.number}")
    worker_page.locator("form[action$='/accept'] button").click()
    worker_page.wait_for_load_state()
    # then the first browser's row changes without a reload
    watcher.wait_for_function(
        f"document.querySelector(\"tr[data-number='{ticket.number}']\").innerText.includes('已受理')", timeout=15_000)
    # and a ticket that arrives at the hotline appears
    hotline.add_orders(1)
    queue_site.worker.run_once()
    newest = tickets_where(queue_site)[-1]
    assert newest.status in ("dispatched", "triage")
    watcher.wait_for_selector(f"tr[data-number='{newest.number}']", timeout=15_000)


def test_a_station_cannot_open_another_stations_ticket(queue_site, make_user, page):
    ticket = tickets_where(queue_site, status="dispatched")[0]
    other = "st-junan-01" if not ticket.assigned_unit.startswith("st-junan") else "st-lecong-01"
    log_in(page, queue_site, make_user("station1", name="孙站员", unit=other))
    response = page.goto(queue_site.url + f"/tickets/{ticket.number}")
    assert response.status == 403
    assert ticket.complainant_phone not in page.content()
    page.goto(queue_site.url + "/?view=open")
    assert ticket.number not in listed(page)


def test_an_action_posted_without_its_csrf_token_is_refused(queue_site, logged_in_page):
    page = logged_in_page
    ticket = tickets_where(queue_site, status="dispatched")[0]
    response = page.request.post(queue_site.url + f"/tickets/{ticket.number}/accept", form={"x": "1"})
    assert response.status == 403
    assert "CSRF" in response.text()
    assert tickets_where(queue_site, number=ticket.number)[0].status == "dispatched"


def test_a_refused_action_says_why_in_words_staff_use(queue_site, logged_in_page):
    page = logged_in_page
    ticket = tickets_where(queue_site, status="dispatched")[0]
    page.goto(queue_site.url + f"/tickets/{ticket.number}")
    page.locator("form[action$='/resolve'] textarea").fill("已处理")
    # someone else returns the ticket meanwhile
    from tickets import handling, store

    with queue_site.db.transaction() as s:
        handling.return_to_source(s, store.get_by_number(s, ticket.number), "user:other", "不属于本单位")
    page.locator("form[action$='/resolve'] button").click()
    page.wait_for_load_state()
    assert "工单当前为「已退回」，不能办结。" in page.inner_text(".error")


def _shots(page):
    from pathlib import Path

    folder = Path("var/screenshots")
    folder.mkdir(parents=True, exist_ok=True)
    return folder
