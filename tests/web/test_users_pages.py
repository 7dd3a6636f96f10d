"""Keeping accounts: an administrator on /admin/users, and `onequeue users ...` on the command line."""
from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest

from tests.web.conftest import PASSWORD, log_in

ROOT = Path(__file__).resolve().parents[2]
pytestmark = pytest.mark.slow  # a real browser: `make quick` leaves these out

def onequeue(site, *args: str, stdin: str = "") -> subprocess.CompletedProcess:
    """The real command, in a process of its own, on the site's configuration."""
    return subprocess.run([sys.executable, "-m", "cli.main", "--config", site.config_path, *args], input=stdin,
                          capture_output=True, text=True, cwd=ROOT, timeout=60)


def test_an_administrator_adds_disables_and_resets_accounts(site, logged_in_page, new_page, tmp_path):
    page = logged_in_page
    page.goto(site.url + "/admin/users")
    # when the administrator adds a station's staff member
    page.fill("#login", "chen")
    page.fill("#name", "陈晓琳")
    page.select_option("#unit", "st-daliang-01")
    page.select_option("#role", "staff")
    page.fill("#add-user #password", "first password 1")
    page.click("#add-user button[type=submit]")
    # then the list shows them with their unit and role
    assert "已添加用户 chen" in page.locator("[role=status]").inner_text()
    row = page.locator("tr[data-login=chen]")
    assert "陈晓琳" in row.inner_text() and "大良升平消费维权服务站" in row.inner_text() and "工作人员" in row.inner_text()
    page.screenshot(path=str(tmp_path / "admin-users.png"), full_page=True)
    # and the new person can log in
    theirs = new_page()
    log_in(theirs, site, "chen", "first password 1")
    assert theirs.url == site.url + "/"
    # when the administrator resets the password, the person's session ends and only the new one works
    row.locator("input[name=password]").fill("second password 2")
    row.locator("text=重置密码").click()
    assert "已重置用户 chen 的密码" in page.locator("[role=status]").inner_text()
    theirs.goto(site.url + "/")
    assert "/login" in theirs.url
    log_in(theirs, site, "chen", "second password 2")
    assert theirs.url == site.url + "/"
    # when the account is disabled, the person is out and cannot come back
    page.locator("tr[data-login=chen]").locator("text=停用").click()
    assert "已停用" in page.locator("tr[data-login=chen]").inner_text()
    theirs.goto(site.url + "/")
    assert "/login" in theirs.url
    log_in(theirs, site, "chen", "second password 2")
    assert "用户名或密码不正确" in theirs.locator("[role=alert]").inner_text()


def test_a_refused_account_says_why_and_keeps_the_form(site, logged_in_page):
    page = logged_in_page
    page.goto(site.url + "/admin/users")
    page.fill("#login", "admin1")
    page.fill("#name", "重名")
    page.fill("#add-user #password", "long enough 1")
    page.click("#add-user button[type=submit]")
    assert "the login 'admin1' is taken" in page.locator("[role=alert]").inner_text()
    assert page.input_value("#name") == "重名"


def test_only_administrators_keep_accounts(site, make_user, page):
    make_user("lead1", role="lead")
    log_in(page, site, "lead1", path="/login?next=/admin/users")
    assert "需要管理员权限" in page.locator("[role=alert]").inner_text()
    assert page.locator("nav >> text=用户管理").count() == 0


def test_users_on_the_command_line(site, page):
    # given a password on stdin, an account is added to a unit of units.yaml
    added = onequeue(site, "users", "add", "zhou", "--name", "周文", "--unit", "br-daliang", "--role", "lead",
                     "--password-stdin", stdin=PASSWORD + "\n")
    assert added.returncode == 0, added.stderr
    assert "added zhou (lead, 大良市场监督管理所)" in added.stdout
    # a unit that is not there, or a taken login, is refused with what to do
    wrong = onequeue(site, "users", "add", "li", "--name", "李", "--unit", "br-nowhere", "--role", "staff",
                     "--password-stdin", stdin=PASSWORD + "\n")
    assert wrong.returncode != 0 and "no unit 'br-nowhere' in units.yaml" in wrong.stderr
    again = onequeue(site, "users", "add", "zhou", "--name", "周文", "--unit", "br-daliang", "--role", "lead",
                     "--password-stdin", stdin=PASSWORD + "\n")
    assert again.returncode != 0 and "taken" in again.stderr
    # the list, as JSON
    listed = onequeue(site, "users", "list", "--json")
    assert [(u["login"], u["unit"], u["role"], u["disabled"]) for u in json.loads(listed.stdout)] == [
        ("zhou", "br-daliang", "lead", False)]
    # the account works on the web
    log_in(page, site, "zhou")
    assert "周文" in page.locator("header").inner_text()
    # a new password from stdin; the old one no longer works
    changed = onequeue(site, "users", "password", "zhou", "--password-stdin", stdin="brand new pass 9\n")
    assert changed.returncode == 0, changed.stderr
    page.goto(site.url + "/")
    assert "/login" in page.url
    # disabled, the account cannot log in
    assert onequeue(site, "users", "disable", "zhou").returncode == 0
    assert json.loads(onequeue(site, "users", "list", "--json").stdout)[0]["disabled"] is True
    log_in(page, site, "zhou", "brand new pass 9")
    assert "用户名或密码不正确" in page.locator("[role=alert]").inner_text()
    missing = onequeue(site, "users", "disable", "nobody")
    assert missing.returncode != 0 and "no user 'nobody'" in missing.stderr
