"""The station's phone page in a real headless Chromium emulating a phone: a contact follows the link of the
dispatch SMS the Twilio stand-in received, gives the four digits, accepts and resolves with a result and a photo;
the result reaches the 12345 stand-in and the back office shows the photo. A link whose ticket moved is refused;
five wrong four-digit tries lock a link."""
from __future__ import annotations

import re
from pathlib import Path

import pytest
from sqlalchemy import select

from tickets import Ticket

from .conftest import log_in
from .test_station_link import LINK, PNG

pytestmark = pytest.mark.slow
PHONE = "Pixel 5"
SHOTS = Path("var/screenshots")


@pytest.fixture
def dispatched(site, hotline, sms_provider):
    """Orders of the 12345 stand-in dispatched by the real worker; a dispatch SMS as the phone got it."""
    hotline.add_orders(6)
    site.worker.run_once()
    # Messages reach the provider several at a time: the first ticket by number that names its complainant.
    def number_of(msg: dict) -> str:
        return re.search(r"SD\d{4}-\d{5}", msg["body"]).group(0)

    texts = sorted((m for m in sms_provider.messages if "新派单" in m["body"]), key=lambda m: (number_of(m), m["to"]))
    msg = next(m for m in texts if ticket(site, number_of(m)).complainant_phone)
    return msg, LINK.search(msg["body"]).group(0), number_of(msg)


def ticket(site, number: str) -> Ticket:
    with site.db.transaction() as s:
        t = s.scalar(select(Ticket).where(Ticket.number == number))
        t.events
        return t


def give_digits(phone, digits: str) -> None:
    phone.fill("#digits", digits)
    phone.click("button[type=submit]")
    phone.wait_for_load_state()


def test_a_contact_accepts_and_resolves_from_the_sms_link_with_a_photo(site, dispatched, new_page, make_user,
                                                                        hotline, tmp_path):
    msg, link, number = dispatched
    phone = new_page(PHONE, script=False)  # the page needs none
    # given the contact opens the link of the SMS on their phone: only the four digits are asked
    phone.goto(link)
    assert "手机号码后四位" in phone.inner_text("main")
    assert number not in phone.content()
    give_digits(phone, msg["to"][-4:])
    # then the ticket shows, with the time left and the complainant to call
    t = ticket(site, number)
    assert phone.inner_text(".bar").startswith(number)
    clocks = phone.locator(".clock").all_inner_texts()
    assert any(c.startswith("首次联系") and "剩" in c for c in clocks), clocks
    assert phone.locator("a.tel").get_attribute("href") == f"tel:{t.complainant_phone}"
    buttons = phone.locator("button.btn, summary.btn")
    assert min(b["height"] for b in (buttons.nth(i).bounding_box() for i in range(buttons.count()))) >= 44
    SHOTS.mkdir(parents=True, exist_ok=True)
    phone.screenshot(path=str(SHOTS / "station-ticket.png"), full_page=True)
    # when they accept it
    phone.click("button:text-is('受理')")
    phone.wait_for_load_state()
    assert "已受理" in phone.inner_text(".bar")
    assert not any(c.startswith("首次联系") for c in phone.locator(".clock").all_inner_texts())  # 受理 ended it
    # and resolve it with a common result, the outcome, the amount recovered and a photo of the scene
    phone.click("summary:text-is('办结')")
    form = phone.locator("form[action$='/resolve']")
    form.locator("select[name=common_result]").select_option(index=1)
    form.locator("select[name=outcome]").select_option("settled")
    form.locator("input[name=recovered_amount]").fill("260")
    photo = tmp_path / "scene.png"
    photo.write_bytes(PNG)
    form.locator("input[name=photos]").first.set_input_files(str(photo))
    form.locator("button[type=submit]").click()
    phone.wait_for_load_state()
    assert "已办结" in phone.inner_text(".bar")
    assert "已上传 1 张" in phone.inner_text("main") and "仅供查看" in phone.inner_text("main")
    phone.screenshot(path=str(SHOTS / "station-resolved.png"), full_page=True)
    # then the ticket is resolved with the contact as the actor of both steps
    done = ticket(site, number)
    unit = site.units.get(done.assigned_unit)
    name = next(c.name for c in unit.contacts if msg["to"].endswith(c.phone))
    assert done.status == "resolved" and done.recovered_amount == 260
    assert [(e.action, e.actor) for e in done.events if e.action in ("accepted", "resolved")] == [
        ("accepted", f"station:{name}"), ("resolved", f"station:{name}")]
    # and the write-back reaches the 12345 stand-in
    site.worker.deliver()
    order = hotline.get(done.source_ref)
    assert order["ZT"] == "已办结" and order["HFNR"].startswith("经调解，商家同意全额退款")
    # and the back office shows the photo to staff who see the ticket
    office = new_page()
    log_in(office, site, make_user("admin1", name="李管理", role="admin"))
    office.goto(site.url + f"/tickets/{number}")
    img = office.locator(".photos img").first
    img.wait_for()
    office.wait_for_function("img => img.complete && img.naturalWidth === 1", arg=img.element_handle())  # shown
    assert f"服务站：{name}" in office.inner_text("#history")
    # and the dispatch SMS it lists keeps the contact's link to itself
    assert "/m/…" in office.content() and link.rsplit("/", 1)[1] not in office.content()
    # while staff of another unit see neither the ticket nor its photo
    photo_url = site.url + img.get_attribute("src")
    stranger = new_page()
    other = next(u for u in site.units if u.kind == "station" and u.id != done.assigned_unit)
    log_in(stranger, site, make_user("staff9", name="赵其他", unit=other.id))
    answer = stranger.goto(photo_url)
    assert answer.status == 403 and answer.headers["content-type"].startswith("text/html")


def test_a_link_whose_ticket_moved_to_another_unit_is_refused(site, dispatched, new_page):
    from dispatch.reassign import reassign_and_text

    msg, link, number = dispatched
    phone = new_page(PHONE)
    phone.goto(link)
    give_digits(phone, msg["to"][-4:])
    assert phone.inner_text(".bar").startswith(number)
    # when the back office sends the ticket to another unit
    t = ticket(site, number)
    other = next(u for u in site.units if u.kind == "station" and u.id != t.assigned_unit and u.contacts)
    with site.db.transaction() as s:
        reassign_and_text(s, number, site.units, other.id, "user:admin1", "辖区调整",
                          site.worker.config.sms.templates.dispatched)
    # then the same link on the same phone is refused, and so is a form the page still held
    answer = phone.goto(link)
    assert answer.status == 410 and "已失效" in phone.inner_text("main")
    assert ticket(site, number).assigned_unit == other.id


def test_five_wrong_four_digit_tries_lock_the_link(site, dispatched, new_page):
    msg, link, number = dispatched
    right = msg["to"][-4:]
    wrong = "0000" if right != "0000" else "1111"
    phone = new_page(PHONE)
    phone.goto(link)
    for left in (4, 3, 2, 1):
        give_digits(phone, wrong)
        assert f"还可尝试 {left} 次" in phone.inner_text("main")
    give_digits(phone, wrong)
    assert "已锁定" in phone.inner_text("main")
    # then even the right digits, from another phone, open nothing
    other = new_page(PHONE)
    answer = other.goto(link)
    assert answer.status == 423 and "已锁定" in other.inner_text("main")
    assert "#digits" not in other.content() and number not in other.content()
