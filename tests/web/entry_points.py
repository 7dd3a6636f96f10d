"""A worker whose web service takes every machine entry point at once (push intake, Open311, the SMS webhooks, the
walk-in register), and the requests a partner, an Open311 app, Twilio and a signed-in clerk send it: for the tests
that send hostile or careless input through the real HTTP entry points."""
from __future__ import annotations

import json
import re
import secrets
from dataclasses import dataclass
from typing import Any, Optional

import pytest
import requests
from sqlalchemy import func, select
from twilio.request_validator import RequestValidator

from connectors.web_push import sign
from settings.config_schema import load_config
from simulators.testing import TWILIO_SID, TWILIO_TOKEN, write_config
from tickets import Ticket
from web.sms_routes import INBOUND_PATH, STATUS_PATH

SECRET = "mini-program-shared-secret-2026"
OPEN311_KEY = "open311-app-key-7f3a"
PUSH_CHANNEL, OPEN311_CHANNEL, WALK_IN_CHANNEL = "web-miniprogram", "open311-shunde", "walkin-stations"
CHANNELS = f"""
  - name: {PUSH_CHANNEL}
    kind: web_push
    settings:
      partner: 顺德市监微信小程序
      secret: ${{ONEQUEUE_TEST_PARTNER_SECRET}}
  - name: {OPEN311_CHANNEL}
    kind: open311
    settings:
      jurisdiction_id: shunde.foshan.gov.cn
      api_keys: ["${{ONEQUEUE_TEST_OPEN311_KEY}}"]
      services:
        - {{service_code: "001", service_name: 价格违法, group: 价格}}
        - {{service_code: "003", service_name: 预付卡退费, group: 合同}}
  - name: {WALK_IN_CHANNEL}
    kind: walk_in
"""


@dataclass
class Site:
    """The running worker and what its callers send it."""

    worker: Any

    @property
    def url(self) -> str:
        return self.worker.web_url

    @property
    def db(self):
        return self.worker.db

    def http(self) -> requests.Session:
        session = requests.Session()
        session.trust_env = False  # loopback, never through a proxy
        return session

    # --- a partner's push -------------------------------------------------------------------------

    def push_raw(self, data: bytes) -> requests.Response:
        with self.http() as http:
            return http.post(f"{self.url}/intake/{PUSH_CHANNEL}", data=data, timeout=30,
                             headers={"Content-Type": "application/json", "X-Signature": sign(data, SECRET)})

    def push(self, body: Any) -> requests.Response:
        return self.push_raw(json.dumps(body, ensure_ascii=False).encode("utf-8"))

    # --- an Open311 app ---------------------------------------------------------------------------

    def open311_post(self, form: Any, fmt: str = "json", query: Optional[dict] = None) -> requests.Response:
        with self.http() as http:
            return http.post(f"{self.url}/open311/v2/requests.{fmt}", data=form, params=query, timeout=30)

    def open311_get(self, query: Any, fmt: str = "json") -> requests.Response:
        with self.http() as http:
            return http.get(f"{self.url}/open311/v2/requests.{fmt}", params=query, timeout=30)

    # --- Twilio, signing as it signs ---------------------------------------------------------------

    def twilio(self, path: str, form: dict[str, str], query: str = "") -> requests.Response:
        url = self.url + path + (f"?{query}" if query else "")
        signature = RequestValidator(TWILIO_TOKEN).compute_signature(url, form)
        with self.http() as http:
            return http.post(url, data=form, headers={"X-Twilio-Signature": signature}, timeout=30)

    def delivery_report(self, query: str = "", **fields: str) -> requests.Response:
        form = {"MessageSid": message_sid(), "MessageStatus": "delivered", "AccountSid": TWILIO_SID} | fields
        return self.twilio(STATUS_PATH, form, query)

    def inbound_sms(self, **fields: str) -> requests.Response:
        form = {"MessageSid": message_sid(), "AccountSid": TWILIO_SID, "From": "+8613802891234",
                "To": "+8610691234512", "Body": "收到"} | fields
        return self.twilio(INBOUND_PATH, form)

    # --- what is stored -----------------------------------------------------------------------------

    def tickets(self, channel: str) -> list[Ticket]:
        with self.db.transaction() as s:
            return list(s.scalars(select(Ticket).where(Ticket.channel == channel).order_by(Ticket.id)))

    def count(self, model) -> int:
        with self.db.transaction() as s:
            return s.scalar(select(func.count()).select_from(model))

    def numbers(self) -> set[str]:
        with self.db.transaction() as s:
            return set(s.scalars(select(Ticket.number)))


def message_sid() -> str:
    return "SM" + secrets.token_hex(16)


def complaint(reference: str, **fields) -> dict:
    return {"reference": reference, "kind": "投诉", "text": "奶茶里喝出塑料片，商家拒绝退款，要求处理。",
            "business_name": "大良星光奶茶店", "amount": 18} | fields


def service_request(**fields) -> dict:
    return {"service_code": "003", "api_key": OPEN311_KEY, "jurisdiction_id": "shunde.foshan.gov.cn",
            "description": "健身会所突然停业，年卡余额无法退还。", "address_string": "大良街道华盖路88号"} | fields


@pytest.fixture
def entry_site(tmp_path, db_url, hotline, sms_provider, monkeypatch) -> Site:
    monkeypatch.setenv("ONEQUEUE_TEST_PARTNER_SECRET", SECRET)
    monkeypatch.setenv("ONEQUEUE_TEST_OPEN311_KEY", OPEN311_KEY)
    from worker import Worker

    worker = Worker(load_config(write_config(tmp_path / "config.yaml", db_url, hotline, sms_provider, extra=CHANNELS)))
    worker.prepare()
    worker.start_web()
    yield Site(worker)
    worker.web_server.should_exit = True
    worker.db.dispose()


def signed_in(site: Site, login: str, password: str) -> requests.Session:
    """A session signed in through the login form, as a browser would be; its CSRF token on `.csrf`."""
    http = site.http()
    form = http.get(site.url + "/login", timeout=10)
    token = re.search(r'name="csrf_token" value="([^"]+)"', form.text).group(1)
    answer = http.post(site.url + "/login", data={"username": login, "password": password, "csrf_token": token},
                       allow_redirects=False, timeout=10)
    assert answer.status_code == 303, answer.text
    page = http.get(site.url + "/walkin", timeout=10)
    http.csrf = re.search(r'name="csrf_token" value="([^"]+)"', page.text).group(1)
    return http
