"""Partner callbacks cannot be turned against other addresses: a URL is compared with the agreed prefixes by
scheme, host and port (not as text); with none agreed, internal addresses are refused unless the channel names
their network; redirects are not followed; a partner's reply is never kept. The other tickets' results still go."""
from __future__ import annotations

import json

import pytest
import requests
from sqlalchemy import select

from connectors.web_push import sign
from settings.config_schema import load_config
from simulators.partner_callback import PartnerCallback
from simulators.testing import write_config
from tickets import Ticket, handling
from worker import Worker
from writeback import OutboxItem

SECRET = "mini-program-shared-secret-2026"


def channel(settings: str) -> str:
    return f"""
  - name: web-miniprogram
    kind: web_push
    settings:
      partner: 顺德市监微信小程序
      secret: {SECRET}
{settings}"""


@pytest.fixture
def partner():
    sims = [PartnerCallback(SECRET), PartnerCallback(SECRET)]   # the agreed one, and another on this machine
    for sim in sims:
        sim.start()
    yield sims
    for sim in sims:
        sim.stop()


@pytest.fixture
def start(tmp_path, db_url, hotline, sms_provider):
    started = []

    def run(settings: str) -> Worker:
        w = Worker(load_config(write_config(tmp_path / f"config{len(started)}.yaml", db_url, hotline, sms_provider,
                                            extra=channel(settings))))
        w.prepare()
        w.start_web()
        started.append(w)
        return w

    yield run
    for w in started:
        w.web_server.should_exit = True
        w.db.dispose()


def push(worker, reference: str, callback_url: str) -> requests.Response:
    data = json.dumps({"reference": reference, "text": "奶茶里喝出塑料片，商家拒绝退款。", "callback_url": callback_url,
                       "event_address": "佛山市顺德区大良街道华盖路步行街12号"},
                      ensure_ascii=False).encode()
    return requests.post(f"{worker.web_url}/intake/web-miniprogram", data=data, timeout=5,
                         headers={"Content-Type": "application/json", "X-Signature": sign(data, SECRET)})


def refusal(answer: requests.Response) -> str:
    assert answer.status_code == 422, answer.text
    [error] = answer.json()["errors"]
    assert error["field"] == "callback_url"
    return error["message"]


def test_a_callback_must_have_the_agreed_scheme_host_and_port(start, partner):
    agreed, _ = partner
    host, port = "127.0.0.1", agreed.port
    w = start(f'      callback_prefixes: ["http://{host}:{port}/callbacks/"]\n')
    # when a partner gives URLs that start with the agreed text but lead elsewhere
    tricks = [f"http://{host}:{port}@10.0.0.7/callbacks/x",        # the agreed address as a user name
              f"http://{host}:{port}x/callbacks/x",                # a port that is not one
              f"http://{host}:{port}0/callbacks/x",                # another port
              f"http://{host}.evil.example:{port}/callbacks/x",    # another host
              f"https://{host}:{port}/callbacks/x",                # another scheme
              f"http://{host}:{port}/callbacksx"]                  # beside the agreed path
    # then each is refused, naming the field
    for n, url in enumerate(tricks):
        assert refusal(push(w, f"MP-TRICK-{n}", url)), url
    # and the agreed address is taken
    assert push(w, "MP-GOOD", f"http://{host}:{port}/callbacks/oq").status_code == 201


@pytest.mark.parametrize("url", ["http://127.0.0.1:9/cb", "http://localhost:9/cb", "http://10.1.2.3/cb",
                                 "http://169.254.169.254/latest/meta-data", "http://[::1]:9/cb",
                                 "http://192.168.1.1/cb"])
def test_with_no_prefix_agreed_internal_addresses_are_refused(start, url):
    w = start("")
    assert "internal address" in refusal(push(w, "MP-INTERNAL", url))
    assert push(w, "MP-PUBLIC", "https://mp.partner.example/callbacks/oq").status_code == 201


def resolved(w, reference: str) -> None:
    """A pushed ticket dispatched and resolved: its accepted and resolved results wait in the outbox."""
    w.dispatch()
    with w.db.transaction() as s:
        ticket = s.scalars(select(Ticket).where(Ticket.source_ref == reference)).one()
        handling.resolve(s, ticket, "staff:test", "已约谈商家，退还18元。", "大良升平消费维权服务站")


def outbox(w) -> dict[str, set[str]]:
    with w.db.transaction() as s:
        rows = list(s.scalars(select(OutboxItem)))
    found: dict[str, set[str]] = {}
    for row in rows:
        found.setdefault(row.source_ref, set()).add(row.status)
    return found


def test_a_redirect_is_not_followed_and_a_reply_is_not_kept_while_other_results_go(start, partner):
    agreed, elsewhere = partner
    w = start("      callback_private_networks: [127.0.0.0/8]\n")
    # given a partner that redirects a ticket's results to another address
    assert push(w, "MP-REDIRECT", agreed.url()).status_code == 201
    resolved(w, "MP-REDIRECT")
    agreed.fail_next(1, 307, headers={"Location": elsewhere.url()})
    w.deliver()
    # and then refuses another's, echoing personal data in its answer
    assert push(w, "MP-CHATTY", agreed.url()).status_code == 201
    resolved(w, "MP-CHATTY")
    agreed.fail_next(1, 400, body={"error": "投诉人张三丰 13800138000 身份证440606199001011234 不存在"})
    w.deliver()
    # then nothing reached the other address, each first result is a dead letter (the later one waits behind
    # it), and neither answer's text is kept
    assert elsewhere.events == [] and elsewhere.refused == []
    assert outbox(w) == {"MP-REDIRECT": {"dead", "pending"}, "MP-CHATTY": {"dead", "pending"}}
    with w.db.transaction() as s:
        rows = list(s.scalars(select(OutboxItem)))
        errors = {r.source_ref: r.last_error for r in rows if r.status == "dead"}
        kept = json.dumps([(r.last_error, r.history) for r in rows], ensure_ascii=False, default=str)
    assert "redirect (HTTP 307)" in errors["MP-REDIRECT"] and "HTTP 400" in errors["MP-CHATTY"]
    assert "13800138000" not in kept and "张三丰" not in kept and "440606" not in kept
    # and the next ticket's results go to the partner
    assert push(w, "MP-FINE", agreed.url()).status_code == 201
    resolved(w, "MP-FINE")
    w.deliver()
    assert outbox(w)["MP-FINE"] == {"delivered"} and agreed.effect_count("MP-FINE", "resolved") == 1
