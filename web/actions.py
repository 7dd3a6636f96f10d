"""The actions staff take on a ticket from a page, each mapped from a form onto the one function of the part that
owns it (the same the command line and the SMS replies call). The ticket page and the bulk form share them."""
from __future__ import annotations

from dataclasses import dataclass
from decimal import Decimal, InvalidOperation
from typing import Callable, Optional

from sqlalchemy.orm import Session

from accounts import Viewer, can_see
from tickets import Ticket, duplicates, handling, store
from web import parts


class ActionRefused(ValueError):
    """Shown to the person as it is: says why in Chinese."""


@dataclass(frozen=True)
class Action:
    label: str
    run: Callable  # (ctx, session, ticket, viewer, form) -> None
    lead_only: bool = False


def _text(form, name: str, what: str) -> str:
    value = " ".join(str(form.get(name) or "").split())
    if not value:
        raise ActionRefused(f"请填写{what}。")
    return value


def _unit(ctx, form, viewer: Viewer):
    unit_id = str(form.get("unit") or "").strip()
    unit = parts.units_of(ctx).get(unit_id)
    if unit is None:
        raise ActionRefused("请选择承办单位（在单位列表中搜索并选择）。")
    if not viewer.has_role("lead") and not viewer.sees_all and unit.id not in viewer.units:
        raise ActionRefused("改派到本单位管辖范围以外的单位需要组长权限。")
    return unit


def _unit_name(ctx, ticket: Ticket) -> str:
    unit = parts.units_of(ctx).get(ticket.assigned_unit) if ticket.assigned_unit else None
    return unit.name if unit else (ticket.assigned_unit or "")


def dispatch_to(ctx, s: Session, ticket: Ticket, viewer: Viewer, form) -> None:
    """派发 and 改派: the ticket goes to the chosen unit, whose contacts are texted."""
    from dispatch.reassign import reassign_and_text

    unit = _unit(ctx, form, viewer)
    default = "人工派发" if ticket.status in ("triage", "new", "returned") else None
    reason = str(form.get("reason") or "").strip() or default
    if not reason:
        raise ActionRefused("改派需要填写原因。")
    reassign_and_text(s, ticket.number, parts.units_of(ctx), unit.id, viewer.actor, reason,
                      parts.sms_template(ctx, "dispatched"))


def accept(ctx, s, ticket, viewer, form) -> None:
    handling.accept(s, ticket, viewer.actor, _unit_name(ctx, ticket))


def contact(ctx, s, ticket, viewer, form) -> None:
    handling.mark_contacted(s, ticket, viewer.actor, "web")


def resolution_of(form) -> tuple[str, Optional[str], Optional[Decimal]]:
    """The result, its outcome and the amount recovered, as a resolution form gives them (back office, station)."""
    result = _text(form, "result", "办理结果")
    outcome = str(form.get("outcome") or "") or None
    amount_text = str(form.get("recovered_amount") or "").strip().replace(",", "")
    try:
        amount = Decimal(amount_text) if amount_text else None
    except InvalidOperation:
        raise ActionRefused("挽回经济损失请填写金额（元），例如 1200 或 35.5。")
    if amount is not None and (not amount.is_finite() or amount >= Decimal("1e12")):
        raise ActionRefused("挽回经济损失金额不正确。")
    return result, outcome, amount


def resolve(ctx, s, ticket, viewer, form) -> None:
    result, outcome, amount = resolution_of(form)
    handling.resolve(s, ticket, viewer.actor, result, _unit_name(ctx, ticket), outcome=outcome,
                     recovered_amount=amount)


def return_(ctx, s, ticket, viewer, form) -> None:
    handling.return_to_source(s, ticket, viewer.actor, _text(form, "reason", "退回原因"))


def note(ctx, s, ticket, viewer, form) -> None:
    handling.add_note(s, ticket, viewer.actor, _text(form, "text", "备注内容"))


def suspend(ctx, s, ticket, viewer, form) -> None:
    from sla import suspend as suspend_clocks

    suspend_clocks(s, parts.deadlines_of(ctx), ticket, _text(form, "reason", "挂起原因"), viewer.actor)


def resume(ctx, s, ticket, viewer, form) -> None:
    from sla import resume as resume_clocks

    resume_clocks(s, parts.deadlines_of(ctx), ticket, str(form.get("reason") or "恢复办理"), viewer.actor)


def extend(ctx, s, ticket, viewer, form) -> None:
    from sla import extend as extend_clock

    # By the working days the ticket's deadline policy allows, once.
    extend_clock(s, parts.deadlines_of(ctx), ticket, _text(form, "reason", "延期原因"), viewer.actor)


def called_back(ctx, s, ticket, viewer, form) -> None:
    """已回访: staff called back a complainant who was not satisfied; the ticket leaves the 回访 view."""
    from tickets.followup import mark_called_back

    mark_called_back(s, ticket, viewer.actor, _text(form, "text", "回访情况"))


def link(ctx, s, ticket, viewer, form) -> None:
    number = _text(form, "primary", "主工单编号").upper()
    try:
        primary = store.get_by_number(s, number)
    except store.TicketNotFound:
        raise ActionRefused(f"没有编号为 {number} 的工单。")
    if not can_see(viewer, primary):
        raise ActionRefused(f"您无权查看工单 {number}。")
    duplicates.link(s, ticket, primary, viewer.actor)


def unlink(ctx, s, ticket, viewer, form) -> None:
    duplicates.unlink(s, ticket, viewer.actor)


ACTIONS: dict[str, Action] = {
    "dispatch": Action("派发", dispatch_to),
    "reassign": Action("改派", dispatch_to),
    "accept": Action("受理", accept),
    "contact": Action("已联系", contact),
    "resolve": Action("办结", resolve),
    "return": Action("退回", return_),
    "suspend": Action("挂起", suspend),
    "resume": Action("恢复", resume),
    "extend": Action("延期", extend),
    "link": Action("关联", link),
    "unlink": Action("取消关联", unlink),
    "note": Action("备注", note),
    "callback": Action("已回访", called_back),
}

BULK_ACTIONS = ("reassign", "resolve", "note")
