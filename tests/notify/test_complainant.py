"""Who is kept in the loop and when: per channel (as its kind's source does or does not answer the complainant,
unless config.yaml says otherwise), only mobiles, quiet hours held, one answer per ticket, and the templates'
fields checked when the configuration loads."""
from datetime import datetime, timedelta, timezone

import pytest
from sqlalchemy import select

from notify.complainant import from_config, keep_in_loop
from notify.models import SmsMessage
from settings import ConfigError
from settings.config_schema import load_config
from tickets import IncomingTicket, Ticket, followup, handling, store
from tickets.vocabulary import CHINA_TZ

T0 = datetime(2026, 11, 22, 9, 0, tzinfo=CHINA_TZ)
CONFIG = """
sms: {account_sid: AC00000000000000000000000000000000, auth_token: t, from_number: "+8610691234512"}
web: {public_url: "https://onequeue.example.gov.cn"}
channels:
  - {name: walkin, kind: walk_in}
  - {name: walkin-quiet, kind: walk_in, complainant_sms: false}
  - {name: app, kind: open311, settings: {jurisdiction_id: sd, api_keys: [k],
                                          services: [{service_code: "1", service_name: 价格}]}}
  - {name: push, kind: web_push, settings: {partner: 小程序, secret: a-secret-of-16-chars}}
  - {name: hotline, kind: "12345", settings: {base_url: "http://127.0.0.1:9", app_id: a, app_secret: b}}
  - {name: hotline-told, kind: "12345", complainant_sms: true,
     settings: {base_url: "http://127.0.0.1:9", app_id: a, app_secret: b}}
"""


@pytest.fixture
def config(tmp_path):
    path = tmp_path / "config.yaml"
    path.write_text(CONFIG, encoding="utf-8")
    return load_config(path)


def on(channel: str, payload: dict | None = None) -> Ticket:
    return Ticket(channel=channel, channel_kind="", payload=payload or {})


def test_the_complainant_is_texted_where_the_source_does_not_answer_them_unless_the_channel_says(config):
    loop = from_config(config)
    assert loop.tells(on("walkin")) and loop.tells(on("app")) and loop.tells(on("push"))
    assert not loop.tells(on("push", {"callback_url": "https://partner.example/cb"}))   # the partner tells them
    assert not loop.tells(on("hotline"))            # the hotline calls back itself
    assert not loop.tells(on("walkin-quiet")) and loop.tells(on("hotline-told"))   # as config.yaml says
    assert loop.link("abc") == "https://onequeue.example.gov.cn/p/abc"


@pytest.mark.parametrize("local, held_until", [
    ("2026-11-30 22:30", "2026-12-01 08:00"),
    ("2026-11-30 03:10", "2026-11-30 08:00"),
    ("2026-11-30 08:00", None),
    ("2026-11-30 20:59", None),
])
def test_a_message_planned_in_quiet_hours_waits_for_the_morning(config, local, held_until):
    now = datetime.fromisoformat(local).replace(tzinfo=CHINA_TZ)
    held = from_config(config).not_before(now)
    assert (held.astimezone(CHINA_TZ).strftime("%Y-%m-%d %H:%M") if held else None) == held_until


def ticket_on(db, channel: str, phone: str) -> int:
    with db.transaction() as s:
        store.ingest(s, channel, "walk_in", [IncomingTicket(
            source_ref=f"{channel}-{phone}", source_updated_at=T0, received_at=T0, title="预付卡退款",
            text="健身房关门", complainant_name="梁女士", complainant_phone=phone)])
        t = s.scalars(select(Ticket).where(Ticket.source_ref == f"{channel}-{phone}")).one()
        store.transition(s, t, "dispatched", "dispatch", "dispatched", {"unit": "st-daliang-01"})
        t.assigned_unit = "st-daliang-01"
        return t.id


def messages(db) -> list[SmsMessage]:
    with db.transaction() as s:
        return list(s.scalars(select(SmsMessage).order_by(SmsMessage.id)))


def test_only_a_mobile_on_a_channel_in_the_loop_is_texted_and_the_result_asks_once(db, config):
    keep_in_loop(db, from_config(config))
    mobile, landline, told_by_hotline = (ticket_on(db, "walkin", "138 0289 1234"), ticket_on(db, "walkin", "0757-22223333"),
                                         ticket_on(db, "hotline", "13900001111"))
    with db.transaction() as s:
        for tid in (mobile, landline, told_by_hotline):
            handling.resolve(s, s.get(Ticket, tid), "user:li", "已协调商家退款。" + "很长的说明" * 60, "大良升平消费维权服务站")
    sent = messages(db)
    assert [(m.purpose, m.to_phone, m.unit_id) for m in sent] == [
        ("progress_accepted", "+8613802891234", None), ("progress_resolved", "+8613802891234", None)]
    assert "已协调商家退款" in sent[1].body and "…" in sent[1].body and sent[1].segments > 2  # cut at 200
    with db.transaction() as s:
        # the landline's ticket has its page all the same; the hotline's has none
        assert followup.followup_of(s, landline) is not None and followup.followup_of(s, told_by_hotline) is None
        found = followup.followup_of(s, mobile)
        assert found.asked_at is not None and followup.awaiting_answer(s, "+8613802891234").id == found.id
        followup.record_rating(s, found, 4, "page")
        with pytest.raises(followup.NotRateable):
            followup.record_rating(s, found, 1, "sms")    # one answer per ticket
        assert found.callback is None and followup.satisfaction(s).rate == 1.0


def test_a_ticket_not_resolved_cannot_be_rated_and_a_call_back_needs_one_due(db, config):
    keep_in_loop(db, from_config(config))
    tid = ticket_on(db, "walkin", "13802891234")
    with db.transaction() as s:
        handling.accept(s, s.get(Ticket, tid), "user:li", "大良升平消费维权服务站")
        found = followup.followup_of(s, tid)
        with pytest.raises(followup.NotRateable):
            followup.record_rating(s, found, 2, "page")
        with pytest.raises(ValueError):
            followup.mark_called_back(s, s.get(Ticket, tid), "user:li", "已回访")


def test_a_template_with_a_field_a_complainant_may_not_see_is_refused_naming_it(tmp_path):
    path = tmp_path / "config.yaml"
    path.write_text(CONFIG + "complainant:\n  templates:\n    accepted: \"{number}：{title}\"\n", encoding="utf-8")
    with pytest.raises(ConfigError) as refused:
        load_config(path)
    assert "complainant.templates.accepted" in str(refused.value) and "{title}" in str(refused.value)


def test_an_unhappy_answer_waits_in_callback_until_staff_record_the_call_on_the_command_line(db, db_url, tmp_path,
                                                                                            capsys):
    from cli.main import main as onequeue
    from tickets import worklist
    from tickets.worklist import Filters, Moments

    path = tmp_path / "config.yaml"
    path.write_text(f"database_url: \"{db_url}\"\n" + CONFIG, encoding="utf-8")
    keep_in_loop(db, from_config(load_config(path)))
    tid = ticket_on(db, "walkin", "13802891234")
    with db.transaction() as s:
        handling.resolve(s, s.get(Ticket, tid), "user:li", "已告知可申请仲裁。", "大良升平消费维权服务站")
        followup.record_rating(s, followup.followup_of(s, tid), 2, "sms")
        number = s.get(Ticket, tid).number

    def in_callback() -> list[str]:
        with db.transaction() as s:
            now = datetime.now(timezone.utc)
            return [t.number for t in worklist.find(s, Filters(view="callback"), Moments(now, now)).tickets]

    assert in_callback() == [number]
    assert onequeue(["tickets", "called-back", number, "--config", str(path), "--note", "已电话回访"]) == 0
    assert capsys.readouterr().out.strip() == f"{number}: called back"
    assert in_callback() == []
    assert onequeue(["tickets", "called-back", number, "--config", str(path), "--note", "再次回访"]) == 1
    assert "no call-back due" in capsys.readouterr().err


def test_a_step_taken_in_quiet_hours_plans_the_message_for_their_end(db, config):
    from dataclasses import replace

    now = datetime.now(CHINA_TZ)
    start, end = (now - timedelta(hours=1)).time().replace(second=0, microsecond=0), \
        (now + timedelta(hours=1)).time().replace(second=0, microsecond=0)
    keep_in_loop(db, replace(from_config(config), quiet_hours=(start, end)))   # quiet from an hour ago to in one
    tid = ticket_on(db, "walkin", "13802891234")
    with db.transaction() as s:
        handling.accept(s, s.get(Ticket, tid), "user:li", "大良升平消费维权服务站")
    (held,) = messages(db)
    assert held.status == "pending"
    assert held.next_attempt_at.astimezone(CHINA_TZ).strftime("%H:%M") == end.strftime("%H:%M")
    assert held.next_attempt_at > datetime.now(timezone.utc) + timedelta(minutes=50)
