"""/admin/rules: operators check a pasted rules file (errors with their lines), explain any ticket's decision, and
replay a rules file over the last days to see which tickets would move. Nothing here changes the rules or a ticket:
administrators still edit the YAML."""
from __future__ import annotations

from datetime import timedelta

from fastapi import APIRouter, Depends, Form, Request

from accounts import Viewer
from dispatch.job import facts_in
from dispatch.replay import replay
from dispatch.rules_check import check_text
from tickets import store
from tickets.db import utcnow
from web import parts
from web.page_auth import form_user, require_role
from web.templating import render

PASTED = "粘贴的规则"
MAX_DAYS = 366
MAX_MOVES = 500


def router(ctx) -> APIRouter:
    r = APIRouter()
    admin = require_role("admin")

    @r.get("/admin/rules")
    def rules_page(request: Request, viewer: Viewer = Depends(admin)):
        return render(request, "admin_rules.html", **_page(ctx))

    @r.post("/admin/rules/check")
    def rules_check(request: Request, rules: str = Form(""), viewer: Viewer = Depends(form_user)):
        admin(viewer)
        return render(request, "admin_rules.html", **_page(ctx, rules=rules, check=check_rules(ctx, rules)))

    @r.post("/admin/rules/explain")
    def rules_explain(request: Request, number: str = Form(""), viewer: Viewer = Depends(form_user)):
        admin(viewer)
        return render(request, "admin_rules.html", **_page(ctx, number=number, explain=explain(ctx, number)))

    @r.post("/admin/rules/replay")
    def rules_replay(request: Request, rules: str = Form(""), days: str = Form("30"),
                     viewer: Viewer = Depends(form_user)):
        admin(viewer)
        return render(request, "admin_rules.html",
                      **_page(ctx, rules=rules, days=days, replayed=replay_rules(ctx, rules, days)))

    return r


def _units_file(ctx) -> str:
    return str(ctx.config.path(ctx.config.units_file))


def check_rules(ctx, text: str) -> dict:
    """Every error and warning of a pasted rules file, with its line."""
    report = check_text(text, _units_file(ctx), [ch.name for ch in ctx.config.channels], file=PASTED)
    show = lambda ps: [dict(line=p.line, field=p.field, message=p.message, file=p.file) for p in ps]  # noqa: E731
    return dict(ok=report.ok, rule_count=report.rule_count, errors=show(report.errors), warnings=show(report.warnings))


def explain(ctx, number: str) -> dict:
    """Each rule the running dispatcher tries on the ticket, whether it matched and why, and what it decides."""
    number = number.strip().upper()
    dispatcher = parts.dispatcher_of(ctx)
    with ctx.db.transaction() as s:
        try:
            ticket = store.get_by_number(s, number)
        except store.TicketNotFound:
            return dict(error=f"没有编号为 {number} 的工单。")
        facts = facts_in(s, [ticket])[ticket.id]
        current = ticket.assigned_unit
    decision = dispatcher.decide(facts, explain=True)
    units = dispatcher.units
    name = lambda uid: (units.get(uid).name if uid and units.get(uid) else uid or "")  # noqa: E731
    return dict(error="", number=number, steps=[(st.rule_id, st.matched, st.why) for st in decision.trace],
                unit=name(decision.unit_id), triage=decision.triage or decision.unit_id is None,
                rule=decision.rule_id, reason=decision.reason, current=name(current),
                group=[name(u) for u in decision.group_units])


def replay_rules(ctx, text: str, days: str) -> dict:
    """Which tickets of the last `days` days the pasted rules would send elsewhere than the running rules do."""
    try:
        n = int(days)
        if not 1 <= n <= MAX_DAYS:
            raise ValueError
    except ValueError:
        return dict(error=f"回放天数请填写 1 到 {MAX_DAYS} 之间的整数。")
    report = check_text(text, _units_file(ctx), file=PASTED)
    if not report.ok:
        return dict(error="规则有误，未回放：" + "；".join(
            (f"第 {p.line} 行 " if p.line else "") + (f"{p.field}：" if p.field else "") + p.message
            for p in report.errors[:5]))
    current = parts.dispatcher_of(ctx)
    since = utcnow() - timedelta(days=n)
    session = ctx.db.sessions()
    try:
        result = replay(session, report.dispatcher, since, current)
    finally:
        session.rollback()   # read only: nothing is changed, whatever happened
        session.close()
    names = {u.id: u.name for u in current.units} | {u.id: u.name for u in report.dispatcher.units}
    name = lambda uid: "待分派" if uid == "triage" else names.get(uid, uid)  # noqa: E731
    return dict(error="", tickets=result.tickets, since=since,
                moves=[dict(number=m.number, before=name(m.before), after=name(m.after), rule=m.after_rule or "",
                            was=m.before_rule or "") for m in result.moves[:MAX_MOVES]],
                more=max(0, len(result.moves) - MAX_MOVES), total=len(result.moves))


def _page(ctx, **extra) -> dict:
    data = dict(rules="", days="30", number="", check=None, explain=None, replayed=None)
    if not extra.get("rules"):
        try:
            data["rules"] = ctx.config.path(ctx.config.rules_file).read_text(encoding="utf-8")
        except OSError:
            pass
    return data | {k: v for k, v in extra.items() if not (k == "rules" and not v)}
