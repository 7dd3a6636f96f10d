"""/admin/gazetteer: administrators see the address fragments staff sent to one station three times or more, with
the tickets, and accept one into gazetteer.yaml or reject it — the functions of `onequeue gazetteer`."""
from __future__ import annotations

from pathlib import Path
from urllib.parse import quote

from fastapi import APIRouter, Depends, Request
from fastapi.responses import RedirectResponse

from accounts import Viewer
from dispatch.gazetteer_file import gazetteer_path
from dispatch.learning import SuggestionNotFound, accept, reject, suggestions
from settings import ConfigError
from web import parts
from web.page_auth import form_user, require_role
from web.templating import render


def router(ctx) -> APIRouter:
    r = APIRouter()
    admin = require_role("admin")

    @r.get("/admin/gazetteer")
    def gazetteer_page(request: Request, done: str = "", fragment: str = "", line: str = "",
                       viewer: Viewer = Depends(admin)):
        notice = ""
        if done == "accepted":
            notice = f"已采纳：{fragment} 已写入 {_path(ctx).name} 第 {line} 行，运行中的分派将在数秒内重新加载。"
        elif done == "rejected":
            notice = f"已驳回：{fragment}。"
        return render(request, "admin_gazetteer.html", **listing(ctx, notice=notice))

    @r.post("/admin/gazetteer/{suggestion_id}/accept")
    def gazetteer_accept(request: Request, suggestion_id: int, viewer: Viewer = Depends(form_user)):
        admin(viewer)
        try:
            with ctx.db.transaction() as s:
                done = accept(s, suggestion_id, viewer.actor, _path(ctx), parts.units_of(ctx))
        except (SuggestionNotFound, ValueError) as exc:
            return render(request, "admin_gazetteer.html", status_code=409, **listing(ctx, error=str(exc)))
        except ConfigError as exc:
            problems = "；".join(p.message for p in exc.problems[:3])
            return render(request, "admin_gazetteer.html", status_code=409,
                          **listing(ctx, error=f"未写入：加上这一条，地名文件将无法加载（{problems}）"))
        return RedirectResponse(f"/admin/gazetteer?done=accepted&fragment={quote(done.fragment)}&line={done.line}",
                                status_code=303)

    @r.post("/admin/gazetteer/{suggestion_id}/reject")
    def gazetteer_reject(request: Request, suggestion_id: int, viewer: Viewer = Depends(form_user)):
        admin(viewer)
        try:
            with ctx.db.transaction() as s:
                done = reject(s, suggestion_id, viewer.actor)
        except (SuggestionNotFound, ValueError) as exc:
            return render(request, "admin_gazetteer.html", status_code=409, **listing(ctx, error=str(exc)))
        return RedirectResponse(f"/admin/gazetteer?done=rejected&fragment={quote(done.fragment)}", status_code=303)

    return r


def _path(ctx) -> Path:
    return gazetteer_path(ctx.config.path(ctx.config.units_file))


def listing(ctx, notice: str = "", error: str = "") -> dict:
    """The open suggestions the running gazetteer does not already follow, with their station's name."""
    dispatcher = parts.dispatcher_of(ctx)
    with ctx.db.transaction() as s:
        found = suggestions(s, gazetteer=dispatcher.gazetteer)
    units = dispatcher.units
    rows = [dict(id=g.id, fragment=g.fragment, station=g.station,
                 station_name=units.get(g.station).name if units.get(g.station) else g.station, tickets=g.tickets)
            for g in found]
    return dict(rows=rows, notice=notice, error=error)
