"""GET /tickets/NUMBER: everything known of a ticket; POST /tickets/NUMBER/ACTION: one action on it; POST /bulk:
one action on many tickets, each in its own transaction."""
from __future__ import annotations

from fastapi import APIRouter, Depends, Request
from fastapi.responses import RedirectResponse

from accounts import Viewer, can_see
from tickets import TransitionError, store, worklist
from tickets.worklist import BadQuery, Filters
from web import parts
from web.actions import ACTIONS, BULK_ACTIONS, ActionRefused
from web.dossier import dossier_of
from web.page_auth import PageForbidden, current_user, form_user
from web.rows import worklist_viewer
from web.templating import render

BULK_CAP = 500
# Refusals of the state machine, as staff read them.
REFUSED = "工单当前为「{status}」，不能{action}。"


def router(ctx) -> APIRouter:
    r = APIRouter()

    @r.get("/tickets/{number}")
    def ticket_page(request: Request, number: str, viewer: Viewer = Depends(current_user)):
        return render(request, "ticket.html", **_page(ctx, viewer, number, done=request.query_params.get("done")))

    @r.post("/tickets/{number}/{action}")
    async def act(request: Request, number: str, action: str, viewer: Viewer = Depends(form_user)):
        if action not in ACTIONS:
            raise PageForbidden(f"没有「{action}」这个操作。", status_code=404)
        form = await request.form()
        error = run_action(ctx, viewer, number, action, form)
        if error is None:
            return RedirectResponse(f"/tickets/{number}?done={action}", status_code=303)
        return render(request, "ticket.html", status_code=409,
                      **_page(ctx, viewer, number, error=error, failed=action))

    @r.post("/bulk")
    async def bulk(request: Request, viewer: Viewer = Depends(form_user)):
        if not viewer.has_role("lead"):
            raise PageForbidden("批量操作需要组长权限。")
        form = await request.form()
        action = str(form.get("action") or "")
        if action not in BULK_ACTIONS:
            raise PageForbidden("请选择批量操作：改派、办结或备注。", status_code=400)
        numbers = [str(n) for n in form.getlist("numbers")]
        if form.get("all_matching"):
            numbers = _all_matching(ctx, viewer, str(form.get("query") or ""))
        if not numbers:
            raise PageForbidden("没有选中任何工单。", status_code=400)
        results = [(n, run_action(ctx, viewer, n, action, form)) for n in numbers[:BULK_CAP]]
        return render(request, "bulk_result.html", action=ACTIONS[action].label, results=results,
                      back="/?" + str(form.get("query") or ""), left_out=max(0, len(numbers) - BULK_CAP))

    return r


def run_action(ctx, viewer: Viewer, number: str, action: str, form) -> str | None:
    """Run one action on one ticket in its own transaction; None when done, else why not (in Chinese)."""
    from tickets.vocabulary import status_label

    try:
        with ctx.db.transaction() as s:
            ticket = store.get_by_number(s, number, for_update=True)
            if not can_see(viewer, ticket):
                return f"您无权处理工单 {number}。"
            ACTIONS[action].run(ctx, s, ticket, viewer, form)
    except store.TicketNotFound:
        return f"没有编号为 {number} 的工单。"
    except TransitionError as exc:
        return REFUSED.format(status=status_label(exc.from_status), action=ACTIONS[action].label)
    except ActionRefused as exc:
        return str(exc)
    except LookupError as exc:  # an unknown unit
        return f"操作未完成：{exc}"
    except ValueError as exc:  # the part's own refusal (a reason missing, a deadline that cannot move, ...)
        return f"操作未完成：{exc}"
    return None


def _all_matching(ctx, viewer: Viewer, query: str) -> list[str]:
    from urllib.parse import parse_qsl

    try:
        filters = Filters.from_query(dict(parse_qsl(query)))
    except BadQuery as exc:
        raise PageForbidden(f"查询条件有误：{exc}", status_code=400)
    with ctx.db.transaction() as s:
        ids = worklist.all_ids(s, filters, parts.moments(ctx), worklist_viewer(viewer, parts.units_of(ctx)),
                               cap=BULK_CAP + 1)
        return worklist.numbers_of(s, ids)


def _page(ctx, viewer: Viewer, number: str, **extra) -> dict:
    with ctx.db.transaction() as s:
        try:
            ticket = store.get_by_number(s, number)
        except store.TicketNotFound:
            raise PageForbidden(f"没有编号为 {number} 的工单。", status_code=404)
        if not can_see(viewer, ticket):
            raise PageForbidden(f"工单 {number} 不在您的单位的管辖范围内，无权查看。")
        data = dossier_of(ctx, s, ticket, viewer)
    return data | extra
