"""The figures' tables as CSV, with Chinese headings and labels, for a spreadsheet: the same rows the page and
`onequeue stats` show. A byte-order mark leads, so that Excel reads the file as UTF-8."""
from __future__ import annotations

import csv
import io

from stats.labels import DIMENSION_LABELS

BOM = "\ufeff"


def _pct(value) -> str:
    return "" if value is None else f"{value * 100:.1f}%"


def _write(header: list[str], rows: list[list]) -> str:
    out = io.StringIO()
    out.write(BOM)
    writer = csv.writer(out, lineterminator="\r\n")
    writer.writerow(header)
    writer.writerows(rows)
    return out.getvalue()


def counts_csv(figure: dict) -> str:
    """A labelled `figures.counts` figure (Labels.add_to) as CSV, its total last."""
    by = figure["by"]
    header = [DIMENSION_LABELS[d] for d in by] + ["投诉件数", "重复件", "上期", "环比", "去年同期", "同比"]
    rows = [[r[f"{d}_label"] for d in by] + [r["tickets"], r["duplicates"], r["previous"], _pct(r["change"]),
                                               r["year_before"], _pct(r["change_year"])] for r in figure["rows"]]
    t = figure["total"]
    rows.append(["合计"] + [""] * (len(by) - 1) + [t["tickets"], t["duplicates"], t["previous"], _pct(t["change"]),
                                                   t["year_before"], _pct(t["change_year"])])
    return _write(header, rows)


def handling_csv(figure: dict) -> str:
    """A labelled `figures.handling` figure as CSV, its total last."""
    header = ["承办单位", "件数", "首次联系及时率", "已受理", "按时受理", "响应率", "已办结", "按时办结", "解决率",
              "满意率", "退回", "督办", "当前超期", "挽回经济损失（元）"]

    def line(name, r):
        return [name, r["tickets"], _pct(r["first_contact_rate"]), r["accepted"], r["accepted_on_time"],
                _pct(r["acceptance_rate"]), r["resolved"], r["resolved_on_time"], _pct(r["settlement_rate"]),
                _pct(r["satisfaction_rate"]), r["returned"], r["escalated"], r["overdue_now"], r["recovered"]]

    return _write(header, [line(r["unit_label"], r) for r in figure["rows"]] + [line("合计", figure["total"])])


def words_csv(figure: dict) -> str:
    """A `figures.hot_words` figure as CSV."""
    return _write(["热词", "件数", "上期", "近四周同期", "上升"],
                  [[r["term"], r["tickets"], r["previous"], r["expected"], "是" if r["rising"] else ""]
                   for r in figure["terms"]])
