"""GET /p/TOKEN: a complainant's progress page, opened from their SMS without signing in; POST /p/TOKEN: their
satisfaction answer (1-5). The token in the address is the only key, so the page shows nothing personal: the
number, the kind, the status in words, the handling unit and the dates."""
from __future__ import annotations

from fastapi import APIRouter, Request
from fastapi.responses import RedirectResponse

from notify.complainant import rate_on_page
from tickets import followup
from tickets.vocabulary import kind_label
from web import parts
from web.templating import render

# The status as a complainant reads it.
STATUS_WORDS = {
    "new": "已收到，正在分派", "triage": "已收到，正在分派", "dispatched": "已派发至承办单位",
    "accepted": "承办单位已受理", "in_progress": "正在办理", "resolved": "已办结", "closed": "已办结",
    "returned": "已退回", "rejected": "不予受理", "withdrawn": "已撤销", "duplicate": "已与同一事项合并办理",
}
# A link's address is a key: it is neither cached, indexed nor passed on to another site.
PRIVATE = {"Referrer-Policy": "no-referrer", "X-Robots-Tag": "noindex, nofollow", "Cache-Control": "no-store"}


def router(ctx) -> APIRouter:
    r = APIRouter()

    def page(request: Request, token: str, status_code: int = 200, **extra):
        with ctx.db.transaction() as s:
            found = followup.progress(s, token)
        if found is None:
            response = render(request, "progress_missing.html", status_code=404)
        else:
            unit = parts.units_of(ctx).get(found.unit_id) if found.unit_id else None
            response = render(request, "progress.html", status_code=status_code, p=found, token=token,
                              kind=kind_label(found.kind), status=STATUS_WORDS.get(found.status, "正在办理"),
                              unit_name=unit.name if unit else "", words=followup.RATING_WORDS,
                              rated=request.query_params.get("rated") == "1", **extra)
        response.headers.update(PRIVATE)
        return response

    @r.get("/p/{token}")
    def progress_page(request: Request, token: str):
        return page(request, token)

    @r.post("/p/{token}")
    async def rate(request: Request, token: str):
        form = await request.form()
        try:
            rating = int(str(form.get("rating") or ""))
        except ValueError:
            rating = 0
        try:
            with ctx.db.transaction() as s:
                rate_on_page(s, token, rating)
        except followup.NotRateable:
            return page(request, token, status_code=409, error="未能提交评价：请选择1-5分；每件工单办结后可评价一次。")
        return RedirectResponse(f"/p/{token}?rated=1", status_code=303, headers=PRIVATE)

    return r
