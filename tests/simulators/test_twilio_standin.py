"""The Twilio stand-in, driven by the real twilio client through notify.twilio_client."""
from __future__ import annotations

import re
from datetime import datetime, timedelta, timezone

import pytest
import requests
from twilio.base.exceptions import TwilioRestException
from twilio.request_validator import RequestValidator

from notify.twilio_client import BaseUrlHttpClient, make_twilio_client
from simulators import RecordingReceiver, TwilioStandIn
from simulators.sms_segments import count_segments

FROM = "+8610691234512"
STATION = "+8613800138000"
DISPATCH_SMS = (
    "【顺德市场监管】新派单SD2611-00471（投诉）：预付卡商家闭店无法退款。地点：佛山市顺德区大良街道新桂社区宝林路167号。"
    "请尽快联系投诉人并处理，回复“SD2611-00471 受理”签收。"
)


@pytest.fixture
def twilio():
    with TwilioStandIn(delivery_delay=0.02) as sim:
        yield sim


@pytest.fixture
def client(twilio):
    return make_twilio_client(twilio.account_sid, twilio.auth_token, base_url=twilio.base_url)


@pytest.fixture
def receiver(twilio):
    with RecordingReceiver(twilio.auth_token) as r:
        yield r


def test_a_sent_message_has_the_shape_the_client_expects(twilio, client):
    message = client.messages.create(to=STATION, from_=FROM, body="SD2611-00471 dispatched")

    assert re.fullmatch(r"SM[0-9a-f]{32}", message.sid)
    assert message.status == "queued" and message.error_code is None
    assert (message.to, message.from_, message.body) == (STATION, FROM, "SD2611-00471 dispatched")
    assert message.num_segments == "1" and message.account_sid == twilio.account_sid
    assert isinstance(message.date_created, datetime)
    assert message.uri == f"/2010-04-01/Accounts/{twilio.account_sid}/Messages/{message.sid}.json"
    assert client.http_client._test_only_last_request.url.startswith(twilio.base_url)
    assert twilio.messages_to(STATION)[0]["sid"] == message.sid


def test_chinese_text_is_counted_in_ucs2_segments(twilio, client):
    message = client.messages.create(to=STATION, from_=FROM, body=DISPATCH_SMS, validity_period=600)

    assert len(DISPATCH_SMS) > 70 and message.num_segments == "2"
    recorded = twilio.messages[0]
    assert recorded["num_segments"] == 2 and recorded["validity_period"] == 600


@pytest.mark.parametrize("text, segments", [
    ("字" * 70, 1), ("字" * 71, 2), ("字" * 134, 2), ("字" * 135, 3),
    ("a" * 160, 1), ("a" * 161, 2), ("a" * 306, 2), ("a" * 307, 3), ("{" * 80, 1), ("{" * 81, 2),
    ("Reply 1 to accept", 1), ("😀" * 35, 1), ("😀" * 36, 2),
])
def test_segment_counting(text, segments):
    assert count_segments(text) == segments


@pytest.mark.parametrize("to, code", [("13800138000", 21211), ("+86 138 0013 8000", 21211),
                                      ("+8675722223333", 21614), ("+8610086", 21614)])
def test_bad_numbers_raise_with_twilios_codes(client, to, code):
    with pytest.raises(TwilioRestException) as raised:
        client.messages.create(to=to, from_=FROM, body="x")
    assert raised.value.status == 400 and raised.value.code == code


def test_opted_out_and_unroutable_recipients_are_refused(twilio, client):
    twilio.opted_out.add("+8613900000001")
    twilio.unroutable.add("+8613900000002")
    for to, code in (("+8613900000001", 21610), ("+8613900000002", 21612)):
        with pytest.raises(TwilioRestException) as raised:
            client.messages.create(to=to, from_=FROM, body="x")
        assert raised.value.code == code
    assert twilio.messages == []


def test_wrong_credentials_get_20003(twilio):
    wrong = make_twilio_client(twilio.account_sid, "not-the-token", base_url=twilio.base_url)
    with pytest.raises(TwilioRestException) as raised:
        wrong.messages.create(to=STATION, from_=FROM, body="x")
    assert raised.value.status == 401 and raised.value.code == 20003


def test_too_many_requests_get_429_with_retry_after(twilio, client):
    twilio.rate_limit_rps = 2
    url = f"{twilio.base_url}/2010-04-01/Accounts/{twilio.account_sid}/Messages.json"
    answers = [requests.get(url, auth=(twilio.account_sid, twilio.auth_token)) for _ in range(3)]
    assert answers[2].status_code == 429 and int(answers[2].headers["Retry-After"]) >= 1
    assert answers[2].json()["code"] == 20429

    with pytest.raises(TwilioRestException) as raised:
        client.messages.create(to=STATION, from_=FROM, body="x")
    assert raised.value.status == 429 and raised.value.code == 20429


def test_staged_server_errors(twilio, client):
    twilio.fail_next(1, 503)
    with pytest.raises(TwilioRestException) as raised:
        client.messages.create(to=STATION, from_=FROM, body="x")
    assert raised.value.status == 503
    assert client.messages.create(to=STATION, from_=FROM, body="x").status == "queued"


def test_list_filters_and_pages_newest_first_and_fetch(twilio, client):
    sent = [client.messages.create(to=STATION, from_=FROM, body=f"提醒 {i}") for i in range(5)]
    client.messages.create(to="+8613800138001", from_=FROM, body="other station")

    listed = client.messages.list(to=STATION, page_size=2)

    assert [m.sid for m in listed] == [m.sid for m in reversed(sent)]
    assert len(client.messages.list(limit=3)) == 3
    fetched = client.messages(sent[0].sid).fetch()
    assert fetched.body == "提醒 0" and fetched.to == STATION
    with pytest.raises(TwilioRestException) as raised:
        client.messages("SM" + "0" * 32).fetch()
    assert raised.value.status == 404


def test_date_sent_filters(twilio, client):
    message = client.messages.create(to=STATION, from_=FROM, body="x")
    twilio.wait_for_status(message.sid, "delivered")
    now = datetime.now(timezone.utc)

    assert len(client.messages.list(date_sent=now.date())) == 1
    assert client.messages.list(date_sent=now.date() - timedelta(days=1)) == []
    assert len(client.messages.list(date_sent_after=now - timedelta(minutes=1))) == 1
    assert client.messages.list(date_sent_before=now - timedelta(minutes=1)) == []


def test_status_callbacks_arrive_signed_in_order(twilio, client, receiver):
    callback = receiver.url("/sms/status?channel=twilio")
    message = client.messages.create(to=STATION, from_=FROM, body=DISPATCH_SMS, status_callback=callback)

    posts = receiver.wait_for(2)

    assert [p["form"]["MessageStatus"] for p in posts] == ["sent", "delivered"]
    assert all(p["signature_ok"] for p in posts)
    first = posts[0]
    assert first["form"]["MessageSid"] == message.sid and first["form"]["To"] == STATION
    assert RequestValidator(twilio.auth_token).validate(callback, first["form"], first["headers"]["X-Twilio-Signature"])
    assert twilio.get(message.sid)["status"] == "delivered"
    assert client.messages(message.sid).fetch().status == "delivered"


@pytest.mark.parametrize("code, statuses", [(30003, ["sent", "undelivered"]), (30006, ["sent", "undelivered"]),
                                            (30001, ["failed"])])
def test_undeliverable_numbers_report_their_error_code(twilio, client, receiver, code, statuses):
    twilio.undeliverable["+8613700000000"] = code
    message = client.messages.create(to="+8613700000000", from_=FROM, body="x", status_callback=receiver.url("/s"))

    posts = receiver.wait_for(len(statuses))
    twilio.wait_for_status(message.sid, statuses[-1])

    assert [p["form"]["MessageStatus"] for p in posts] == statuses
    assert posts[-1]["form"]["ErrorCode"] == str(code)
    assert client.messages(message.sid).fetch().error_code == code


def test_a_message_queued_past_its_validity_period_fails_with_30036(client):
    with TwilioStandIn(delivery_delay=0.01, segments_per_second=4) as slow:
        c = make_twilio_client(slow.account_sid, slow.auth_token, base_url=slow.base_url)
        c.messages.create(to=STATION, from_=FROM, body="字" * 67 * 2)  # occupies the sender 0.5 s
        late = c.messages.create(to=STATION, from_=FROM, body="x", validity_period=1)
        c.messages.create(to=STATION, from_=FROM, body="字" * 67 * 8)  # 2 s more
        too_late = c.messages.create(to=STATION, from_=FROM, body="x", validity_period=1)

        assert slow.wait_for_status(late.sid, "delivered", timeout=3)["error_code"] is None
        failed = slow.wait_for_status(too_late.sid, "failed", timeout=3)
        assert failed["error_code"] == 30036


def test_a_messaging_service_picks_the_sender(twilio, client):
    message = client.messages.create(to=STATION, messaging_service_sid="MG" + "a" * 32, body="x")
    assert message.status == "accepted" and message.from_ is None and message.num_segments == "0"

    twilio.wait_for_status(message.sid, "delivered")
    assert client.messages(message.sid).fetch().from_ == twilio.phone_number


def test_inbound_sms_is_signed_and_a_forged_one_refused(twilio, receiver):
    status, _ = twilio.send_inbound(STATION, "SD2611-00471 受理", receiver.url("/sms/inbound"))

    assert status == 200
    form = receiver.received[0]["form"]
    assert (form["From"], form["To"], form["Body"]) == (STATION, twilio.phone_number, "SD2611-00471 受理")
    assert re.fullmatch(r"SM[0-9a-f]{32}", form["MessageSid"]) and form["AccountSid"] == twilio.account_sid

    forged = requests.post(receiver.url("/sms/inbound"), data=form, headers={"X-Twilio-Signature": "forged"})
    assert forged.status_code == 403


def test_stop_opts_the_sender_out(twilio, client, receiver):
    twilio.send_inbound(STATION, "STOP", receiver.url("/in"))
    with pytest.raises(TwilioRestException) as raised:
        client.messages.create(to=STATION, from_=FROM, body="x")
    assert raised.value.code == 21610


def test_go_down_then_come_up_with_messages_kept(twilio, client):
    first = client.messages.create(to=STATION, from_=FROM, body="before")
    twilio.go_down()
    with pytest.raises(requests.ConnectionError):
        client.messages.create(to=STATION, from_=FROM, body="during")
    twilio.come_up()

    client.messages.create(to=STATION, from_=FROM, body="after")
    assert [m["body"] for m in twilio.messages] == ["before", "after"]
    assert client.messages(first.sid).fetch().body == "before"
    assert twilio.count_by(STATION, "after") == 1


def test_reset_forgets_traffic(twilio, client):
    client.messages.create(to=STATION, from_=FROM, body="x")
    twilio.fail_next(3)
    twilio.reset()
    assert twilio.messages == [] and client.messages.list() == []


def test_base_url_client_only_rewrites_twilios_api_host():
    http = BaseUrlHttpClient("http://127.0.0.1:1/")
    assert http.base_url == "http://127.0.0.1:1"
    from notify.twilio_client import _TWILIO_API

    for url in ("https://api.twilio.com/2010-04-01/Accounts", "https://api.dublin.ie1.twilio.com/2010-04-01/x"):
        assert _TWILIO_API.sub("B", url).startswith("B/2010-04-01")
    assert _TWILIO_API.sub("B", "https://example.com/api.twilio.com") == "https://example.com/api.twilio.com"
