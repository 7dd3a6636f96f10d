"""GET /: the one queue, with its views, search, saved views and bulk actions; GET /events: live changes."""
from __future__ import annotations

import asyncio
import json
from typing import Optional

from fastapi import APIRouter, Depends, Request
from fastapi.responses import RedirectResponse, StreamingResponse
from starlette.concurrency import run_in_threadpool

from accounts import Viewer
from tickets import worklist
from tickets.handling import OUTCOMES
from tickets.worklist import VIEWS, BadQuery, Filters
from web import parts
from web.page_auth import PageForbidden, current_user, form_user
from web.rows import row_of, worklist_viewer
from web.templating import render

PAGE_SIZE = 50
LIVE_SECONDS = 25  # one stream lasts this long; the browser reconnects by itself


def router(ctx) -> APIRouter:
    r = APIRouter()

    @r.get("/")
    def queue(request: Request, viewer: Viewer = Depends(current_user)):
        params = dict(request.query_params)
        try:
            filters = Filters.from_query(params)
        except BadQuery as exc:
            raise PageForbidden(f"查询条件有误：{exc}", status_code=400)
        return render(request, "queue.html", **queue_page(ctx, viewer, filters, params.get("after")))

    @r.post("/views")
    async def save_view(request: Request, viewer: Viewer = Depends(form_user)):
        form = await request.form()
        try:
            filters = Filters.from_query({k: str(v) for k, v in form.items()})
        except BadQuery as exc:
            raise PageForbidden(f"查询条件有误：{exc}", status_code=400)
        shared = viewer.unit_id if form.get("share") and viewer.has_role("lead") else None
        with ctx.db.transaction() as s:
            try:
                worklist.save_view(s, viewer.login, str(form.get("name") or ""), filters, shared_unit=shared)
            except ValueError:
                raise PageForbidden("请给视图起个名字。", status_code=400)
        return RedirectResponse("/?" + filters.query_string(), status_code=303)

    @r.post("/views/{view_id}/delete")
    async def delete_view(view_id: int, viewer: Viewer = Depends(form_user)):
        with ctx.db.transaction() as s:
            try:
                worklist.delete_view(s, viewer.login, view_id)
            except ValueError:
                raise PageForbidden("只能删除自己保存的视图。", status_code=404)
        return RedirectResponse("/", status_code=303)

    @r.get("/events")
    async def events(request: Request, after: Optional[int] = None, viewer: Viewer = Depends(current_user)):
        """Server-sent events: `changed` with the numbers of the tickets this person sees that changed."""
        wl_viewer = worklist_viewer(viewer, parts.units_of(ctx))

        def changes(since: Optional[int]):
            with ctx.db.transaction() as s:
                return worklist.changes_since(s, since, wl_viewer)

        async def stream():
            last = after if after is not None else (await run_in_threadpool(changes, None))[0]
            yield f"retry: 2000\nevent: hello\ndata: {json.dumps({'last': last})}\n\n"
            for _ in range(LIVE_SECONDS):
                await asyncio.sleep(1)
                if await request.is_disconnected():
                    return
                newest, numbers = await run_in_threadpool(changes, last)
                if newest != last:
                    last = newest
                    if numbers:
                        yield f"event: changed\ndata: {json.dumps({'last': last, 'numbers': numbers})}\n\n"

        return StreamingResponse(stream(), media_type="text/event-stream",
                                 headers={"Cache-Control": "no-store", "X-Accel-Buffering": "no"})

    return r


def queue_page(ctx, viewer: Viewer, filters: Filters, after: Optional[str]) -> dict:
    """Everything the queue page shows, read in one transaction."""
    units = parts.units_of(ctx)
    wl_viewer = worklist_viewer(viewer, units)
    moments = parts.moments(ctx)
    labels = parts.channel_labels(ctx)
    with ctx.db.transaction() as s:
        try:
            page = worklist.find(s, filters, moments, wl_viewer, limit=PAGE_SIZE, after=after)
        except BadQuery as exc:
            raise PageForbidden(f"查询条件有误：{exc}", status_code=400)
        counts = worklist.view_counts(s, moments, wl_viewer)
        matching = worklist.count(s, filters, moments, wl_viewer)
        saved = [(v.id, v.name, v.query, v.owner == viewer.login)
                 for v in worklist.saved_views(s, viewer.login, sorted(wl_viewer.own_units))]
        last_event, _ = worklist.changes_since(s, None, wl_viewer)
        rows = [row_of(t, units, labels, parts.deadlines_of(ctx), moments.now) for t in page.tickets]
    towns = sorted({u.town for u in units if u.kind in ("branch", "station") and u.town})
    return dict(filters=filters, views=VIEWS, counts=counts, cap=worklist.COUNT_CAP, rows=rows,
                next_after=page.next_after, first_page=after is not None, matching=matching, saved=saved,
                channels=labels, towns=towns, last_event=last_event, sort=filters.order, outcomes=OUTCOMES,
                bulk_units=[(u.id, u.name) for u in units if u.kind != "bureau"])
