"""Property-based: whatever body or query string a caller sends to push intake, Open311 (GET and POST) and the SMS
webhooks (signed, so it reaches the parsing), the real service over HTTP answers without a 500; every ticket it
acknowledged is stored, and a valid ticket sent afterwards still goes in. On SQLite and PostgreSQL.

The examples are derandomized (the same ones on every run, in CI too) and counted, so each backend takes seconds."""
from __future__ import annotations

import json
from urllib.parse import quote
from xml.etree import ElementTree as ET

from hypothesis import HealthCheck, given, settings, strategies as st

from notify.models import SmsInbound, SmsMessage
from web.sms_routes import INBOUND_PATH, STATUS_PATH

from .entry_points import (OPEN311_CHANNEL, PUSH_CHANNEL, complaint, entry_site, message_sid,  # noqa: F401
                           service_request)
from simulators.testing import TWILIO_SID

EXAMPLES = 120
FUZZ = settings(max_examples=EXAMPLES, deadline=None, derandomize=True, database=None,
                suppress_health_check=list(HealthCheck))

# Characters that have broken stores, parsers and feeds before come often, among all the others.
HOSTILE = st.sampled_from(["\x00", "\x01", "\x08", "\x0b", "\x1f", "\x7f", "\x85", "\u2028", "\ufeff", "\ufffe",
                           "\uffff", "'", '"', "<", "&", "%", "+", "\\", "顺", "\U0001f44d"])


def with_hostile(text: st.SearchStrategy[str]) -> st.SearchStrategy[str]:
    """`text`, or text with one of the HOSTILE characters somewhere inside it."""
    return text | st.builds(lambda a, c, b: a + c + b, text, HOSTILE, text)


# Text as it arrives: any character JSON can carry (NUL, controls, lone surrogates) ...
any_text = with_hostile(st.text(HOSTILE | st.characters(), max_size=40))
# ... and what a form can carry: any character UTF-8 encodes.
form_text = with_hostile(st.text(HOSTILE | st.characters(codec="utf-8"), max_size=40))
# Dates at the calendar's ends (an offset may carry them past it) come often: that is where arithmetic overflows.
extreme_dates = st.sampled_from(["0001-01-01", "0001-01-01T00:00:00+14:00", "0001-03-01T00:00:00Z", "9999-12-31",
                                 "9999-12-31T23:59:59-14:00", "1970-01-01T00:00:00Z", "2026-11-22T10:00:00+08:00"])
dates = st.one_of(
    extreme_dates, extreme_dates,
    st.datetimes().map(lambda d: d.isoformat()),
    st.builds(lambda d, h, m: d.isoformat() + f"{'+-'[h < 0]}{abs(h):02d}:{m:02d}",
              st.datetimes(), st.integers(-23, 23), st.integers(0, 59)),
    st.dates().map(str), form_text)
numbers = st.one_of(st.integers(), st.integers(-2**70, 2**70).map(str), st.floats().map(str), form_text)
json_values = st.recursive(
    st.none() | st.booleans() | st.integers() | st.floats() | any_text | dates,
    lambda inner: st.lists(inner, max_size=4) | st.dictionaries(any_text, inner, max_size=4), max_leaves=12)

PUSHED_FIELDS = ["reference", "kind", "title", "text", "complainant_name", "complainant_phone", "business_name",
                 "business_code", "business_address", "event_address", "area_code", "amount", "priority",
                 "submitted_at", "updated_at", "callback_url", "extra"]
push_bodies = st.one_of(
    # a valid complaint with some fields given any JSON value, or left out
    st.builds(lambda ref, changes, dropped: json.dumps(
        {k: v for k, v in (complaint(f"MP-FUZZ-{ref}") | changes).items() if k not in dropped}).encode(),
        st.integers(0, 10**6), st.dictionaries(st.sampled_from(PUSHED_FIELDS + ["unknown"]), json_values, max_size=3),
        st.sets(st.sampled_from(PUSHED_FIELDS), max_size=2)),
    json_values.map(lambda v: json.dumps(v).encode()),
    st.integers(1, 6000).map(lambda depth: b'{"reference": "MP-DEEP", "text": "x", "extra": '
                                          + b"[" * depth + b"]" * depth + b"}"),
    st.binary(max_size=200))

OPEN311_FIELDS = ["service_code", "description", "address_string", "address_id",
                  "lat", "long", "first_name", "last_name", "phone", "email", "device_id", "account_id", "media_url"]
open311_values = st.one_of(form_text, numbers, dates)
open311_forms = st.one_of(
    st.builds(lambda changes: service_request() | changes,
              st.dictionaries(st.sampled_from(OPEN311_FIELDS) | form_text, open311_values, max_size=4)),
    st.builds(lambda changes: service_request() | changes,
              st.dictionaries(st.sampled_from(OPEN311_FIELDS), open311_values, min_size=1, max_size=2)),
    st.dictionaries(st.sampled_from(OPEN311_FIELDS + ["api_key", "jurisdiction_id"]) | form_text, open311_values,
                    max_size=6),
    st.binary(max_size=200))
SEARCH_FIELDS = ["service_request_id", "service_code", "start_date", "end_date", "status", "start_date", "end_date",
                 "jurisdiction_id"]
searches = st.dictionaries(st.sampled_from(SEARCH_FIELDS), st.one_of(dates, dates, form_text, numbers.map(str)),
                           max_size=4)
formats = st.sampled_from(["json", "xml", "json", "xml", "html"])

STATUSES = ["delivered", "undelivered", "failed", "sent", "queued", "canceled", "read"]
valid_sid = st.builds(message_sid)
sids = st.one_of(valid_sid, st.sampled_from(["", "SM", "SM" + "0" * 32]), form_text)
error_codes = st.one_of(st.sampled_from(["30003", "30005", str(2**31), "-1", "9" * 40]), numbers.map(str))
# Mostly a report as the provider sends it, with one value out of the ordinary; sometimes anything at all.
delivery_reports = st.one_of(
    st.fixed_dictionaries({"MessageSid": valid_sid, "MessageStatus": st.sampled_from(["delivered", "undelivered",
                                                                                        "failed"])},
                          optional={"ErrorCode": error_codes, "To": form_text, "ExtraField": form_text}),
    st.fixed_dictionaries({"MessageSid": sids, "MessageStatus": st.sampled_from(STATUSES) | form_text},
                          optional={"ErrorCode": error_codes, "To": form_text, "From": form_text}))
sms_ids = st.one_of(st.sampled_from([str(2**63), str(2**31), "-1", "0", "1" + "0" * 40, "1", "2"]),
                    st.integers(-2**80, 2**80).map(str), st.none(), form_text)
inbound_messages = st.fixed_dictionaries(
    {"MessageSid": valid_sid | sids, "From": st.one_of(st.sampled_from(["+8613802891234", "13802891234"]), form_text,
                                            st.from_regex(r"\+?[0-9]{1,40}", fullmatch=True)),
     "Body": st.one_of(form_text, st.builds(lambda verb, tail: f"{verb} SD2611-{tail}",
                                              st.sampled_from(["1", "2", "受理", "办结", "退回"]), form_text))},
    optional={"To": form_text, "NumMedia": numbers.map(str)})


def no_500(answer) -> None:
    assert answer.status_code < 500, (answer.status_code, answer.text[:500])


def test_push_intake_answers_any_body_without_a_500(entry_site):
    acknowledged: list[str] = []

    @FUZZ
    @given(body=push_bodies)
    def push(body: bytes):
        answer = entry_site.push_raw(body)
        no_500(answer)
        if answer.status_code in (200, 201):
            acknowledged.append(answer.json()["ticket"])

    push()
    assert set(acknowledged) <= entry_site.numbers()
    after = entry_site.push(complaint("MP-AFTER-FUZZ"))
    assert after.status_code == 201 and after.json()["ticket"] in entry_site.numbers()


def test_open311_answers_any_form_or_search_without_a_500(entry_site):
    acknowledged: list[str] = []

    @FUZZ
    @given(form=open311_forms, fmt=formats, query=st.none() | st.dictionaries(st.just("jurisdiction_id"), form_text))
    def file_request(form, fmt, query):
        answer = entry_site.open311_post(form, fmt, query)
        no_500(answer)
        if answer.status_code == 201:
            acknowledged.append(answer.json()[0]["service_request_id"] if fmt == "json"
                                else ET.fromstring(answer.content).findtext("request/service_request_id"))

    @FUZZ
    @given(query=searches, fmt=formats, one=st.none() | form_text)
    def search(query, fmt, one):
        if one is None:
            answer = entry_site.open311_get(query, fmt)
        else:
            with entry_site.http() as http:
                answer = http.get(f"{entry_site.url}/open311/v2/requests/{quote(one, safe='')}.{fmt}", params=query,
                                  timeout=30)
        no_500(answer)
        if fmt == "xml" and answer.status_code < 300:
            ET.fromstring(answer.content)  # the feed stays well-formed for every client

    file_request()
    search()
    assert acknowledged and set(acknowledged) <= entry_site.numbers()
    after = entry_site.open311_post(service_request())
    assert after.status_code == 201 and after.json()[0]["service_request_id"] in entry_site.numbers()


def test_the_sms_webhooks_answer_any_signed_form_without_a_500(entry_site, hotline):
    # given SMS sent for dispatched tickets, so that reports about ids 1, 2, ... reach a message
    hotline.add_orders(2)
    entry_site.worker.run_once()
    assert entry_site.count(SmsMessage) > 0
    @FUZZ
    @given(form=delivery_reports, sms_id=sms_ids)
    def delivery_report(form, sms_id):
        answer = entry_site.twilio(STATUS_PATH, form | {"AccountSid": TWILIO_SID},
                                   f"sms={quote(sms_id, safe='')}" if sms_id is not None else "")
        no_500(answer)
        assert answer.status_code != 403, "the fuzz must reach the parsing: the signature is valid"

    @FUZZ
    @given(form=inbound_messages)
    def inbound(form):
        answer = entry_site.twilio(INBOUND_PATH, form | {"AccountSid": TWILIO_SID})
        no_500(answer)
        assert answer.status_code != 403, "the fuzz must reach the parsing: the signature is valid"

    delivery_report()
    inbound()
    before = entry_site.count(SmsInbound)
    assert entry_site.inbound_sms(Body="收到").status_code == 200
    assert entry_site.count(SmsInbound) == before + 1
    after = entry_site.push(complaint("MP-AFTER-SMS-FUZZ"))
    assert after.status_code == 201
