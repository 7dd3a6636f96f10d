"""The 8180 file-drop connector against the hotline's stand-in exporter: every finished file is read whole,
bad rows are set aside by line, files move only once stored, and results come back as CSV files."""
from __future__ import annotations

import os
import time

import pytest
from sqlalchemy import select
from structlog.testing import capture_logs

from connectors import SourceUnavailable, WriteBackRequest, build_connector
from connectors.poll import poll_channel
from simulators.hotline_8180 import Hotline8180
from tickets import QuarantinedRecord, Ticket

RESULT = '已协调商家退款2680元, 消费者表示"满意"。'


@pytest.fixture
def hotline(tmp_path):
    with Hotline8180(tmp_path / "exchange" / "in", tmp_path / "exchange" / "out", seed=8180) as sim:
        yield sim


def connector(sim, **settings):
    return build_connector("8180-sd", "8180", {"inbox": str(sim.inbox), "outbox": str(sim.outbox)} | settings)


def pull_all(conn):
    records, bad = [], []
    for batch in conn.pull(None):
        records += batch.records
        bad += batch.bad
    return records, bad


def test_rows_with_commas_quotes_and_line_breaks_arrive_whole(hotline):
    calls = hotline.add_calls(20)
    hotline.add_calls(1, 诉求内容='来电人反映，商家说"不退"，\r\n态度差, 电话也不接。', 来电人="𠮷女士")
    records, bad = pull_all(connector(hotline))
    assert not bad
    by_ref = {r.source_ref: r for r in records}
    assert set(by_ref) == {c["受理编号"] for c in hotline.calls}
    tricky = by_ref[hotline.calls[-1]["受理编号"]]
    assert tricky.text == '来电人反映，商家说"不退"，\n态度差, 电话也不接。'
    assert tricky.complainant_name == "𠮷女士"  # a character GBK lacks and GB18030 has
    first = by_ref[calls[0]["受理编号"]]
    assert (first.complainant_phone, first.business_name, first.event_address) == (
        calls[0]["联系电话"], calls[0]["被投诉单位"] or None, calls[0]["事发地址"])
    assert first.kind == {"投诉": "complaint", "举报": "report", "咨询": "consultation"}[calls[0]["诉求类别"]]


def test_a_part_file_is_never_read_and_a_finished_file_moves_to_done(hotline):
    hotline.add_calls(3)
    hotline.add_calls(2, export=False)
    part = hotline.write_partial()  # an export of those two, under way
    conn = connector(hotline)
    records, _ = pull_all(conn)
    assert len(records) == 3
    assert part.exists()
    assert [p.name for p in (hotline.inbox / "done").iterdir()] == [hotline.files_written[0].name]
    finished = hotline.finish_partial(part)
    records, _ = pull_all(conn)
    assert len(records) == 2 and (hotline.inbox / "done" / finished.name).exists()


def test_bad_rows_are_set_aside_by_line_and_the_good_rows_go_in(db, hotline):
    hotline.add_calls(6, malformed=3)
    report = poll_channel(db, connector(hotline), "w1")
    assert (report.created, report.quarantined) == (6, 3)
    with db.transaction() as s:
        reasons = sorted(q.reason for q in s.scalars(select(QuarantinedRecord)))
    name = hotline.files_written[0].name
    assert all(r.startswith(f"{name} line ") for r in reasons)
    assert any("7 columns, expected 8" in r for r in reasons)
    assert any("受理编号 is empty" in r for r in reasons)
    assert any("来电时间" in r for r in reasons)


def test_re_exported_rows_are_the_same_tickets_and_changed_ones_are_updates(db, hotline):
    calls = hotline.add_calls(5)
    conn = connector(hotline)
    assert poll_channel(db, conn, "w1").created == 5
    # when the exporter restarts and exports three of them again, one of them amended
    hotline.reexport(n=3)
    hotline.update_call(calls[1]["受理编号"], 诉求内容=calls[1]["诉求内容"] + "\r\n补充：商家已失联。")
    hotline.export()
    report = poll_channel(db, conn, "w1")
    # then nothing is created, and only the amended one is an update
    assert (report.created, report.updated) == (0, 1)
    with db.transaction() as s:
        amended = s.scalars(select(Ticket).where(Ticket.source_ref == calls[1]["受理编号"])).one()
        assert amended.text.endswith("补充：商家已失联。")
        assert s.query(Ticket).count() == 5


def test_an_unreadable_file_goes_to_rejected_with_its_reason(db, hotline):
    hotline.add_calls(2)
    bad = hotline.drop_unreadable("header")
    binary = hotline.drop_unreadable("binary")
    report = poll_channel(db, connector(hotline), "w1")
    assert report.created == 2 and report.error is None
    rejected = hotline.inbox / "rejected"
    assert sorted(p.name for p in rejected.iterdir()) == sorted(
        [bad.name, bad.name + ".reason.txt", binary.name, binary.name + ".reason.txt"])
    assert "header" in (rejected / (bad.name + ".reason.txt")).read_text(encoding="utf-8")
    with db.transaction() as s:
        assert {q.reason.split(":")[0] for q in s.scalars(select(QuarantinedRecord))} == {bad.name, binary.name}


def test_a_file_whose_batch_was_not_stored_is_read_again(db, hotline):
    hotline.add_calls(7)
    conn = connector(hotline, batch_size=3)
    calls = {"n": 0}

    def fail_second_batch(session, result):
        calls["n"] += 1
        if calls["n"] == 2:
            raise RuntimeError("worker died")

    report = poll_channel(db, conn, "w1", hooks=[fail_second_batch])
    assert report.error and report.batches == 1
    assert hotline.files_written[0].exists()  # not moved: its rows are not all stored
    report = poll_channel(db, conn, "w1")
    assert report.created == 4 and not hotline.files_written[0].exists()
    with db.transaction() as s:
        assert s.query(Ticket).count() == 7


def test_a_missing_inbox_is_an_unavailable_source(tmp_path):
    conn = build_connector("8180-sd", "8180", {"inbox": str(tmp_path / "nowhere"), "outbox": str(tmp_path)})
    with pytest.raises(SourceUnavailable, match="is the share mounted"):
        pull_all(conn)


def test_results_are_written_as_gb18030_files_and_applied_once(hotline):
    call = hotline.add_calls(1)[0]
    conn = connector(hotline)
    ref = call["受理编号"]
    accept = WriteBackRequest(ref, "accepted", "k1", {"unit_name": "大良市场监督管理所"})
    resolve = WriteBackRequest(ref, "resolved", "k2", {"result": RESULT, "unit_name": "大良市场监督管理所",
                                                       "at": "2026-11-23T15:30:00+08:00"})
    for request in (accept, resolve, resolve):
        assert conn.write_back(request).outcome == "done"
    names = sorted(p.name for p in hotline.outbox.iterdir())
    assert len(names) == 3 and all(n.startswith("result-") and n.endswith(".csv") for n in names)
    raw = (hotline.outbox / names[0]).read_bytes()
    assert raw.decode("gb18030").startswith("受理编号,处理状态,处理结果,承办单位,办结时间\r\n")
    assert hotline.collect_results() == 2
    assert list(hotline.outbox.iterdir()) == []
    shown = hotline.get(ref)
    assert (shown["状态"], shown["处理结果"], shown["办结时间"]) == ("已办结", RESULT, "2026-11-23 15:30:00")
    assert hotline.effect_count(ref, "已办结") == 1


def test_a_missing_outbox_is_retried_later(hotline, tmp_path):
    conn = build_connector("8180-sd", "8180", {"inbox": str(hotline.inbox), "outbox": str(tmp_path / "gone")})
    with pytest.raises(SourceUnavailable):
        conn.write_back(WriteBackRequest("8180-2611-00001", "accepted", "k", {}))


def test_a_call_dated_outside_the_plausible_window_is_set_aside_and_the_other_calls_go_in(db, hotline):
    hotline.add_calls(2, export=False)
    hotline.add_calls(1, export=False, 来电时间="9999-12-31 10:00:00")
    hotline.add_calls(1, 来电时间="0001-01-01 10:00:00")  # exports the four together in one file
    report = poll_channel(db, connector(hotline), "w1")
    assert (report.created, report.quarantined, report.error) == (2, 2, None)
    with db.transaction() as s:
        reasons = sorted(q.reason for q in s.scalars(select(QuarantinedRecord)))
        refs = {t.source_ref for t in s.scalars(select(Ticket))}
    assert refs == {c["受理编号"] for c in hotline.calls[:2]}
    assert all("implausible date" in r for r in reasons)
    assert any("config dates.earliest" in r for r in reasons) and any("config dates.ahead_hours" in r for r in reasons)


def quarantined(db) -> dict[str | None, QuarantinedRecord]:
    with db.transaction() as s:
        return {q.source_ref: q for q in s.scalars(select(QuarantinedRecord))}


def test_a_row_the_database_cannot_store_as_given_is_set_aside_and_the_rest_of_the_file_goes_in(db, hotline):
    # Given one export with two good calls and four a database cannot store as given (PostgreSQL refuses a NUL
    # byte and a value longer than its column, SQLite would keep them silently)
    good = hotline.add_calls(2, export=False)
    nul = hotline.add_calls(1, export=False, 诉求内容="来电人反映，在该店购买的月饼\x00发霉，要求退款。")[0]
    name = hotline.add_calls(1, export=False, 来电人="梁" * 101)[0]
    phone = hotline.add_calls(1, export=False, 联系电话="138" * 12)[0]
    address = hotline.add_calls(1, export=False, 事发地址="佛山市顺德区大良街道" + "华盖路" * 100)[0]
    hotline.add_calls(1, 受理编号="8180-2611-" + "9" * 130)  # exports the seven together
    file = hotline.files_written[-1].name

    report = poll_channel(db, connector(hotline), "w1")

    # Then the good calls are tickets, each bad row is set aside with its file, line and column, and the file is done
    assert (report.created, report.quarantined, report.error) == (2, 5, None)
    with db.transaction() as s:
        assert {t.source_ref for t in s.scalars(select(Ticket))} == {c["受理编号"] for c in good}
    aside = quarantined(db)
    reasons = {ref: q.reason for ref, q in aside.items()}
    assert all(r.startswith(f"{file} line ") for r in reasons.values())
    assert "诉求内容: does not fit: holds a NUL byte" in reasons[nul["受理编号"]]
    assert "来电人: does not fit: is 101 characters long; the column holds at most 100" in reasons[name["受理编号"]]
    assert "联系电话: does not fit: is 36 characters long; the column holds at most 32" in reasons[phone["受理编号"]]
    assert "事发地址: does not fit: is 310 characters long; the column holds at most 300" in reasons[address["受理编号"]]
    assert "受理编号: String should have at most 128 characters" in reasons[None]  # a key that cannot be one
    assert "月饼\\u0000发霉" in aside[nul["受理编号"]].raw  # the record kept whole, its NUL written out
    assert "138" * 12 not in " ".join(reasons.values())  # the reason names the column, not what the caller said
    assert (hotline.inbox / "done" / file).exists()

    # And the channel keeps flowing: the next export goes in
    later = hotline.add_calls(1)
    assert poll_channel(db, connector(hotline), "w1").created == 1
    with db.transaction() as s:
        assert s.scalars(select(Ticket).where(Ticket.source_ref == later[0]["受理编号"])).one()


def test_a_file_cut_inside_a_quoted_field_waits_for_the_next_poll_and_goes_in_whole(db, hotline):
    # Given a finished export, and one being copied into the inbox under its final name, cut just after a line
    # break inside a quoted 诉求内容 (so the cut file even ends with a line break)
    first = hotline.add_calls(2)
    story = "来电人反映，商家\r\n拒不退款, 并称\"概不负责\"，要求处理。"
    cut_calls = hotline.add_calls(2, export=False, 诉求内容=story)
    cut = hotline.write_cut("quote")
    conn = connector(hotline)

    # When the worker polls, the finished file goes in and the cut one is left where it is, nothing set aside
    report = poll_channel(db, conn, "w1")
    assert (report.created, report.quarantined, report.error) == (2, 0, None)
    assert cut.exists() and not (hotline.inbox / "rejected").exists()

    # Then once the copy has finished, the next poll takes its calls whole
    hotline.finish_cut(cut)
    assert poll_channel(db, conn, "w1").created == 2
    with db.transaction() as s:
        texts = {t.source_ref: t.text for t in s.scalars(select(Ticket))}
    assert set(texts) == {c["受理编号"] for c in first + cut_calls}
    assert all(texts[c["受理编号"]] == story.replace("\r\n", "\n") for c in cut_calls)
    assert (hotline.inbox / "done" / cut.name).exists()


@pytest.mark.parametrize("where, story, why", [
    ("character", "来电人反映，健身房停业，要求退还年卡余额。", "it ends in the middle of a gb18030 character"),
    ("quote", "来电人反映，健身房\r\n停业, 要求退还年卡余额。", "it ends inside a quoted field"),
    ("row", "来电人反映，健身房停业，要求退还年卡余额。", "has no line break: the row may be cut"),
], ids=["character", "quote", "row"])
def test_a_file_that_stays_cut_short_is_rejected_whole_with_the_reason(db, hotline, where, story, why):
    # Given a file cut short that nobody finishes
    hotline.add_calls(2, export=False, 诉求内容=story)
    cut = hotline.write_cut(where)
    conn = connector(hotline, settle_seconds=30)
    report = poll_channel(db, conn, "w1")
    assert (report.created, report.quarantined, report.error) == (0, 0, None) and cut.exists()

    # When it has not changed for settle_seconds
    an_hour_ago = time.time() - 3600
    os.utime(cut, (an_hour_ago, an_hour_ago))
    report = poll_channel(db, conn, "w1")

    # Then it is rejected whole, with the reason beside it and in the quarantine, and no row of it is a ticket
    assert (report.created, report.quarantined, report.error) == (0, 1, None)
    rejected = hotline.inbox / "rejected"
    reason = (rejected / (cut.name + ".reason.txt")).read_text(encoding="utf-8")
    assert reason.startswith(f"{cut.name}: cut short: ") and why in reason and "settle" not in reason
    assert (rejected / cut.name).exists() and not cut.exists()
    (aside,) = quarantined(db).values()
    assert aside.reason == reason.strip()
    with db.transaction() as s:
        assert s.query(Ticket).count() == 0

    # And the next export goes in as usual
    hotline.add_calls(1)
    assert poll_channel(db, conn, "w1").created == 1


def test_a_symbolic_link_in_the_inbox_is_refused_and_its_target_left_alone(db, hotline, tmp_path):
    # Given a link in the inbox to an export file elsewhere, beside an ordinary export
    elsewhere = tmp_path / "elsewhere"
    elsewhere.mkdir()
    hotline.add_calls(1)
    target = elsewhere / "8180-20261122-080000.csv"
    os.replace(hotline.files_written[-1], target)
    before = (target.read_bytes(), target.stat().st_mtime_ns)
    link = hotline.inbox / "8180-20261122-090000.csv"
    link.symlink_to(target)
    ordinary = hotline.add_calls(1)

    with capture_logs() as logs:
        report = poll_channel(db, connector(hotline), "w1")

    # Then only the ordinary export goes in; the link is moved aside with its reason, the target is untouched
    assert (report.created, report.quarantined, report.error) == (1, 1, None)
    with db.transaction() as s:
        assert [t.source_ref for t in s.scalars(select(Ticket))] == [ordinary[0]["受理编号"]]
    rejected = hotline.inbox / "rejected"
    assert (rejected / link.name).is_symlink() and not link.exists()
    assert "symbolic link" in (rejected / (link.name + ".reason.txt")).read_text(encoding="utf-8")
    assert (target.read_bytes(), target.stat().st_mtime_ns) == before
    assert not (elsewhere / "done").exists()
    (refusal,) = [e for e in logs if e["event"] == "file_rejected"]
    assert refusal["file"] == link.name and "links in the inbox are not followed" in refusal["reason"]
