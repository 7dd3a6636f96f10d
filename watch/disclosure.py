"""Public disclosure (投诉信息公示): the complaints handled to their end (办结) in a period, desensitised as the
regulators publish them — complainants' names, phone numbers, identity numbers and house numbers taken out, the
business's name kept — with the result and the business's handling index and rank in its industry; as JSON or as
CSV for Excel. One function for the command line and a page alike."""
from __future__ import annotations

import csv
import io
import json
from datetime import date, datetime, time, timedelta
from typing import Optional

from sqlalchemy import select
from sqlalchemy.orm import Session

from settings.masking import redact_text
from stats.models import StatsFact
from tickets.handling import OUTCOMES
from tickets.models import Ticket
from tickets.vocabulary import CHINA_TZ, kind_label
from watch import index
from watch.models import Business, BusinessTicket

DONE = ("resolved", "closed")
COLUMNS = [("number", "编号"), ("received", "受理日期"), ("kind", "类型"), ("business", "被投诉经营者"),
           ("town", "镇街"), ("industry", "行业"), ("complaint", "投诉内容"), ("outcome", "办理结果"),
           ("result", "处理情况"), ("index_score", "处理指数"), ("industry_rank", "行业排名")]


def export(session: Session, since: date, until: date, industry_name=lambda i: i) -> list[dict]:
    """The complaints and reports received from `since` to `until` (China days) and handled to their end,
    desensitised, oldest first."""
    start = datetime.combine(since, time.min, CHINA_TZ)
    end = datetime.combine(until + timedelta(days=1), time.min, CHINA_TZ)
    rows = session.execute(
        select(Ticket, Business.name, Business.id, StatsFact.industry)
        .outerjoin(BusinessTicket, BusinessTicket.ticket_id == Ticket.id)
        .outerjoin(Business, Business.id == BusinessTicket.business_id)
        .outerjoin(StatsFact, StatsFact.ticket_id == Ticket.id)
        .where(Ticket.status.in_(DONE), Ticket.kind.in_(("complaint", "report")),
               Ticket.received_at >= start, Ticket.received_at < end)
        .order_by(Ticket.received_at, Ticket.id)).all()
    scores = {r["business_id"]: r for r in index.latest(session, limit=100000)}
    out = []
    for t, business, business_id, industry in rows:
        names = tuple(n for n in (t.complainant_name,) if n)
        score = scores.get(business_id)
        out.append({
            "number": t.number,
            "received": t.received_at.astimezone(CHINA_TZ).date().isoformat(),
            "kind": kind_label(t.kind),
            "business": business or t.business_name or "",
            "town": t.town or "",
            "industry": industry_name(industry) if industry else "",
            "complaint": redact_text(f"{t.title or ''}：{t.text or ''}".strip("："), names),
            "outcome": OUTCOMES.get(t.outcome or "", ""),
            "result": redact_text(t.result_text or "", names),
            "index_score": score["score"] if score else None,
            "industry_rank": f"{score['rank']}/{score['of']}" if score else "",
        })
    return out


def to_json(rows: list[dict]) -> str:
    return json.dumps(rows, ensure_ascii=False, indent=1)


def to_csv(rows: list[dict]) -> str:
    """Chinese headings, UTF-8 with a byte-order mark for Excel."""
    buf = io.StringIO()
    w = csv.writer(buf)
    w.writerow([label for _, label in COLUMNS])
    for r in rows:
        w.writerow(["" if r[key] is None else r[key] for key, _ in COLUMNS])
    return "\ufeff" + buf.getvalue()


def period(since: Optional[str], until: Optional[str], today: date) -> tuple[date, date]:
    """The days asked for, the last 30 by default."""
    end = date.fromisoformat(until) if until else today
    return (date.fromisoformat(since) if since else end - timedelta(days=29)), end
