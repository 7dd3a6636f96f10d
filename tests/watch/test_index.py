"""The handling index on a hand-made history: two restaurants of one industry, their complaints dispatched, handled
and rated through the real functions, the rollup and the registry caught up by the worker's jobs; the index's
components are those worked out by hand, pulled towards the industry's average as index.yaml says, and the
better-handled one ranks first. Computing again on the same day replaces the day's figures."""
from __future__ import annotations

import json
from datetime import datetime, timedelta, timezone

import pytest
from sqlalchemy import select

from cli.main import main as onequeue
from tickets import IncomingTicket, Ticket, followup, handling, store
from watch.index_rules import load_index_rules

CST = timezone(timedelta(hours=8))
TEXTS = {"A1": "在餐厅吃饭，饭菜里有异物，要求退款", "A2": "餐厅结账时多收了服务费，不肯退还",
         "A3": "上个月在这家餐厅办的会员储值卡被拒用，店员态度恶劣", "B1": "酒家菜品份量与菜单图片严重不符",
         "B2": "酒家包间最低消费没有事先告知"}
# ref, business, complainant's phone: 禾香 has three complaints, one of them a repeat; 福满 has two
STORY = [("A1", "顺德区禾香餐厅", "13800000001"), ("A2", "顺德区禾香餐厅", "13800000002"),
         ("A3", "禾香餐厅", "13800000001"), ("B1", "顺德区福满楼酒家", "13800000003"),
         ("B2", "福满楼酒家", "13800000004")]


def ticket(s, ref: str) -> Ticket:
    return s.scalars(select(Ticket).where(Ticket.source_ref == ref)).one()


def made_history(worker) -> None:
    start = datetime.now(CST) - timedelta(days=3)
    with worker.db.transaction() as s:
        store.ingest(s, "12345-shunde", "12345", [IncomingTicket(
            source_ref=ref, source_updated_at=start + timedelta(hours=i), received_at=start + timedelta(hours=i),
            kind="complaint", title="餐饮投诉", text=TEXTS[ref], business_name=name, event_address="大良街道华盖路88号",
            complainant_phone=phone) for i, (ref, name, phone) in enumerate(STORY)])
    worker.dispatch()
    with worker.db.transaction() as s:
        for ref, outcome in (("A1", "settled"), ("A2", "not_settled"), ("B1", "settled"), ("B2", "partly_settled")):
            handling.accept(s, ticket(s, ref), "user:st1", "大良市场监管所")
            handling.resolve(s, ticket(s, ref), "user:st1", "已处理", "大良市场监管所", outcome=outcome)
        handling.return_to_source(s, ticket(s, "A3"), "user:st1", "重复反映，已另案处理")
    with worker.db.transaction() as s:
        for ref, rating in (("A1", 5), ("A2", 2), ("B1", 4)):
            t = ticket(s, ref)
            followup.record_rating(s, followup.open_followup(s, t, t.complainant_phone), rating, "sms")
    worker.catch_up_stats()
    worker.watch_businesses()


def test_the_index_components_match_a_hand_made_history(worker, config, capsys):
    made_history(worker)
    capsys.readouterr()
    assert onequeue(["businesses", "index", "--compute", "--json", "--config", config]) == 0
    rows = {r["business"]: r for r in json.loads(capsys.readouterr().out)}
    hx, fm = rows["顺德区禾香餐厅"], rows["顺德区福满楼酒家"]
    assert hx["industry"] == fm["industry"] and (hx["tickets"], fm["tickets"]) == (3, 2)
    raw = lambda r: {k: v["value"] for k, v in r["components"].items()}  # noqa: E731
    # worked out by hand: taken on and settled within the deadlines; 禾香 settled one of two, 福满 one and a half;
    # 禾香's third complaint was returned, and came from the first one's complainant; ratings 5 and 2, and 4
    assert raw(hx) == {"timeliness": 1.0, "settlement": 0.5, "cooperation": round(2 / 3, 4),
                       "satisfaction": 0.5, "repeat": round(2 / 3, 4)}
    assert raw(fm) == {"timeliness": 1.0, "settlement": 0.75, "cooperation": 1.0, "satisfaction": 1.0,
                       "repeat": 1.0}
    # pulled towards the industry's average (settlement 2.5 of 4) by index.yaml's prior weight
    m = load_index_rules().prior_weight
    assert hx["components"]["settlement"]["shrunk"] == pytest.approx((1 + m * 2.5 / 4) / (2 + m), abs=1e-4)
    w = load_index_rules().weights.model_dump()
    expected = 100 * sum(w[k] * v["shrunk"] for k, v in hx["components"].items()) / sum(w.values())
    assert hx["score"] == pytest.approx(expected, abs=0.01)
    assert (fm["rank"], hx["rank"], hx["of"]) == (1, 2, 2) and fm["score"] > hx["score"]
    # computed again the same day: the day's figures replaced, not doubled; the history has one day
    assert onequeue(["businesses", "index", "--compute", "--json", "--business", str(hx["business_id"]),
                     "--config", config]) == 0
    out = json.loads(capsys.readouterr().out)
    assert len(out["businesses"]) == 1 and len(out["history"]) == 1
