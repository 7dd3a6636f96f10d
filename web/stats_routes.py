"""GET /stats: the statistics page of the back office; GET /screen: the big screen for a wall display; GET /api/stats/counts|handling|words: the same figures as
JSON for scripts and BI tools. Both for a signed-in person and limited to the units they may see; the same
functions as `onequeue stats`."""
from __future__ import annotations

import secrets

from fastapi import APIRouter, Depends, HTTPException, Request
from fastapi.responses import Response
from starlette.concurrency import run_in_threadpool

from accounts import Viewer
from stats import export, figures
from stats.models import DIMENSIONS
from stats.periods import BadPeriod, parse_period
from web import parts
from web.page_auth import PageForbidden, current_user
from web.stats_page import screen_page, stats_page
from web.templating import render


def _read(ctx, viewer: Viewer, period_text: str, read):
    try:
        period = parse_period(period_text or "this-month")
        with ctx.db.transaction() as s:
            return read(s, period, viewer.units)
    except (BadPeriod, figures.BadDimension) as exc:
        raise HTTPException(status_code=400, detail=str(exc))


def router(ctx) -> APIRouter:
    r = APIRouter()

    @r.get("/stats")
    def page(request: Request, viewer: Viewer = Depends(current_user)):
        params = request.query_params
        by = [d for d in (params.get("by") or "town", params.get("by2") or "") if d]
        try:
            period = parse_period(params.get("period") or "this-month")
            figures.check_dimensions(by)
        except (BadPeriod, figures.BadDimension) as exc:
            raise PageForbidden(f"查询条件有误：{exc}", status_code=400)
        return render(request, "stats.html", **stats_page(ctx, viewer, period, by))

    @r.get("/screen")
    def big_screen(request: Request):
        """The big screen (数字大屏) for a wall display: opened with the display token, or by a signed-in person
        who sees the whole district."""
        token = ctx.config.web.display_token
        given = request.query_params.get("token", "")
        if not (token and given and secrets.compare_digest(given.encode(), token.encode())):
            viewer = current_user(request)
            if not viewer.sees_all:
                raise PageForbidden("大屏显示全区数据，仅限可查看全区工单的人员打开。")
        return render(request, "screen.html", **screen_page(ctx))

    @r.get("/stats/report.xlsx")
    def report(request: Request, viewer: Viewer = Depends(current_user)):
        """The monthly report of ?month=2026-11 as .xlsx, limited to the units the person may see."""
        from stats.report import report_bytes

        month = request.query_params.get("month", "this-month")
        try:
            period = parse_period(month)
        except BadPeriod as exc:
            raise PageForbidden(f"查询条件有误：{exc}", status_code=400)
        if period.kind != "month":
            raise PageForbidden(f"查询条件有误：{month} 不是一个月份（如 2026-11）。", status_code=400)
        with ctx.db.transaction() as s:
            data = report_bytes(s, period, parts.stats_labels(ctx), viewer.units)
        return Response(data, media_type="application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
                        headers={"Content-Disposition": f'attachment; filename="report-{period}.xlsx"'})

    @r.get("/stats/{table}.csv")
    def csv_table(request: Request, table: str, viewer: Viewer = Depends(current_user)):
        """The page's tables as CSV: counts (with by and by2), handling or words."""
        params = request.query_params
        if table not in ("counts", "handling", "words"):
            raise PageForbidden(f"没有名为 {table} 的统计表。", status_code=404)
        by = [d for d in (params.get("by") or "town", params.get("by2") or "") if d]
        labels = parts.stats_labels(ctx)
        if table == "counts":
            data = labels.add_to(_read(ctx, viewer, params.get("period", ""),
                                       lambda s, p, scope: figures.counts(s, p, by, scope)), by)
            text = export.counts_csv(data)
        elif table == "handling":
            data = labels.add_to(_read(ctx, viewer, params.get("period", ""),
                                       lambda s, p, scope: figures.handling(s, p, scope)), ["unit"])
            text = export.handling_csv(data)
        else:
            data = _read(ctx, viewer, params.get("period", ""), lambda s, p, scope: figures.hot_words(s, p, scope))
            text = export.words_csv(data)
        name = f"{table}-{data['period']}.csv".replace("..", "_")
        return Response(text.encode("utf-8"), media_type="text/csv; charset=utf-8",
                        headers={"Content-Disposition": f'attachment; filename="{name}"'})

    @r.get("/api/stats/counts")
    async def counts(request: Request, viewer: Viewer = Depends(current_user)):
        """?period=2026-11&by=town&by=channel&town=大良街道: complaints by one dimension or two crossed."""
        by = request.query_params.getlist("by")
        filters = {d: request.query_params[d] for d in DIMENSIONS if d in request.query_params}
        data = await run_in_threadpool(_read, ctx, viewer, request.query_params.get("period", ""),
                                       lambda s, p, scope: figures.counts(s, p, by, scope, filters))
        return parts.stats_labels(ctx).add_to(data, data["by"])

    @r.get("/api/stats/handling")
    async def handling(request: Request, viewer: Viewer = Depends(current_user)):
        """?period=2026-11: per unit, accepted and resolved on time, returned, outcomes, recovered, overdue now."""
        data = await run_in_threadpool(_read, ctx, viewer, request.query_params.get("period", ""),
                                       lambda s, p, scope: figures.handling(s, p, scope))
        return parts.stats_labels(ctx).add_to(data, ["unit"])

    @r.get("/api/stats/words")
    async def words(request: Request, viewer: Viewer = Depends(current_user)):
        """?period=2026-11: the hot words (tickets containing each) and the rising ones."""
        return await run_in_threadpool(_read, ctx, viewer, request.query_params.get("period", ""),
                                       lambda s, p, scope: figures.hot_words(s, p, scope))

    return r
