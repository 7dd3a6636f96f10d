"""/alerts (预警): leads and administrators see the early-warning alerts with their tickets, acknowledge them and
close them with a note — the functions of `onequeue alerts`."""
from __future__ import annotations

from fastapi import APIRouter, Depends, Form, Request
from fastapi.responses import RedirectResponse

from accounts import Viewer
from watch import alerts
from web.page_auth import form_user, require_role
from web.templating import render

VIEWS = {"active": "未关闭", "closed": "已关闭", "all": "全部"}


def router(ctx) -> APIRouter:
    r = APIRouter()
    lead = require_role("lead")

    def page(request: Request, view: str = "active", status_code: int = 200, notice: str = "", error: str = ""):
        view = view if view in VIEWS else "active"
        with ctx.db.transaction() as s:
            rows = alerts.listing(s, None if view == "all" else view, limit=200)
        return render(request, "alerts.html", status_code=status_code, rows=rows, view=view, views=VIEWS,
                      notice=notice, error=error)

    @r.get("/alerts")
    def alerts_page(request: Request, view: str = "active", done: str = "", id: int = 0,
                    viewer: Viewer = Depends(lead)):
        notice = {"ack": f"预警 {id} 已确认。", "close": f"预警 {id} 已关闭。"}.get(done, "")
        return page(request, view, notice=notice)

    def step(request: Request, alert_id: int, viewer: Viewer, what: str, action):
        lead(viewer)
        try:
            with ctx.db.transaction() as s:
                action(s)
        except (alerts.AlertNotFound, alerts.AlertRefused) as exc:
            return page(request, status_code=409, error=str(exc))
        return RedirectResponse(f"/alerts?done={what}&id={alert_id}", status_code=303)

    @r.post("/alerts/{alert_id}/ack")
    def alert_ack(request: Request, alert_id: int, note: str = Form(""), viewer: Viewer = Depends(form_user)):
        return step(request, alert_id, viewer, "ack",
                    lambda s: alerts.acknowledge(s, alert_id, viewer.actor, note))

    @r.post("/alerts/{alert_id}/close")
    def alert_close(request: Request, alert_id: int, note: str = Form(""), viewer: Viewer = Depends(form_user)):
        return step(request, alert_id, viewer, "close", lambda s: alerts.close(s, alert_id, viewer.actor, note))

    return r
