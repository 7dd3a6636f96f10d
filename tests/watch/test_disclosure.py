"""Public disclosure: complaints handled to their end, written with the complainants' names, phones, ID numbers and
house numbers in their text and result, exported as JSON and CSV by the command line; the whole export is searched
with patterns for phone and ID numbers and for every complainant's name, and still names the businesses, the
results and the businesses' index and rank."""
from __future__ import annotations

import csv
import io
import json
import re
from datetime import datetime, timedelta, timezone

import pytest
from sqlalchemy import select

from cli.main import main as onequeue
from tickets import IncomingTicket, Ticket, handling, store

CST = timezone(timedelta(hours=8))
# (ref, business, name, phone, text, result)
CASES = [
    ("D1", "顺德区禾香餐厅", "梁美华", "13800138001",
     "投诉人梁美华，电话13800138001，身份证440681199001011234，在大良街道华盖路88号首层1号铺的餐厅吃出异物",
     "已联系梁美华女士（138-0013-8001），商家退款200元"),
    ("D2", "顺德区福满楼酒家", "陈志强", "+86 139 2233 4455",
     "我叫陈志强，住容桂街道桂洲大道中12栋1203室，酒家多收服务费，请回电0757-22223333",
     "经调解，商家向陈先生退还多收费用，联系人陈志强确认"),
    ("D3", "佛山市顺德区悦动健身有限公司", "欧阳丽", "13700001111",
     "健身房关门，会员卡余额无法退还，本人欧阳丽，证件号码44068119900101123X",
     "已立案调查，通知欧阳丽到场"),
]
PHONE = re.compile(r"(?<!\d)(?:\+?86[\s-]?)?1[3-9]\d[\s-]?\d{4}[\s-]?\d{4}(?!\d)|0\d{2,3}-\d{7,8}")
ID_NUMBER = re.compile(r"(?<![\dA-Za-z])\d{17}[\dXx](?![\dA-Za-z])|(?<!\d)\d{15}(?!\d)")
HOUSE = re.compile(r"\d+\s*(?:号|栋|室|层)")


def test_the_disclosure_export_holds_no_phone_id_number_name_or_house_number(worker, config, tmp_path, capsys):
    start = datetime.now(CST) - timedelta(days=2)
    with worker.db.transaction() as s:
        store.ingest(s, "12345-shunde", "12345", [IncomingTicket(
            source_ref=ref, source_updated_at=start + timedelta(hours=i), received_at=start + timedelta(hours=i),
            kind="complaint", title="消费投诉", text=text, business_name=business, complainant_name=name,
            complainant_phone=phone, event_address="大良街道华盖路88号")
            for i, (ref, business, name, phone, text, _) in enumerate(CASES)])
    worker.dispatch()
    with worker.db.transaction() as s:
        for ref, _, _, _, _, result in CASES:
            t = s.scalars(select(Ticket).where(Ticket.source_ref == ref)).one()
            handling.accept(s, t, "user:st1", "大良市场监管所")
            handling.resolve(s, t, "user:st1", result, "大良市场监管所", outcome="settled")
    worker.catch_up_stats()
    worker.watch_businesses()
    worker.compute_index()
    out_json, out_csv = tmp_path / "gongshi.json", tmp_path / "gongshi.csv"
    assert onequeue(["businesses", "disclose", "--out", str(out_json), "--config", config]) == 0
    assert onequeue(["businesses", "disclose", "--csv", "--out", str(out_csv), "--config", config]) == 0
    whole = out_json.read_text(encoding="utf-8") + out_csv.read_text(encoding="utf-8-sig")
    # nothing of the complainants in the whole export
    assert PHONE.findall(whole) == [] and ID_NUMBER.findall(whole) == [] and HOUSE.findall(whole) == []
    for _, _, name, _, _, _ in CASES:
        assert name not in whole and name[1:] not in whole
    # what the public is to read is there
    rows = {r["business"]: r for r in json.loads(out_json.read_text(encoding="utf-8"))}
    assert set(rows) == {c[1] for c in CASES}
    gym = rows["佛山市顺德区悦动健身有限公司"]
    assert gym["outcome"] == "调解成功" and "已立案调查" in gym["result"] and "会员卡余额无法退还" in gym["complaint"]
    assert all(r["index_score"] is not None and re.fullmatch(r"\d+/\d+", r["industry_rank"]) for r in rows.values())
    table = list(csv.reader(io.StringIO(out_csv.read_text(encoding="utf-8-sig"))))
    assert table[0][:4] == ["编号", "受理日期", "类型", "被投诉经营者"] and len(table) == 1 + len(CASES)
