"""Everything the ticket page shows, gathered from the parts' own reading functions (no SQL here): the fields,
the source record, the history, the clocks, the SMS and replies, the write-backs, the linked duplicates, and
which actions the person may take now."""
from __future__ import annotations

import json
from typing import Optional

from sqlalchemy.orm import Session

from accounts import Viewer
from notify.links import without_token
from notify.queries import list_received, list_sent
from settings.masking import mask_phone, mask_text
from sla.clocks import clocks_of
from sla.remaining import remaining
from stats.figures import counted_as
from tickets import Ticket, duplicates, followup, handling
from tickets.attachments import photos_of
from tickets.db import utcnow
from tickets.states import TRANSITIONS
from tickets.worklist import changes_since
from tickets.vocabulary import kind_label, priority_label, status_label
from web import parts
from writeback.queries import list_outbox

HISTORY_WORDS = {
    "received": "收到工单", "triage": "转待分派", "dispatched": "派发", "accepted": "受理", "contacted": "已联系",
    "in_progress": "处理中", "resolved": "办结", "closed": "关闭", "returned": "退回", "rejected": "不予受理",
    "withdrawn": "撤销", "note": "备注", "source_updated": "来源更新", "sla_suspended": "挂起", "sla_resumed": "恢复",
    "sla_extended": "延期", "duplicate_linked": "关联为重复件", "duplicate_added": "新增重复件",
    "duplicate_unlinked": "取消关联", "duplicate_removed": "重复件取消关联", "duplicate_released": "重复件恢复办理",
    "result_shared": "同步办理结果", "reminder": "催办", "escalated": "督办", "sla_breached": "超期",
    "reassign_requested": "请求改派", "photos_added": "上传照片", "rated": "满意度评价", "called_back": "已回访",
}
CLOCK_WORDS = {"first_contact": "首次联系", "acceptance": "受理时限", "resolution": "办结时限", "verification": "核查时限"}
SMS_WORDS = {"pending": "待发送", "sending": "发送中", "sent": "已发送", "delivered": "已送达", "undelivered": "未送达",
             "failed": "发送失败", "held": "暂缓（免打扰时段）", "cancelled": "已取消（对方已退订）"}
PURPOSE_WORDS = {"dispatched": "派单通知", "recalled": "撤回通知", "reminder": "催办", "escalation": "督办",
                 "escalated": "督办", "reply": "回复", "digest": "待办汇总", "progress_accepted": "告知投诉人受理",
                 "progress_resolved": "告知投诉人结果", "progress_rated": "感谢评价", "progress_stopped": "退订确认"}
VIA_WORDS = {"sms": "短信回复", "web": "后台", "station": "服务站手机页面", "page": "投诉人进度页面"}
OUTBOX_WORDS = {"pending": "待回填", "delivered": "已回填", "dead": "回填失败（死信）"}
EFFECT_WORDS = {"accepted": "签收", "resolved": "办结结果", "returned": "退回", "rejected": "不予受理"}
# Results a unit writes most often; the person may pick one and edit it.
COMMON_RESULTS = (
    "经调解，商家同意全额退款，消费者表示满意。",
    "经调解，商家同意部分退款，双方达成和解。",
    "经调解，商家同意维修/更换商品，消费者表示接受。",
    "经调解双方未能达成一致，已告知消费者可通过仲裁或诉讼途径解决。",
    "经核查，该投诉不属于本部门职责范围，已告知消费者向有关部门反映。",
    "已向消费者解答相关政策法规，消费者表示理解。",
)
WORKING = ("dispatched", "accepted", "in_progress")


def dossier_of(ctx, s: Session, ticket: Ticket, viewer: Viewer) -> dict:
    units = parts.units_of(ctx)
    deadlines = parts.deadlines_of(ctx)
    now = utcnow()
    labels = parts.channel_labels(ctx)
    unit = units.get(ticket.assigned_unit) if ticket.assigned_unit else None
    clocks = []
    for c in clocks_of(s, [ticket.id]).get(ticket.id, []):
        left = remaining(deadlines.calendar, c.due_at, now, deadlines.hours(c)) \
            if c.due_at and c.stopped_at is None and c.suspended_at is None else None
        clocks.append(dict(name=CLOCK_WORDS.get(c.clock, c.clock), due_at=c.due_at, left=left,
                           stopped_at=c.stopped_at, suspended=c.suspended_at is not None,
                           breached=c.breached_at is not None, extended=c.extended_days))
    history = [dict(at=e.at, actor=actor_label(e.actor), action=HISTORY_WORDS.get(e.action, e.action),
                    move=(status_label(e.from_status), status_label(e.to_status)) if e.to_status else None,
                    detail=_detail(e.detail, units)) for e in ticket.events]
    sent = [dict(at=m.message.created_at, purpose=PURPOSE_WORDS.get(m.message.purpose, m.message.purpose), to=mask_phone(m.message.to_phone),
                 status=SMS_WORDS.get(m.message.status, m.message.status), body=without_token(m.message.body),
                 error=mask_text(m.message.last_error)) for m in list_sent(s, ticket_id=ticket.id, limit=100)]
    replies = [dict(at=m.message.received_at, sender=mask_phone(m.message.from_phone), body=m.message.body,
                    outcome=m.message.outcome) for m in list_received(s, ticket_id=ticket.id, limit=100)]
    outbox = [dict(effect=EFFECT_WORDS.get(o.effect, o.effect), status=OUTBOX_WORDS.get(o.status, o.status),
                   attempts=o.attempts, error=mask_text(o.last_error), at=o.delivered_at or o.created_at)
              for o in list_outbox(s, ticket_id=ticket.id, limit=100)]
    primary = s.get(Ticket, ticket.duplicate_of) if ticket.duplicate_of else None
    loop = followup.followup_of(s, ticket.id)
    dups = duplicates.duplicates_of(s, ticket)
    return dict(
        t=ticket, kind=kind_label(ticket.kind), priority=priority_label(ticket.priority),
        status=status_label(ticket.status), channel=labels.get(ticket.channel, ticket.channel),
        unit_name=unit.name if unit else "", clocks=clocks,
        station_name=(units.get(ticket.station).name if ticket.station and units.get(ticket.station) else ""), history=history, sent=sent, replies=replies,
        outbox=outbox, primary=primary, duplicates=dups,
        notes=[h for h in history if h["action"] == "备注"],
        payload=json.dumps(ticket.payload, ensure_ascii=False, indent=2, default=str),
        satisfaction=_satisfaction(loop),
        actions=allowed_actions(ticket, viewer) | ({"callback"} if loop and loop.callback == "due" else set()),
        writes_back=parts.writes_back(ctx, ticket.channel),
        explanation=_explanation(ctx, s, ticket) if ticket.status == "triage" else None,
        units=[(u.id, u.name) for u in units if u.kind != "bureau"],
        outcomes=handling.OUTCOMES, common_results=COMMON_RESULTS, done=None, error=None, failed=None,
        last_event=changes_since(s, None)[0], photos=photos_of(s, ticket.id),
        counted=_counted(ctx, s, ticket),
    )


def _counted(ctx, s: Session, ticket: Ticket) -> Optional[dict]:
    """How the statistics count the ticket: its industry and business district and why, and its hot words."""
    counted = counted_as(s, ticket.id)
    if counted is None:
        return None
    return {**counted, "industry_name": parts.industries_of(ctx).name(counted["industry"]),
            "district_name": parts.districts_of(ctx).name(counted["district"]) if counted["district"] else ""}


def allowed_actions(ticket: Ticket, viewer: Viewer) -> set[str]:
    """The actions the page offers for the ticket's status (the parts still check each one)."""
    status, moves = ticket.status, TRANSITIONS.get(ticket.status, frozenset())
    out = {"note"}
    if status in ("triage", "new", "returned") and (viewer.sees_all or viewer.has_role("lead")):
        out.add("dispatch")
    if status in WORKING:
        out |= {"reassign", "contact", "suspend", "resume", "extend"}
    if "accepted" in moves:
        out.add("accept")
    if "resolved" in moves or status == "dispatched":
        out.add("resolve")
    if "returned" in moves:
        out.add("return")
    if "duplicate" in moves:
        out.add("link")
    if status == "duplicate":
        out.add("unlink")
    return out


def _satisfaction(loop) -> Optional[dict]:
    """What the complainant answered and whether a call-back is due, for the ticket page."""
    if loop is None or (loop.rating is None and loop.asked_at is None):
        return None
    return dict(rating=loop.rating, words=followup.RATING_WORDS.get(loop.rating, ""), at=loop.rated_at,
                via={"sms": "短信", "page": "进度页面"}.get(loop.rated_via or "", ""), callback=loop.callback,
                done_at=loop.callback_done_at)


def actor_label(actor: str) -> str:
    """Who did a step, as the history shows it: 短信：name, 服务站：name, 来源系统, ..."""
    kind, _, who = actor.partition(":")
    return {"user": who, "sms": f"短信：{who}", "connector": "来源系统", "dispatch": "自动派发",
            "sla": "时限监控", "station": f"服务站：{who}", "complainant": "投诉人"}.get(kind, actor) \
        if who or kind in ("dispatch", "sla", "complainant") else actor


def _detail(detail: dict, units) -> str:
    if not detail:
        return ""
    words = []
    for key, label in (("unit", "承办单位"), ("previous_unit", "原单位"), ("reason", "原因"), ("result", "结果"),
                       ("text", ""), ("of", "主工单"), ("duplicate", "重复件"), ("via", "方式")):
        value = detail.get(key)
        if value:
            if key in ("unit", "previous_unit"):
                unit = units.get(value)
                value = unit.name if unit else value
            elif key == "via":
                value = VIA_WORDS.get(value, value)
            words.append(f"{label}：{value}" if label else str(value))
    if detail.get("outcome"):
        words.append(f"结果类型：{handling.OUTCOMES.get(detail['outcome'], detail['outcome'])}")
    if detail.get("rating"):
        words.append(f"满意度：{detail['rating']}分（{followup.RATING_WORDS.get(detail['rating'], '')}）"
                     + ("，需回访" if detail.get("call_back") else ""))
    if detail.get("recovered_amount"):
        words.append(f"挽回经济损失：{detail['recovered_amount']} 元")
    return "；".join(words)


def _explanation(ctx, s: Session, ticket: Ticket) -> Optional[list[tuple[str, bool, str]]]:
    """Why no rule decided: each rule tried, whether it matched, and why (the dispatcher's own trace, on the
    same facts dispatch reads, the watch list included)."""
    from dispatch.job import facts_in

    try:
        decision = parts.dispatcher_of(ctx).decide(facts_in(s, [ticket])[ticket.id])
    except Exception:  # an explanation is a help, never a reason for the page to fail
        return None
    return [tuple(step) for step in (decision.trace or [])][:40]
