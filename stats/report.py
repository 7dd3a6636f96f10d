"""The monthly consumer-protection report as an .xlsx workbook: a summary and one sheet per table (channels,
kinds, towns, industries, business districts, dispute types, handling per unit, hot words), each with the month
before and the same month a year before, and bar charts Excel draws itself (nothing is fetched to draw them).
Read from the same figures as the page, the command line and the API."""
from __future__ import annotations

import io
from typing import Optional

from openpyxl import Workbook
from openpyxl.chart import BarChart, Reference
from openpyxl.styles import Alignment, Font, PatternFill
from sqlalchemy.orm import Session

from accounts.scope import ALL_UNITS, Scope
from stats import figures
from stats.labels import DIMENSION_LABELS, Labels
from stats.periods import Period

# The tables of the report, in order: (sheet name, dimension, chart the top rows).
TABLES = (("渠道", "channel", True), ("类型", "kind", False), ("镇街", "town", True), ("行业", "industry", True),
          ("商圈", "district", True), ("纠纷类型", "category", False))
CHART_ROWS = 12
HEAD = Font(bold=True, color="FFFFFF")
HEAD_FILL = PatternFill("solid", fgColor="2F6DB5")


def _pct(value) -> Optional[float]:
    return None if value is None else round(value, 4)


def _header(ws, names: list[str]) -> None:
    ws.append(names)
    for cell in ws[ws.max_row]:
        cell.font, cell.fill = HEAD, HEAD_FILL
        cell.alignment = Alignment(horizontal="center")
    ws.freeze_panes = f"A{ws.max_row + 1}"


def _widths(ws, first: int = 24, rest: int = 12) -> None:
    for i, column in enumerate(ws.iter_cols(min_row=1, max_row=1), start=1):
        ws.column_dimensions[column[0].column_letter].width = first if i == 1 else rest


def monthly_report(session: Session, month: Period, labels: Labels, scope: Scope = ALL_UNITS) -> Workbook:
    """The workbook of `month`, limited to the units of `scope`."""
    wb = Workbook()
    summary = wb.active
    summary.title = "概况"
    total = figures.counts(session, month, ["kind"], scope)["total"]
    handling = labels.add_to(figures.handling(session, month, scope), ["unit"])
    h = handling["total"]
    summary.append([f"{month.start:%Y年%m月}消费者权益保护统计报告"])
    summary["A1"].font = Font(bold=True, size=14)
    summary.append([f"统计期 {month.start} 至 {month.end}（北京时间，按收到时间）；上期 {month.previous()}，"
                    f"去年同期 {month.year_before()}"])
    summary.append([])
    _header(summary, ["项目", "数值"])
    for name, value in (("投诉举报咨询件数（不含重复件）", total["tickets"]), ("重复件", total["duplicates"]),
                        ("上期件数", total["previous"]), ("环比", _pct(total["change"])),
                        ("去年同期件数", total["year_before"]), ("同比", _pct(total["change_year"])),
                        ("首次联系及时率（一个工作小时内）", _pct(h["first_contact_rate"])),
                        ("已受理", h["accepted"]), ("响应率（按时受理 / 件数）", _pct(h["acceptance_rate"])),
                        ("已办结", h["resolved"]), ("解决率（调解成功 / 已办结）", _pct(h["settlement_rate"])),
                        ("满意率（满意 / 作出评价）", _pct(h["satisfaction_rate"])), ("退回", h["returned"]),
                        ("督办（时限超期）", h["escalated"]), ("当前超期", h["overdue_now"]), ("挽回经济损失（元）", float(h["recovered"]))):
        summary.append([name, value])
        if name.startswith(("环比", "同比", "响应率", "解决率", "满意率", "首次联系")):
            summary.cell(row=summary.max_row, column=2).number_format = "0.0%"
    _widths(summary, 34, 16)

    for title, dim, chart in TABLES:
        fig = labels.add_to(figures.counts(session, month, [dim], scope), [dim])
        ws = wb.create_sheet(title)
        _header(ws, [DIMENSION_LABELS[dim], "件数", "重复件", "上期", "环比", "去年同期", "同比"])
        for r in fig["rows"]:
            ws.append([r[f"{dim}_label"], r["tickets"], r["duplicates"], r["previous"], _pct(r["change"]),
                       r["year_before"], _pct(r["change_year"])])
        t = fig["total"]
        ws.append(["合计", t["tickets"], t["duplicates"], t["previous"], _pct(t["change"]), t["year_before"],
                   _pct(t["change_year"])])
        for cell in ws[ws.max_row]:
            cell.font = Font(bold=True)
        for row in ws.iter_rows(min_row=2, min_col=5, max_col=7):
            row[0].number_format = row[2].number_format = "0.0%"
        _widths(ws)
        shown = [r for r in fig["rows"] if r["tickets"]][:CHART_ROWS]
        if chart and shown:
            bars = BarChart()
            bars.type, bars.title, bars.legend = "bar", f"{title}：本月件数", None
            bars.add_data(Reference(ws, min_col=2, min_row=1, max_row=1 + len(shown)), titles_from_data=True)
            bars.set_categories(Reference(ws, min_col=1, min_row=2, max_row=1 + len(shown)))
            bars.height, bars.width = 9, 16
            ws.add_chart(bars, "I2")

    ws = wb.create_sheet("办理情况")
    _header(ws, ["承办单位", "件数", "已受理", "按时受理", "响应率", "已办结", "按时办结", "解决率", "满意率", "退回",
                 "当前超期", "挽回经济损失（元）"])
    for r in [*handling["rows"], {**h, "unit_label": "合计"}]:
        ws.append([r["unit_label"], r["tickets"], r["accepted"], r["accepted_on_time"], _pct(r["acceptance_rate"]),
                   r["resolved"], r["resolved_on_time"], _pct(r["settlement_rate"]), _pct(r["satisfaction_rate"]),
                   r["returned"], r["overdue_now"], float(r["recovered"])])
    for row in ws.iter_rows(min_row=2):
        for i in (4, 7, 8):
            row[i].number_format = "0.0%"
    for cell in ws[ws.max_row]:
        cell.font = Font(bold=True)
    _widths(ws, 30)

    words = figures.hot_words(session, month, scope, limit=50)
    ws = wb.create_sheet("热词")
    _header(ws, ["热词", "件数", "上期", "近四周同期", "上升"])
    for r in words["terms"]:
        ws.append([r["term"], r["tickets"], r["previous"], r["expected"], "是" if r["rising"] else ""])
    _widths(ws, 16)
    return wb


def report_bytes(session: Session, month: Period, labels: Labels, scope: Scope = ALL_UNITS) -> bytes:
    out = io.BytesIO()
    monthly_report(session, month, labels, scope).save(out)
    return out.getvalue()
