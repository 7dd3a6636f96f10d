"""Each figure against the small history of conftest.py, worked out by hand: counts by a dimension and two
crossed against the month before and a year before, handling per unit, industries with what decided them, hot
words; through the functions and through `onequeue stats ... --json`."""
from __future__ import annotations

import csv
import io
import json
from datetime import datetime, timedelta, timezone
from decimal import Decimal
from pathlib import Path
from types import SimpleNamespace

import pytest
from sqlalchemy import select

from accounts.scope import visible_units
from cli.main import main as onequeue
from dispatch import UnitDirectory
from settings.config_schema import load_config
from simulators.testing import write_config
from stats import StatsFact, catch_up, figures
from stats.periods import parse_period
from stats.setup import deciders_from
from tickets import IncomingTicket, Ticket, store

ROOT = Path(__file__).resolve().parents[2]
NOVEMBER = parse_period("2026-11")
CST = timezone(timedelta(hours=8))


@pytest.fixture
def counted(day):
    catch_up(day, deciders_from(load_config(ROOT / "config.yaml")))
    return day


def rows_by(figure, *dims):
    return {tuple(r[d] for d in dims): r for r in figure["rows"]}


def test_counts_by_channel_against_the_month_before_and_a_year_before(counted):
    with counted.transaction() as s:
        fig = figures.counts(s, NOVEMBER, ["channel"])
    by = rows_by(fig, "channel")
    # A, B in November on 12345 (F in October); C, E and the duplicate D on 12315 (G in November 2025)
    assert (by[("12345-sd",)]["tickets"], by[("12345-sd",)]["previous"], by[("12345-sd",)]["year_before"]) == (2, 1, 0)
    assert (by[("12315-gd",)]["tickets"], by[("12315-gd",)]["duplicates"], by[("12315-gd",)]["year_before"]) == (2, 1, 1)
    assert fig["total"] == {"tickets": 4, "duplicates": 1, "previous": 1, "year_before": 1, "change": 3.0,
                            "change_year": 3.0}
    assert (fig["previous_period"], fig["year_before_period"]) == ("2026-10", "2025-11")


def test_a_day_is_a_china_standard_time_day_and_two_dimensions_cross(counted):
    with counted.transaction() as s:
        nov29 = figures.counts(s, parse_period("2026-11-29"), ["unit"])
        nov30 = figures.counts(s, parse_period("2026-11-30"), ["channel", "unit"])
    assert {r["unit"]: r["tickets"] for r in nov29["rows"] if r["tickets"]} == {"st-daliang-01": 1}   # A, 23:50
    crossed = {k: r["tickets"] for k, r in rows_by(nov30, "channel", "unit").items() if r["tickets"]}
    assert crossed == {("12345-sd", "sd-amr-food"): 1, ("12315-gd", "sd-amr-food"): 2}   # B reassigned; C, E
    assert nov30["total"]["previous"] == 1   # the day before is the 29th


def test_industries_are_decided_and_kept_with_what_decided_them(counted):
    with counted.transaction() as s:
        fig = figures.counts(s, NOVEMBER, ["industry"])
        basis = {t.source_ref: (f.industry, f.industry_basis) for t, f in s.execute(
            select(Ticket, StatsFact).join(StatsFact, StatsFact.ticket_id == Ticket.id))}
    assert {r["industry"]: r["tickets"] for r in fig["rows"] if r["tickets"]} == {
        "prepaid_services": 1, "catering": 1, "ecommerce": 1, "other": 1}
    assert basis["A"] == ("prepaid_services", "商家名称含「健身」")
    assert basis["B"] == ("catering", "商家名称含「火锅」")
    assert basis["E"] == ("ecommerce", "诉求内容含「七天无理由」")
    assert basis["C"] == ("other", "未匹配，归入默认行业")
    assert basis["D"] == ("", None)   # a duplicate is not counted under an industry


def test_a_business_district_is_decided_from_the_address(counted):
    with counted.transaction() as s:
        fig = figures.counts(s, NOVEMBER, ["district", "unit"])
        decided = {t.source_ref: (f.district, f.district_basis) for t, f in s.execute(
            select(Ticket, StatsFact).join(StatsFact, StatsFact.ticket_id == Ticket.id))}
    assert decided["B"] == ("daliang_huagai", "地址或商家名称含「华盖路步行街」")
    assert decided["D"] == ("", None) and decided["E"] == ("", None)   # a duplicate; no address
    assert {(r["district"], r["unit"]): r["tickets"] for r in fig["rows"] if r["district"]} == {
        ("daliang_huagai", "sd-amr-food"): 1}


def test_handling_per_unit(counted):
    with counted.transaction() as s:
        nov = figures.handling(s, NOVEMBER, now=datetime(2026, 12, 31, tzinfo=timezone.utc))
        year_before = figures.handling(s, parse_period("2025-11"))
    units = {r["unit"]: r for r in nov["rows"]}
    daliang, food = units["st-daliang-01"], units["sd-amr-food"]
    assert (daliang["tickets"], daliang["accepted_on_time"], daliang["resolved_on_time"]) == (1, 1, 1)
    assert daliang["outcomes"] == {"settled": 1} and daliang["settlement_rate"] == 1.0
    assert (daliang["rated"], daliang["satisfied"], daliang["satisfaction_rate"]) == (1, 1, 1.0)
    assert food["satisfaction_rate"] is None   # nobody answered: no rate, not 0%
    assert daliang["recovered"] == Decimal("800.00")
    assert daliang["overdue_now"] == 1   # F, received in October, is past its deadline by the 31st
    assert (food["tickets"], food["accepted"], food["returned"], food["resolved"]) == (3, 1, 1, 0)
    assert food["overdue_now"] == 2   # B and E by the 31st; C is returned with no deadline running
    assert food["acceptance_rate"] == round(1 / 3, 4)
    assert nov["total"]["recovered"] == Decimal("800.00") and nov["total"]["tickets"] == 4
    # G was taken on a year after its acceptance deadline: accepted, not on time
    g = {r["unit"]: r for r in year_before["rows"]}["sd-amr-food"]
    assert (g["tickets"], g["accepted"], g["accepted_on_time"], g["acceptance_rate"]) == (1, 1, 0, 0.0)


def test_first_contact_within_its_deadline_and_escalations(day):
    """Dispatch starts a first-contact clock of one working hour on every ticket. A and E were accepted at once;
    B (reassigned) and C (returned) were never reached. At the end of the year the deadline scan finds B's and
    E's resolution deadlines passed: both are escalated (督办)."""
    from sla import Deadlines, scan_due

    config = load_config(ROOT / "config.yaml")
    units = UnitDirectory.from_file(ROOT / "units.yaml")
    scan_due(day, Deadlines(config.sla, units=lambda: units), now=datetime(2026, 12, 31, tzinfo=timezone.utc))
    catch_up(day, deciders_from(config))
    with day.transaction() as s:
        units_fig = {r["unit"]: r for r in figures.handling(s, NOVEMBER)["rows"]}
    daliang, food = units_fig["st-daliang-01"], units_fig["sd-amr-food"]
    assert (daliang["first_contact"], daliang["first_contact_on_time"], daliang["escalated"]) == (1, 1, 0)
    assert (food["first_contact"], food["first_contact_on_time"], food["escalated"]) == (3, 1, 2)
    assert food["first_contact_rate"] == round(1 / 3, 4)


def test_a_person_sees_the_figures_of_the_units_they_may_see(counted):
    units = UnitDirectory.from_file(ROOT / "units.yaml")
    with counted.transaction() as s:
        station = figures.counts(s, NOVEMBER, ["unit"], visible_units("st-daliang-01", units))
        bureau = figures.counts(s, NOVEMBER, ["unit"], visible_units("sd-amr", units))
    assert [r["unit"] for r in station["rows"]] == ["st-daliang-01"] and station["total"]["tickets"] == 1
    assert bureau["total"]["tickets"] == 4


def test_hot_words_count_tickets_and_a_duplicate_adds_none(counted):
    with counted.transaction() as s:
        words = figures.hot_words(s, NOVEMBER)
        terms = {t.source_ref: f.terms for t, f in s.execute(
            select(Ticket, StatsFact).join(StatsFact, StatsFact.ticket_id == Ticket.id))}
    heat = {r["term"]: r["tickets"] for r in words["terms"]}
    assert heat["短斤缺两"] == 1            # B; D says it again but is B's duplicate
    assert heat["预付卡"] == 1 and "预付卡" in terms["A"]
    assert "七天无理由退货" in terms["E"]    # the domain dictionary keeps it whole
    assert terms["D"] == []
    assert "投诉" not in heat              # a stop word
    assert words["rising"] == [] and not words["rising_judged"]   # four weeks with no tickets tell nothing


def test_rising_words_are_well_above_their_own_baseline(db):
    """Today four tickets about a gym's prepaid card (预付卡) that ran off (跑路); over the four weeks before, four
    tickets a day about gyms (健身房) and one about a prepaid card: 预付卡 and 跑路 are rising, 健身房 is as usual."""
    def record(ref, day, hour, text):
        moment = datetime(2026, 11, day, hour, tzinfo=CST)
        return IncomingTicket(source_ref=ref, source_updated_at=moment, received_at=moment, title="投诉", text=text)

    records = [record(f"P{i}", 30, 9 + i, "健身房预付卡跑路") for i in range(4)]
    records += [record(f"Q{day}-{i}", day, 9 + i, "健身房服务差" + ("，预付卡" if (day, i) == (2, 0) else ""))
                for day in range(2, 30) for i in range(4)]
    with db.transaction() as s:
        store.ingest(s, "12345-sd", "12345", records)
    catch_up(db, deciders_from(load_config(ROOT / "config.yaml")))
    with db.transaction() as s:
        words = figures.hot_words(s, parse_period("2026-11-30"))
    rising = {r["term"]: r for r in words["rising"]}
    assert set(rising) == {"预付卡", "跑路"}
    assert rising["预付卡"]["tickets"] == 4 and rising["预付卡"]["expected"] == round(1 / 28, 2)
    gym = {r["term"]: r for r in words["terms"]}["健身房"]
    assert (gym["tickets"], gym["expected"], gym["rising"]) == (4, 4.0, False)


def test_the_monthly_report_opens_in_openpyxl_with_its_sheets_and_the_database_s_totals(counted, db_url, tmp_path):
    from openpyxl import load_workbook

    nowhere = SimpleNamespace(base_url="http://127.0.0.1:9")
    config = write_config(tmp_path / "config.yaml", db_url, nowhere, nowhere)
    out = tmp_path / "report.xlsx"
    assert onequeue(["stats", "report", "--month", "2026-11", "--out", str(out), "--config", config]) == 0
    book = load_workbook(out)
    assert book.sheetnames == ["概况", "渠道", "类型", "镇街", "行业", "商圈", "纠纷类型", "办理情况", "热词"]
    with counted.transaction() as s:   # the database, counted apart from the statistics
        nov = [t for t in s.scalars(select(Ticket)) if str(t.received_at.astimezone(CST).date())[:7] == "2026-11"]
    complaints = [t for t in nov if t.status != "duplicate"]
    summary = {row[0]: row[1] for row in book["概况"].iter_rows(min_row=5, values_only=True)}
    assert summary["投诉举报咨询件数（不含重复件）"] == len(complaints) == 4
    assert summary["重复件"] == len(nov) - len(complaints) == 1
    assert summary["挽回经济损失（元）"] == float(sum(t.recovered_amount or 0 for t in complaints)) == 800.0
    assert all(row[0] for row in book["渠道"].iter_rows(min_row=2, values_only=True))   # no empty row
    channels = {row[0]: row[1] for row in book["渠道"].iter_rows(min_row=2, values_only=True)}
    assert channels["合计"] == 4 and channels["12345-sd"] == sum(t.channel == "12345-sd" for t in complaints) == 2
    handling_rows = list(book["办理情况"].iter_rows(min_row=2, values_only=True))
    assert handling_rows[-1][0] == "合计" and handling_rows[-1][1] == 4
    assert book["渠道"]._charts and book["镇街"]._charts   # bar charts Excel draws itself
    assert onequeue(["stats", "report", "--month", "2026-11-30", "--out", str(out), "--config", config]) == 1


def test_the_command_line_gives_the_same_figures_as_json(counted, db_url, tmp_path, capsys):
    nowhere = SimpleNamespace(base_url="http://127.0.0.1:9")
    config = write_config(tmp_path / "config.yaml", db_url, nowhere, nowhere)
    assert onequeue(["stats", "counts", "--by", "channel", "--by", "kind", "--period", "2026-11", "--json",
                     "--config", config]) == 0
    data = json.loads(capsys.readouterr().out)
    crossed = {(r["channel"], r["kind_label"]): r["tickets"] for r in data["rows"] if r["tickets"]}
    assert crossed == {("12345-sd", "投诉"): 2, ("12315-gd", "投诉"): 1, ("12315-gd", "咨询"): 1}
    assert onequeue(["stats", "handling", "--period", "2026-11", "--unit", "st-daliang-01", "--config",
                     config]) == 0
    out = capsys.readouterr().out
    assert "大良" in out and "recovered ¥800.00" in out and "食品" not in out
    assert onequeue(["stats", "handling", "--period", "2026-11", "--csv", "--config", config]) == 0
    table = list(csv.reader(io.StringIO(capsys.readouterr().out.lstrip("\ufeff"))))
    assert table[0][:4] == ["承办单位", "件数", "首次联系及时率", "已受理"]
    assert table[-1][0] == "合计" and table[-1][1] == "4" and table[-1][-1] == "800.00"
    assert onequeue(["stats", "counts", "--by", "colour", "--config", config]) == 1
    assert "unknown dimension 'colour'" in capsys.readouterr().err
    assert onequeue(["stats", "words", "--period", "2026-13", "--config", config]) == 1
    assert "2026-13" in capsys.readouterr().err
