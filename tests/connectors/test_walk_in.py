"""Walk-in visits: staff register a visitor at a station, or import the station's Excel register; the
ticket goes back to that station, bad rows are named by row, and importing the same file twice is harmless."""
from __future__ import annotations

from datetime import datetime
from types import SimpleNamespace

import openpyxl
import pytest
from sqlalchemy import select

from cli.main import main as onequeue
from dispatch import Dispatcher
from dispatch.job import dispatch_new
from simulators.testing import ROOT, write_config
from tickets import Ticket, dates

STATION = "st-daliang-01"  # 大良升平消费维权服务站
WALK_IN = """
  - name: walkin-stations
    kind: walk_in
    settings:
      max_rows: 100
"""


@pytest.fixture
def config(tmp_path, db, db_url):
    nowhere = SimpleNamespace(base_url="http://127.0.0.1:9")
    return write_config(tmp_path / "config.yaml", db_url, nowhere, nowhere, extra=WALK_IN)


def tickets(db) -> dict[str, Ticket]:
    with db.transaction() as s:
        return {t.source_ref: t for t in s.scalars(select(Ticket).where(Ticket.channel == "walkin-stations"))}


def register_book(path, rows, title=True):
    book = openpyxl.Workbook()
    sheet = book.active
    if title:
        sheet.append(["大良升平消费维权服务站来访登记表"])
    sheet.append(["来访日期", "来访时间", "姓名", "联系电话", "类型", "被投诉方", "地址", "诉求内容", "涉及金额", "接待人"])
    for row in rows:
        sheet.append(row)
    book.save(path)
    return str(path)


GOOD = [
    [datetime(2026, 11, 20), "10:15", "梁女士", "13802891234", "投诉", "大良悦动健身会所", "大良街道升平社区华盖路88号",
     "在该健身会所办理年卡3880元，会所突然停业，要求退还余额。", 3880, "张晓琳"],
    ["2026年11月20日", "14:30", "何先生", "0757-22381234", "咨询", "", "",
     "咨询预付卡商家停业后如何维权。", None, "张晓琳"],
    ["2026/11/21", None, "", "15913785566", "举报", "大良华美超市", "大良华盖路步行街12号",
     "超市销售过期牛奶，要求查处。", "", "李子健"],
]
BAD = [
    ["2026-11-21", "09:00", "陈先生", "1380013", "投诉", "某手机店", "", "手机有质量问题。", None, "李子健"],      # phone
    ["下周一", "09:00", "陈先生", "13800138000", "投诉", "某手机店", "", "手机有质量问题。", None, "李子健"],        # date
    ["2026-11-21", "11:00", "周女士", "13690001111", "吐槽", "大良星光奶茶店", "", "奶茶店卫生差。", None, "李子健"],  # kind
    ["2026-11-21", "09:00", "陈先生", "13800138000", "投诉", "某手机店", "", "", None, "李子健"],                  # text
]


def test_a_registered_visitor_is_a_ticket_dispatched_to_the_station_that_took_the_visit(config, db, capsys):
    code = onequeue(["walkin", "register", "--config", config, "--station", STATION, "--name", "梁女士",
                     "--phone", "13802891234", "--text", "在容桂一家手机店买的手机三天就坏了，店家拒绝退换。",
                     "--business", "容桂顺联手机通讯店"])
    out = capsys.readouterr().out
    assert code == 0 and ": new (walk-in at 大良升平消费维权服务站)" in out
    (ticket,) = tickets(db).values()
    assert ticket.number in out and ticket.intake_station == STATION and ticket.channel_kind == "walk_in"
    assert ticket.complainant_phone == "13802891234" and ticket.title.startswith("在容桂一家手机店")

    dispatch_new(db, Dispatcher.from_files(ROOT / "units.yaml", ROOT / "rules.yaml"))
    # the text names 容桂, but the visit was taken at the Daliang station: it goes there
    assert tickets(db)[ticket.source_ref].assigned_unit == STATION


def test_a_registration_with_an_unknown_station_or_a_bad_phone_is_refused(config, db, capsys):
    assert onequeue(["walkin", "register", "--config", config, "--station", "st-nowhere", "--phone", "13802891234",
                     "--text", "x"]) == 2
    assert "not a service station" in capsys.readouterr().err
    assert onequeue(["walkin", "register", "--config", config, "--station", STATION, "--phone", "12345",
                     "--text", "手机坏了"]) == 2
    assert "not a phone number" in capsys.readouterr().err
    assert tickets(db) == {}


def test_a_register_is_imported_with_bad_rows_named_and_a_second_import_stores_nothing_twice(
        config, db, tmp_path, capsys):
    path = register_book(tmp_path / "升平站来访登记.xlsx", GOOD + BAD)
    assert onequeue(["walkin", "import", path, "--config", config, "--station", STATION]) == 1
    captured = capsys.readouterr()
    assert "3 new visit(s) stored" in captured.out and "4 row(s) with errors" in captured.out
    # a title row, the header row, three good rows: the bad ones are rows 6 to 9 of the sheet
    assert "row 6: 联系电话 '1380013' is not a phone number" in captured.err
    assert "row 7: 来访日期 '下周一' is not a date" in captured.err
    assert "row 8: 类型 '吐槽'" in captured.err
    assert "row 9: 诉求内容 is empty" in captured.err
    stored = tickets(db)
    assert len(stored) == 3 and all(t.intake_station == STATION for t in stored.values())
    by_phone = {t.complainant_phone: t for t in stored.values()}
    assert by_phone["13802891234"].amount == 3880 and by_phone["0757-22381234"].kind == "consultation"
    assert by_phone["13802891234"].received_at.isoformat() == "2026-11-20T02:15:00+00:00"
    assert by_phone["15913785566"].kind == "report" and by_phone["15913785566"].complainant_name is None

    # the station fixes its rows and sends the whole register again: only the fixed rows are new
    fixed = [row[:] for row in BAD]
    fixed[0][3], fixed[1][0], fixed[2][4], fixed[3][7] = "13800138001", "2026-11-21", "投诉", "充电器发烫。"
    path = register_book(tmp_path / "升平站来访登记-改.xlsx", GOOD + fixed, title=False)
    assert onequeue(["walkin", "import", path, "--config", config, "--station", STATION]) == 0
    assert "4 new visit(s) stored" in capsys.readouterr().out and len(tickets(db)) == 7
    assert onequeue(["walkin", "import", path, "--config", config, "--station", STATION]) == 0
    assert "0 new visit(s) stored" in capsys.readouterr().out and len(tickets(db)) == 7


def test_a_file_that_is_not_a_register_is_refused_with_what_is_missing(config, tmp_path, capsys):
    book = openpyxl.Workbook()
    book.active.append(["序号", "备注"])
    book.save(tmp_path / "x.xlsx")
    assert onequeue(["walkin", "import", str(tmp_path / "x.xlsx"), "--config", config, "--station", STATION]) == 2
    assert "no header row with the columns 来访日期, 联系电话, 诉求内容" in capsys.readouterr().err
    (tmp_path / "notes.xlsx").write_text("not a workbook")
    assert onequeue(["walkin", "import", str(tmp_path / "notes.xlsx"), "--config", config, "--station",
                     STATION]) == 2
    assert "not a readable .xlsx workbook" in capsys.readouterr().err


def test_the_walk_in_channel_is_the_one_named_or_the_only_one_enabled():
    from types import SimpleNamespace as Ch

    from connectors.walk_in import walk_in_channel

    one = [Ch(name="hotline", kind="12345", enabled=True), Ch(name="walkin", kind="walk_in", enabled=True),
           Ch(name="old", kind="walk_in", enabled=False)]
    assert walk_in_channel(one) == "walkin"
    assert walk_in_channel(one, "walkin") == "walkin"
    with pytest.raises(LookupError, match="no enabled walk_in channel named 'old'"):
        walk_in_channel(one, "old")
    with pytest.raises(LookupError, match="no channel of kind walk_in"):
        walk_in_channel(one[:1])
    with pytest.raises(LookupError, match="several walk_in channels"):
        walk_in_channel(one + [Ch(name="walkin2", kind="walk_in", enabled=True)])


def test_a_register_row_dated_outside_the_window_in_config_is_that_rows_error(tmp_path, db, db_url, capsys,
                                                                              monkeypatch):
    monkeypatch.setattr(dates, "_window", dates.plausible_window())  # the command sets this process's window
    nowhere = SimpleNamespace(base_url="http://127.0.0.1:9")
    config = write_config(tmp_path / "config.yaml", db_url, nowhere, nowhere,
                          extra=WALK_IN + "dates:\n  earliest: 2020-01-01\n  ahead_hours: 48\n")
    odd = [row[:] for row in GOOD[:2]]
    odd[0][0], odd[1][0] = "9999-12-31", "2019-06-30"
    path = register_book(tmp_path / "升平站来访登记.xlsx", odd + GOOD[2:])
    assert onequeue(["walkin", "import", path, "--config", config, "--station", STATION]) == 1
    captured = capsys.readouterr()
    assert "1 new visit(s) stored" in captured.out and "2 row(s) with errors" in captured.out
    rows = dict(line.strip().split(": ", 1) for line in captured.err.splitlines() if line.startswith("  row "))
    assert "implausible date: 9999-12-31T10:15:00+08:00 is more than 48 hours ahead of now (config dates.ahead_hours)" \
        in rows["row 3"]
    assert "implausible date: 2019-06-30T14:30:00+08:00 is before 2020-01-01" in rows["row 4"]
    assert [t.complainant_phone for t in tickets(db).values()] == ["15913785566"]
