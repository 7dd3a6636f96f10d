"""Every address reads at most `web.max_body_bytes`: a larger body, announced or streamed, is answered 413 without
the rest being read; a file sent where none is taken is refused 415; and the service keeps taking tickets."""
from __future__ import annotations

import json
import socket
import time
from urllib.parse import urlsplit

import pytest
import requests

from connectors.web_push import sign
from settings.config_schema import load_config
from simulators.testing import write_config
from worker import Worker

SECRET = "mini-program-shared-secret-2026"
CHANNEL = """
  - name: web-miniprogram
    kind: web_push
    settings:
      partner: 顺德市监微信小程序
      secret: ${ONEQUEUE_TEST_PARTNER_SECRET}
"""
LIMIT = 64 * 1024


@pytest.fixture
def worker(tmp_path, db_url, hotline, sms_provider, monkeypatch):
    monkeypatch.setenv("ONEQUEUE_TEST_PARTNER_SECRET", SECRET)
    config = load_config(write_config(tmp_path / "config.yaml", db_url, hotline, sms_provider, extra=CHANNEL))
    config.web.max_body_bytes = LIMIT
    w = Worker(config)
    w.prepare()
    w.start_web()
    yield w
    w.web_server.should_exit = True
    w.db.dispose()


def push(worker, reference: str) -> requests.Response:
    data = json.dumps({"reference": reference, "text": "奶茶里喝出塑料片，商家拒绝退款。"}, ensure_ascii=False).encode()
    return requests.post(f"{worker.web_url}/intake/web-miniprogram", data=data, timeout=5,
                         headers={"Content-Type": "application/json", "X-Signature": sign(data, SECRET)})


def raw_exchange(worker, head: str, chunks=(), pause: float = 0.0) -> tuple[int, float]:
    """Send `head` and then `chunks` on one connection, stopping when the server answers; the status and the
    seconds the answer took."""
    where = urlsplit(worker.web_url)
    started = time.monotonic()
    with socket.create_connection((where.hostname, where.port), timeout=10) as conn:
        conn.sendall(head.encode("latin-1"))
        conn.settimeout(pause or 10)
        answer = b""
        for chunk in chunks:
            try:
                answer = conn.recv(4096)
            except socket.timeout:
                answer = b""
            if answer:
                break
            try:
                conn.sendall(chunk)
            except OSError:   # the server closed the connection once it had answered
                break
        conn.settimeout(10)
        while b"\r\n" not in answer:
            more = conn.recv(4096)
            if not more:
                break
            answer += more
    return int(answer.split(b" ", 2)[1]), time.monotonic() - started


def test_an_announced_body_past_the_limit_is_refused_before_it_is_sent(worker):
    # given a client announcing 270 MB and sending none of it
    head = (f"POST /intake/web-miniprogram HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\n"
            f"X-Signature: sha256=00\r\nContent-Length: {270 * 1024 * 1024}\r\n\r\n")
    status, seconds = raw_exchange(worker, head)
    # then it is answered 413 at once, without waiting for the body
    assert status == 413 and seconds < 5
    # and the next partner's ticket is taken
    assert push(worker, "MP-AFTER-413").status_code == 201


@pytest.mark.parametrize("path", ["/intake/web-miniprogram", "/webhooks/sms/inbound", "/login"])
def test_a_streamed_body_past_the_limit_is_refused_and_the_rest_not_read(worker, path):
    # given a chunked body with no length, sent a kilobyte-chunk at a time
    head = (f"POST {path} HTTP/1.1\r\nHost: x\r\nContent-Type: application/x-www-form-urlencoded\r\n"
            "Transfer-Encoding: chunked\r\n\r\n")
    chunk = b"400\r\n" + b"a" * 1024 + b"\r\n"
    status, _ = raw_exchange(worker, head, [chunk] * (LIMIT // 1024 * 4), pause=0.01)
    # then the server answers 413 once past the limit, before the client has sent it all
    assert status == 413
    assert push(worker, f"MP-AFTER-{path}").status_code == 201


@pytest.mark.parametrize("path", ["/intake/web-miniprogram", "/webhooks/sms/inbound", "/open311/v2/requests.json",
                                  "/login"])
def test_a_file_sent_where_none_is_taken_is_refused_with_a_4xx(worker, path):
    answer = requests.post(worker.web_url + path, files={"file": ("a.bin", b"\0" * 2048)}, timeout=5)
    assert answer.status_code == 415 and "takes no files" in answer.text
    assert push(worker, f"MP-AFTER-FILE-{path}").status_code == 201


def test_a_body_within_the_limit_is_taken(worker):
    big = {"reference": "MP-BIG", "text": "投诉" * 4000}
    data = json.dumps(big, ensure_ascii=False).encode()
    assert len(data) < LIMIT
    answer = requests.post(f"{worker.web_url}/intake/web-miniprogram", data=data, timeout=5,
                           headers={"Content-Type": "application/json", "X-Signature": sign(data, SECRET)})
    assert answer.status_code == 201, answer.text
