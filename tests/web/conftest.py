"""The browser-test harness: a worker's web server on the stand-ins (on each database backend), accounts made
through the real use case, headless Chromium (Debian's package) driven by Playwright, and a screenshot of every
open page when a browser test fails."""
from __future__ import annotations

import re
from dataclasses import dataclass
from pathlib import Path

import pytest

CHROMIUM = "/usr/bin/chromium"
CHROMIUM_ARGS = ["--no-sandbox", "--disable-gpu", "--disable-background-networking", "--disable-component-update",
                 "--disable-sync", "--no-first-run"]
PASSWORD = "correct horse 42"


@dataclass
class Site:
    """A running back office: its URL, its worker (database, units) and the pages' base."""

    url: str
    worker: object
    config_path: str

    @property
    def db(self):
        return self.worker.db

    @property
    def units(self):
        return self.worker.dispatcher.units


@pytest.fixture
def start_site(tmp_path, db_url, hotline, sms_provider):
    """Start a worker's web server on the stand-ins; `public_url` as `web.public_url` (cookies go Secure when it is
    https). Returns a Site whose `url` is where this machine reaches it."""
    from settings.config_schema import load_config
    from simulators.testing import write_config
    from web.app import bound_port
    from worker import Worker

    started = []

    def start(public_url: str | None = None, extra: str = "") -> Site:
        config_path = write_config(tmp_path / f"config{len(started)}.yaml", db_url, hotline, sms_provider,
                                   extra=extra)
        config = load_config(config_path)
        config.web.public_url = public_url
        worker = Worker(config)
        worker.prepare()
        worker.start_web()
        started.append(worker)
        return Site(f"http://127.0.0.1:{bound_port(worker.web_server)}", worker, config_path)

    yield start
    for worker in started:
        worker.web_server.should_exit = True
        worker.db.dispose()


@pytest.fixture
def site(start_site) -> Site:
    return start_site()


@pytest.fixture
def make_user(site):
    """Add an account through accounts' own use case: make_user("wang", unit="br-daliang", role="lead")."""
    from accounts import add_user

    def make(login: str = "staff1", *, name: str = "王小明", unit: str = "sd-amr-consumer", role: str = "staff",
             password: str = PASSWORD) -> str:
        with site.db.transaction() as s:
            add_user(s, login, name, unit, role, password, site.units)
        return login

    return make


@pytest.fixture(scope="session")
def pw():
    from playwright.sync_api import sync_playwright

    with sync_playwright() as playwright:
        yield playwright


@pytest.fixture(scope="session")
def browser(pw):
    chromium = pw.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
    yield chromium
    chromium.close()


@pytest.fixture
def new_page(request, browser, pw):
    """Open a page in a fresh browser context (no cookies); several may be opened in one test. `device` names one
    of Playwright's emulated devices ("Pixel 5"): its screen, touch and user agent, in Debian's Chromium; `script`
    False turns the pages' JavaScript off."""
    contexts = []
    request.node.browser_contexts = contexts

    def open_page(device: str | None = None, script: bool = True):
        screen = {k: v for k, v in pw.devices[device].items() if k != "default_browser_type"} if device else \
            {"viewport": {"width": 1366, "height": 768}}
        context = browser.new_context(**screen, locale="zh-CN", timezone_id="Asia/Shanghai",
                                      java_script_enabled=script)
        context.set_default_timeout(10_000)
        contexts.append(context)
        return context.new_page()

    yield open_page
    for context in contexts:
        context.close()


@pytest.fixture
def page(new_page):
    return new_page()


def log_in(page, site: Site, login: str, password: str = PASSWORD, path: str = "/login"):
    page.goto(site.url + path)
    page.fill("#username", login)
    page.fill("#password", password)
    page.click("button[type=submit]")
    page.wait_for_load_state()


@pytest.fixture
def logged_in_page(site, make_user, page):
    """A page signed in as an administrator of the consumer-rights section (who sees every ticket)."""
    log_in(page, site, make_user("admin1", name="李管理", role="admin"))
    return page


def screenshot_dir(config) -> Path:
    base = config._tmp_path_factory.getbasetemp() if hasattr(config, "_tmp_path_factory") else Path("var")
    return Path(base) / "screenshots"


@pytest.hookimpl(hookwrapper=True)
def pytest_runtest_makereport(item, call):
    outcome = yield
    report = outcome.get_result()
    if report.when != "call" or not report.failed:
        return
    folder = screenshot_dir(item.config)
    shots = []
    for i, context in enumerate(getattr(item, "browser_contexts", [])):
        for j, open_page in enumerate(context.pages):
            if open_page.is_closed():
                continue
            folder.mkdir(parents=True, exist_ok=True)
            path = folder / f"{re.sub(r'[^A-Za-z0-9_.-]+', '_', item.nodeid)}-{i}-{j}.png"
            try:
                open_page.screenshot(path=str(path), full_page=True)
                shots.append(f"{path} ({open_page.url})")
            except Exception as exc:  # a crashed page must not hide the test's own failure
                shots.append(f"{path}: no screenshot ({exc})")
    if shots:
        report.sections.append(("screenshots of open pages", "\n".join(shots)))
