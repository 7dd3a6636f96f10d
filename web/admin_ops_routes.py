"""/admin/channels, /admin/quarantine, /admin/dead-letters, /admin/sms: what operators watch and re-drive —
each channel's pull, the records set aside, the write-backs given up on, the SMS that did not arrive."""
from __future__ import annotations

from fastapi import APIRouter, Depends, Form, Request
from fastapi.responses import RedirectResponse

from accounts import Viewer
from connectors import build_connector
from connectors.reread import CannotReread, reread
from notify.queries import list_sent
from settings.masking import mask_phone, mask_text
from tickets import Ticket
from tickets.quarantine import QuarantineRefused, discard, get_quarantined, take_in
from tickets.queries import list_quarantined
from web import parts
from web.page_auth import form_user, require_role
from web.templating import render
from writeback import retry_dead
from writeback.queries import list_outbox

LIMIT = 200
UNDELIVERED = ("undelivered", "failed")
NOTICES = {"discarded": "已丢弃隔离记录 {id}。", "taken": "隔离记录 {id} 已重新接收为工单 {number}。",
           "retried": "已将 {n} 条死信重新放回回填队列。"}


def router(ctx) -> APIRouter:
    r = APIRouter()
    admin = require_role("admin")

    @r.get("/admin/channels")
    def channels(request: Request, viewer: Viewer = Depends(admin)):
        return render(request, "admin_channels.html", **channels_page(ctx))

    @r.get("/admin/quarantine")
    def quarantine(request: Request, done: str = "", id: str = "", number: str = "", all: str = "",
                   viewer: Viewer = Depends(admin)):
        notice = NOTICES[done].format(id=id, number=number) if done in ("discarded", "taken") else ""
        return render(request, "admin_quarantine.html", **quarantine_page(ctx, bool(all), notice=notice))

    @r.post("/admin/quarantine/{record_id}/discard")
    def quarantine_discard(request: Request, record_id: int, reason: str = Form(""),
                           viewer: Viewer = Depends(form_user)):
        admin(viewer)
        try:
            with ctx.db.transaction() as s:
                discard(s, record_id, reason, viewer.actor)
        except (LookupError, QuarantineRefused) as exc:
            return render(request, "admin_quarantine.html", status_code=409,
                          **quarantine_page(ctx, error=str(exc), failed=record_id))
        return RedirectResponse(f"/admin/quarantine?done=discarded&id={record_id}", status_code=303)

    @r.post("/admin/quarantine/{record_id}/take-in")
    def quarantine_take_in(request: Request, record_id: int, viewer: Viewer = Depends(form_user)):
        admin(viewer)
        try:
            number = take_in_again(ctx, record_id, viewer.actor)
        except (LookupError, QuarantineRefused) as exc:
            return render(request, "admin_quarantine.html", status_code=409,
                          **quarantine_page(ctx, error=str(exc), failed=record_id))
        return RedirectResponse(f"/admin/quarantine?done=taken&id={record_id}&number={number}", status_code=303)

    @r.get("/admin/dead-letters")
    def dead_letters(request: Request, done: str = "", n: int = 0, viewer: Viewer = Depends(admin)):
        notice = NOTICES["retried"].format(n=n) if done == "retried" else ""
        return render(request, "admin_dead_letters.html", **dead_letters_page(ctx, notice=notice))

    @r.post("/admin/dead-letters/retry")
    async def dead_letters_retry(request: Request, viewer: Viewer = Depends(form_user)):
        admin(viewer)
        form = await request.form()
        ids = [int(i) for i in form.getlist("id") if str(i).isdigit()]
        if not ids and not form.get("all"):
            return render(request, "admin_dead_letters.html", status_code=400,
                          **dead_letters_page(ctx, error="请选择要重试的死信，或点「全部重试」。"))
        with ctx.db.transaction() as s:
            n = retry_dead(s, None if form.get("all") else ids)
        return RedirectResponse(f"/admin/dead-letters?done=retried&n={n}", status_code=303)

    @r.get("/admin/sms")
    def sms(request: Request, viewer: Viewer = Depends(admin)):
        return render(request, "admin_sms.html", **sms_page(ctx))

    return r


def channels_page(ctx) -> dict:
    from tickets.health import collect

    figures = collect(ctx.config, ctx.db)
    return dict(channels=figures["channels"], labels=parts.channel_labels(ctx), outbox=figures["outbox"],
                sms=figures["sms"], rules=figures["rules"])


def quarantine_page(ctx, everything: bool = False, **extra) -> dict:
    labels = parts.channel_labels(ctx)
    with ctx.db.transaction() as s:
        rows = [dict(id=q.id, channel=labels.get(q.channel, q.channel), source_ref=q.source_ref, reason=q.reason,
                     raw=q.raw, at=q.created_at, resolution=q.resolution, note=q.resolution_note,
                     resolved_at=q.resolved_at, by=q.resolved_by)
                for q in list_quarantined(s, limit=LIMIT) if everything or q.resolved_at is None]
    return dict(records=rows, everything=everything, notice="", error="", failed=None) | extra


def take_in_again(ctx, record_id: int, actor: str) -> str:
    """Read a quarantined record again from its channel's source and store it; the new ticket's number."""
    with ctx.db.transaction() as s:
        channel = get_quarantined(s, record_id).channel
    config = next((ch for ch in ctx.config.channels if ch.name == channel), None)
    if config is None:
        raise QuarantineRefused(f"渠道 {channel} 已不在配置中，无法从来源重新读取。")
    connector = build_connector(config.name, config.kind, config.settings)
    try:
        with ctx.db.transaction() as s:
            return take_in(s, record_id, config.kind, lambda ref, since: reread(connector, ref, since), actor).number
    except CannotReread as exc:
        raise QuarantineRefused(str(exc))
    except Exception as exc:  # the source could not be reached: say so, the record stays where it is
        if isinstance(exc, (LookupError, QuarantineRefused)):
            raise
        raise QuarantineRefused(f"暂时无法连接来源系统（{type(exc).__name__}），请稍后再试。")


def dead_letters_page(ctx, **extra) -> dict:
    labels = parts.channel_labels(ctx)
    with ctx.db.transaction() as s:
        rows = []
        for o in list_outbox(s, status="dead", limit=LIMIT):
            ticket = s.get(Ticket, o.ticket_id) if o.ticket_id else None
            rows.append(dict(id=o.id, channel=labels.get(o.channel, o.channel), source_ref=o.source_ref,
                             effect=o.effect, attempts=o.attempts, error=mask_text(o.last_error), at=o.created_at,
                             number=ticket.number if ticket else ""))
    return dict(letters=rows, notice="", error="") | extra


def sms_page(ctx) -> dict:
    with ctx.db.transaction() as s:
        rows = [dict(id=m.message.id, number=m.ticket_number, to=mask_phone(m.message.to_phone),
                     unit=m.message.unit_id, purpose=m.message.purpose, status=m.message.status,
                     error=mask_text(m.message.last_error), code=m.message.error_code, at=m.message.created_at,
                     body=m.message.body)
                for status in UNDELIVERED for m in list_sent(s, status=status, limit=LIMIT)]
    rows.sort(key=lambda m: m["id"], reverse=True)
    units = parts.units_of(ctx)
    for m in rows:
        unit = units.get(m["unit"]) if m["unit"] else None
        m["unit"] = unit.name if unit else (m["unit"] or "")
    return dict(messages=rows)
