"""The back office with a million tickets stored: the server time of the queue page (each default view, a
Chinese text search, a phone search) and of a ticket page, on SQLite and on PostgreSQL.

    python bench/bench_backoffice.py [--tickets 1000000] [--repeat 100] [--postgres URL] [--keep PATH]
                                     [--keep-schema NAME] [--only sqlite|postgresql]

Tickets are bulk-inserted (realistic statuses, units, towns, deadlines and Chinese texts), then each page is
requested through the real web application (login, session, templates) by an in-process HTTP client; the time
is what the server spends, from request to the last byte of the answer. Prints p50, p95 and p99 per page.
SQLite always; PostgreSQL when --postgres (or ONEQUEUE_TEST_POSTGRES_URL) is given. --keep reuses (or
leaves) a SQLite file of that many tickets, --keep-schema a PostgreSQL schema, to measure again without filling
anew. The fill sets the text indexes aside and builds them once at the end, as a bulk import would.
"""
from __future__ import annotations

import argparse
import os
import random
import re
import statistics
import sys
import tempfile
import time
from contextlib import contextmanager
from datetime import datetime, timedelta, timezone
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from sqlalchemy import create_engine, func, insert, select, text  # noqa: E402

from bench.bench_intake import drop_schemas, fresh_pg_schema  # noqa: E402
from tickets import Database, Ticket  # noqa: E402
from tickets.migrate import upgrade  # noqa: E402

GOODS = ["空调", "冰箱", "洗衣机", "手机", "电动车", "热水器", "燃气灶", "健身卡", "美容卡", "培训课程", "外卖", "月饼",
         "装修", "家具", "二手车", "保健品", "眼镜", "口罩", "奶粉", "酒店"]
TROUBLES = ["不制冷", "漏水", "质量问题", "拒绝退款", "虚假宣传", "闭店跑路", "价格欺诈", "缺斤少两", "过期变质", "无法开机",
            "售后推诿", "强制消费", "霸王条款", "延迟交货", "以次充好"]
PLACES = ["大良", "容桂", "伦教", "勒流", "陈村", "均安", "杏坛", "龙江", "乐从", "北滘"]
TOWNS = ["大良街道", "容桂街道", "伦教街道", "勒流街道", "陈村镇", "均安镇", "杏坛镇", "龙江镇", "乐从镇", "北滘镇"]
CHANNELS = [("12345-shunde", "12345"), ("12315-platform", "12315"), ("8180-hotline", "filedrop_8180"),
            ("walk-in", "walk_in")]
STATUSES = ["closed"] * 70 + ["resolved"] * 8 + ["dispatched"] * 8 + ["accepted"] * 4 + ["in_progress"] * 3 + \
    ["triage"] * 2 + ["new"] * 1 + ["duplicate"] * 2 + ["returned", "withdrawn"]


@contextmanager
def text_indexes_set_aside(db: Database):
    """Drop the text search's indexes (PostgreSQL) or triggers (SQLite) during a bulk fill, then build them
    again from their own stored definitions: one build instead of a million small updates."""
    postgres = db.engine.dialect.name == "postgresql"
    with db.engine.begin() as c:
        if postgres:
            kept = c.execute(text("SELECT indexname, indexdef FROM pg_indexes WHERE tablename = 'tickets' "
                                  "AND schemaname = current_schema() AND indexname LIKE '%trgm'")).all()
            for name, _ in kept:
                c.execute(text(f'DROP INDEX "{name}"'))
        else:
            kept = c.execute(text("SELECT name, sql FROM sqlite_master WHERE type = 'trigger' "
                                  "AND tbl_name = 'tickets' AND name LIKE 'tickets_fts%'")).all()
            for name, _ in kept:
                c.execute(text(f'DROP TRIGGER "{name}"'))
    yield
    with db.engine.begin() as c:
        for _, definition in kept:
            c.execute(text(definition))
        if not postgres and kept:
            c.execute(text("INSERT INTO tickets_fts(tickets_fts) VALUES ('rebuild')"))


def fill(db: Database, n: int, seed: int = 11) -> None:
    """Store `n` tickets in batches of 5,000, as a year of a busy district would look."""
    with text_indexes_set_aside(db):
        _fill(db, n, seed)
        started = time.perf_counter()
    with db.engine.connect().execution_options(isolation_level="AUTOCOMMIT") as c:
        c.execute(text("VACUUM ANALYZE" if db.engine.dialect.name == "postgresql" else "ANALYZE"))
    print(f"  text indexes built and statistics gathered in {time.perf_counter() - started:.0f} s", flush=True)


def _fill(db: Database, n: int, seed: int) -> None:
    rnd = random.Random(seed)
    now = datetime.now(timezone.utc)
    stations = [f"st-{p}-{i:02d}" for p in ("daliang", "ronggui", "lunjiao", "leliu", "chencun", "junan",
                                               "xingtan", "longjiang", "lecong", "beijiao") for i in range(1, 15)]
    started = time.perf_counter()
    for start in range(0, n, 5000):
        rows = []
        for i in range(start, min(n, start + 5000)):
            goods, trouble, place = rnd.choice(GOODS), rnd.choice(TROUBLES), rnd.choice(PLACES)
            status = rnd.choice(STATUSES)
            received = now - timedelta(minutes=(n - i) * 0.5)
            unit = None if status in ("new", "triage") else rnd.choice(stations)
            open_ = status in ("dispatched", "accepted", "in_progress", "returned")
            channel, kind = rnd.choice(CHANNELS)
            rows.append(dict(
                number=f"SD{received:%y%m}-{i:07d}", channel=channel, channel_kind=kind, source_ref=f"R{i:08d}",
                received_at=received, source_updated_at=received, kind=rnd.choice(["complaint"] * 6 + ["report", "consultation"]),
                title=f"{goods}{trouble}", text=f"消费者在{place}{rnd.choice(['商场', '市场', '门店', '网店'])}购买的{goods}"
                f"{trouble}，多次联系商家未果，要求{rnd.choice(['退款', '维修', '赔偿', '更换'])}。编号{i}",
                complainant_name="测试" + str(i % 997), complainant_phone=f"138{i:08d}",
                business_name=f"顺德区{place}{goods}{rnd.choice(['商行', '有限公司', '专卖店', '服务部'])}{i % 5000}",
                town=rnd.choice(TOWNS), priority=rnd.choice(["normal"] * 18 + ["urgent", "very_urgent"]),
                status=status, assigned_unit=unit,
                due_at=(now + timedelta(hours=rnd.uniform(-48, 240))) if open_ else None,
                payload={}, created_at=received, updated_at=received))
        with db.transaction() as s:
            s.execute(insert(Ticket), rows)
        if start and start % 100_000 == 0:
            print(f"  {start:>9,} stored, {time.perf_counter() - started:5.0f} s", flush=True)
    print(f"  {n:,} tickets stored in {time.perf_counter() - started:.0f} s", flush=True)


def filled_or_fill(db: Database, n: int) -> None:
    """Fill an empty database; reuse one kept from an earlier run if it holds `n` tickets."""
    with db.transaction() as s:
        have = s.scalar(select(func.count()).select_from(Ticket))
    if have == n:
        return
    if have:
        raise SystemExit(f"{db.engine.url.render_as_string(hide_password=True)} holds {have:,} tickets, not {n:,}")
    fill(db, n)


def kept_pg_schema(base: str, schema: str) -> str:
    """A URL for the schema `schema` of the database at `base`, created when missing."""
    if not re.fullmatch(r"[a-z_][a-z0-9_]*", schema):
        raise SystemExit(f"--keep-schema {schema!r}: lower-case letters, digits and _ only")
    url = base.replace("postgresql://", "postgresql+psycopg://", 1)
    engine = create_engine(url)
    with engine.begin() as c:
        c.execute(text(f'CREATE SCHEMA IF NOT EXISTS "{schema}"'))
    engine.dispose()
    return f"{url}{'&' if '?' in base else '?'}options=-csearch_path%3D{schema}"


def measure(db_url: str, repeat: int) -> None:
    """Time each page through the web application, logged in as the command centre (sees everything)."""
    from bench.backoffice_client import logged_in_client

    client, number = logged_in_client(db_url)
    pages = [("queue 待分派", "/?view=triage"), ("queue 全部在办", "/?view=open"),
             ("queue 本单位待办", "/?view=unit"), ("queue 即将超期", "/?view=due_soon"),
             ("queue 已超期", "/?view=overdue"), ("queue 已办结", "/?view=closed"),
             ("search 空调不制冷", "/?view=closed&q=空调不制冷"), ("search 退款 (2 chars)", "/?view=open&q=退款"),
             ("search phone", "/?view=closed&q=13800012345"), ("search number", f"/?view=closed&q={number}"),
             ("ticket page", f"/tickets/{number}")]
    for label, path in pages:
        times = []
        for _ in range(repeat):
            t0 = time.perf_counter()
            response = client.get(path)
            times.append((time.perf_counter() - t0) * 1000)
            if response.status_code != 200:
                raise SystemExit(f"{path} answered {response.status_code}: {response.text[:300]}")
        times.sort()
        q = statistics.quantiles(times, n=100)
        print(f"  {label:<22} p50 {q[49]:7.1f} ms   p95 {q[94]:7.1f} ms   p99 {q[98]:7.1f} ms")


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--tickets", type=int, default=1_000_000)
    ap.add_argument("--repeat", type=int, default=100)
    ap.add_argument("--postgres", default=os.environ.get("ONEQUEUE_TEST_POSTGRES_URL"))
    ap.add_argument("--keep", help="a SQLite file to reuse or leave behind")
    ap.add_argument("--keep-schema", help="a PostgreSQL schema to reuse or leave behind")
    ap.add_argument("--only", choices=["sqlite", "postgresql"])
    args = ap.parse_args()
    from settings.logging_setup import configure_logging

    configure_logging("error")
    tmp = Path(tempfile.mkdtemp())
    schemas: list[str] = []
    try:
        if args.only != "postgresql":
            path = Path(args.keep) if args.keep else tmp / "bench.db"
            url = f"sqlite:///{path}"
            db = Database(url)
            upgrade(db.engine)
            print(f"SQLite, {args.tickets:,} tickets")
            filled_or_fill(db, args.tickets)
            db.dispose()
            measure(url, args.repeat)
        if args.postgres and args.only != "sqlite":
            url = kept_pg_schema(args.postgres, args.keep_schema) if args.keep_schema else \
                fresh_pg_schema(args.postgres, schemas)
            db = Database(url)
            upgrade(db.engine)
            print(f"PostgreSQL, {args.tickets:,} tickets")
            filled_or_fill(db, args.tickets)
            db.dispose()
            measure(url, args.repeat)
    finally:
        if schemas:
            drop_schemas(args.postgres, schemas)
        if not args.keep:
            import shutil

            shutil.rmtree(tmp, ignore_errors=True)


if __name__ == "__main__":
    main()
