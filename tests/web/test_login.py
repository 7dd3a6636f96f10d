"""Signing in and out of the back office in a real browser: the login form, wrong passwords, throttling,
pages without a session, CSRF tokens on forms, and the session cookie's flags."""
from __future__ import annotations

import re

import pytest
import requests

from tests.web.conftest import PASSWORD, log_in

pytestmark = pytest.mark.slow  # a real browser: `make quick` leaves these out


def test_a_page_without_a_session_sends_the_person_to_login_and_back_after(site, make_user, page):
    # given an administrator with no session
    make_user("admin1", name="李管理", role="admin")
    # when they open the users page
    page.goto(site.url + "/admin/users")
    # then they are on the login form, and after signing in they are where they were going
    assert page.url.startswith(site.url + "/login?next=")
    page.fill("#username", "admin1")
    page.fill("#password", PASSWORD)
    page.click("button[type=submit]")
    page.wait_for_url(site.url + "/admin/users")
    header = page.locator("header").inner_text()
    assert "李管理" in header and "消费者权益保护科" in header and "退出" in header
    assert page.locator("html").get_attribute("lang") == "zh-CN"


def test_log_in_and_out(site, make_user, page):
    make_user("wang", name="王小明", unit="br-daliang")
    log_in(page, site, "wang")
    assert page.url == site.url + "/"
    assert "大良市场监督管理所" in page.locator("header").inner_text()
    assert "您可查看大良市场监督管理所及其下属单位的工单" in page.locator("main").inner_text()
    # when they log out, the session is over: the queue asks for a login again
    page.click("text=退出")
    page.wait_for_url(re.compile(r".*/login$"))
    page.goto(site.url + "/")
    assert page.url.startswith(site.url + "/login?next=")


def test_a_wrong_password_is_refused(site, make_user, page):
    make_user("wang")
    log_in(page, site, "wang", "not the password")
    assert "/login" in page.url
    assert "用户名或密码不正确" in page.locator("[role=alert]").inner_text()
    assert page.input_value("#username") == "wang"
    # and nothing else is opened: the queue still asks for a login
    page.goto(site.url + "/")
    assert "/login" in page.url


def test_repeated_failures_slow_down_even_the_right_password(site, make_user, page):
    make_user("wang")
    for _ in range(5):
        log_in(page, site, "wang", "guess again")
        assert "用户名或密码不正确" in page.locator("[role=alert]").inner_text()
    # the sixth attempt, even with the right password, must wait
    log_in(page, site, "wang", PASSWORD)
    message = page.locator("[role=alert]").inner_text()
    assert "登录失败次数过多" in message and re.search(r"\d+ 秒后再试", message)
    page.goto(site.url + "/")
    assert "/login" in page.url


def test_the_throttle_is_kept_in_the_database(site, make_user):
    # a second web server on the same database (another worker process) knows of the failures too
    from accounts import LoginThrottled, authenticate

    make_user("wang")
    for _ in range(5):
        with site.db.transaction() as s:
            assert authenticate(s, "wang", "guess again", "10.0.0.7") is None
    with site.db.transaction() as s:
        try:
            authenticate(s, "wang", PASSWORD, "10.0.0.7")
            throttled = False
        except LoginThrottled as exc:
            throttled = 0 < exc.wait_seconds <= 30
    assert throttled
    with site.db.transaction() as s:  # the same login from another client is not held back
        assert authenticate(s, "wang", PASSWORD, "10.0.0.8").login == "wang"


def test_a_form_posted_without_its_csrf_token_is_refused(site, logged_in_page):
    page = logged_in_page
    page.goto(site.url + "/admin/users")
    # when the add-user form goes without its token
    page.evaluate("document.querySelector('#add-user input[name=csrf_token]').remove()")
    page.fill("#login", "intruder")
    page.fill("#name", "某人")
    page.fill("#add-user #password", "long enough 1")
    with page.expect_response(lambda r: r.url.endswith("/admin/users") and r.request.method == "POST") as posted:
        page.click("#add-user button[type=submit]")
    # then it is refused with a message that says why, and nobody was added
    assert posted.value.status == 403
    assert "CSRF" in page.locator("[role=alert]").inner_text()
    page.goto(site.url + "/admin/users")
    assert page.locator("tr[data-login=intruder]").count() == 0


def test_the_login_form_needs_its_token_too(site, make_user):
    make_user("wang")
    answer = requests.post(site.url + "/login", data={"username": "wang", "password": PASSWORD},
                           allow_redirects=False, timeout=10)
    assert answer.status_code == 403 and "oq_session" not in answer.cookies


def _session_cookie_header(site, login: str) -> str:
    form = requests.get(site.url + "/login", timeout=10)
    token = re.search(r'name="csrf_token" value="([^"]+)"', form.text).group(1)
    # sent back by hand: a client keeps a Secure cookie from plain http to itself
    answer = requests.post(site.url + "/login", data={"username": login, "password": PASSWORD, "csrf_token": token},
                           headers={"Cookie": f"oq_login_csrf={form.cookies.get('oq_login_csrf')}"},
                           allow_redirects=False, timeout=10)
    assert answer.status_code == 303
    return next(v for k, v in answer.raw.headers.items() if k.lower() == "set-cookie" and "oq_session=" in v)


def test_the_session_cookie_is_httponly_and_samesite(site, make_user, page):
    make_user("wang")
    log_in(page, site, "wang")
    cookie = next(c for c in page.context.cookies() if c["name"] == "oq_session")
    assert cookie["httpOnly"] and cookie["sameSite"] == "Lax" and not cookie["secure"]
    assert page.evaluate("document.cookie").find("oq_session") == -1  # scripts cannot read it


def test_the_session_cookie_is_secure_when_the_public_url_is_https(start_site):
    from accounts import add_user

    site = start_site(public_url="https://tousu.example.gov.cn")
    with site.db.transaction() as s:
        add_user(s, "wang", "王小明", "br-daliang", "staff", PASSWORD, site.units)
    header = _session_cookie_header(site, "wang").lower()
    assert "; secure" in header and "; httponly" in header and "samesite=lax" in header
