"""The station's phone page behind the SMS link: GET /m/TOKEN (the link's ticket, or a digest's list), /m/TOKEN/list
(the unit's open tickets, due first), /m/TOKEN/t/NUMBER (one of them), POST /m/TOKEN/digits (the last four digits
of the phone the SMS went to) and POST /m/TOKEN/t/NUMBER/ACTION. Plain forms, no script; a route parses, calls
one function of notify.station, renders."""
from __future__ import annotations

import secrets
from typing import Optional

from fastapi import APIRouter, Request
from fastapi.responses import RedirectResponse
from starlette.datastructures import UploadFile

from notify import links
from notify.links import LinkRefused
from notify.station import ACTIONS, NeedsDigits, NotOfUnit, Station, Step, act, open_station, ticket_of
from tickets.attachments import MAX_PHOTOS, NotAnImage
from tickets.states import TransitionError
from tickets.vocabulary import status_label
from web import parts
from web.actions import ActionRefused, resolution_of
from web.page_auth import set_cookie
from web.station_view import ticket_view, unit_list_view
from web.templating import render

DEVICE_COOKIE = "oq_station"
DIGITS_CSRF_COOKIE = "oq_station_form"
COOKIE_PATH = "/m/"
REFUSALS = {
    "unknown": "链接无效。请核对短信中的链接。",
    "expired": "链接已过期。请使用最新短信中的链接，或登录后台办理。",
    "revoked": "该工单已不由本单位办理（已改派、退回或撤销），此链接已失效。",
    "locked": "后四位号码输错次数过多，此链接已锁定。请使用新短信中的链接，或联系后台。",
}
ACTION_WORDS = {"accept": "受理", "contact": "已联系", "resolve": "办结", "return": "退回", "reassign": "请求改派"}


def router(ctx) -> APIRouter:
    r = APIRouter()

    def refused(request: Request, reason: str):
        status = 404 if reason == "unknown" else 410 if reason in ("expired", "revoked") else 423
        return render(request, "station_refused.html", status_code=status, message=REFUSALS[reason])

    def digits_page(request: Request, token: str, status_code: int = 200, error: str = ""):
        form_token = secrets.token_urlsafe(16)
        response = render(request, "station_digits.html", status_code=status_code, token=token, error=error,
                          form_token=form_token)
        set_cookie(response, ctx, DIGITS_CSRF_COOKIE, form_token, 3600, path=COOKIE_PATH)
        return response

    def opened(request: Request, token: str):
        """The station behind the link, or the page to show instead (refused, or the four digits asked)."""
        with ctx.db.transaction() as s:
            try:
                return open_station(s, token, request.cookies.get(DEVICE_COOKIE), parts.units_of(ctx)), None
            except LinkRefused as exc:
                return None, refused(request, exc.reason)
            except NeedsDigits:
                return None, digits_page(request, token)

    def page(request: Request, token: str, station: Station, number: Optional[str], status_code: int = 200,
             **extra):
        form_token = links.csrf_token(request.cookies.get(DEVICE_COOKIE, ""))
        with ctx.db.transaction() as s:
            if number is None:
                return render(request, "station_list.html", token=token, **unit_list_view(ctx, s, station),
                              done=ACTION_WORDS.get(request.query_params.get("done") or ""))
            try:
                ticket = ticket_of(s, station, number)
            except NotOfUnit:
                return render(request, "station_refused.html", status_code=404,
                              message=f"工单 {number} 不在本单位的待办工单中。", token=token)
            data = ticket_view(ctx, s, station, ticket)
        extra.setdefault("done", ACTION_WORDS.get(request.query_params.get("done") or ""))
        extra.setdefault("error", None)
        return render(request, "station_ticket.html", status_code=status_code, token=token, form_token=form_token,
                      action_words=ACTION_WORDS, **data | extra)

    @r.get("/m/{token}")
    def link_page(request: Request, token: str):
        station, instead = opened(request, token)
        if instead is not None:
            return instead
        return page(request, token, station, station.ticket_number)

    @r.get("/m/{token}/list")
    def unit_list(request: Request, token: str):
        station, instead = opened(request, token)
        return instead if instead is not None else page(request, token, station, None)

    @r.get("/m/{token}/t/{number}")
    def other_ticket(request: Request, token: str, number: str):
        station, instead = opened(request, token)
        return instead if instead is not None else page(request, token, station, number)

    @r.post("/m/{token}/digits")
    async def digits(request: Request, token: str):
        form = await request.form()
        expected = request.cookies.get(DIGITS_CSRF_COOKIE) or ""
        if not expected or not secrets.compare_digest(str(form.get("form_token") or ""), expected):
            return digits_page(request, token, 403, "页面已过期，请重新输入。")
        try:
            with ctx.db.transaction() as s:
                tried = links.try_digits(s, token, str(form.get("digits") or ""))
        except LinkRefused as exc:
            return refused(request, exc.reason)
        if not tried.ok:
            if tried.tries_left == 0:
                return refused(request, "locked")
            return digits_page(request, token, 403, f"号码后四位不正确，还可尝试 {tried.tries_left} 次。")
        response = RedirectResponse(f"/m/{token}", status_code=303)
        set_cookie(response, ctx, DEVICE_COOKIE, tried.device_secret,
                   int(links.link_settings().remember_days * 86400), path=COOKIE_PATH)
        response.delete_cookie(DIGITS_CSRF_COOKIE, path=COOKIE_PATH)
        return response

    @r.post("/m/{token}/t/{number}/{action}")
    async def do(request: Request, token: str, number: str, action: str):
        station, instead = opened(request, token)
        if instead is not None:
            return instead
        if action not in ACTIONS:
            return render(request, "station_refused.html", status_code=404, message="没有这个操作。", token=token)
        form = await request.form()
        expected = links.csrf_token(request.cookies.get(DEVICE_COOKIE, ""))
        if not secrets.compare_digest(str(form.get("form_token") or ""), expected):
            return page(request, token, station, number, 403, error="页面已过期，请刷新后重新提交。")
        try:
            step = await _step(action, form)
            with ctx.db.transaction() as s:
                ticket = ticket_of(s, station, number, for_update=True)
                act(s, station, ticket, step, ctx.config.station.photo_max_bytes)
        except NotOfUnit:
            return render(request, "station_refused.html", status_code=404,
                          message=f"工单 {number} 不在本单位的待办工单中。", token=token)
        except TransitionError as exc:
            return page(request, token, station, number, 409,
                        error=f"工单当前为「{status_label(exc.from_status)}」，不能{ACTION_WORDS[action]}。")
        except (ActionRefused, NotAnImage) as exc:
            return page(request, token, station, number, 400, error=str(exc))
        except ValueError as exc:
            return page(request, token, station, number, 400, error=f"未完成：{exc}")
        after = f"/m/{token}/list" if action in ("return", "reassign") else f"/m/{token}/t/{number}"
        return RedirectResponse(f"{after}?done={action}", status_code=303)

    return r


async def _step(action: str, form) -> Step:
    """The action as the form gives it; ActionRefused (in Chinese) when something is missing."""
    if action == "resolve":
        files = form.getlist("photos")
        fields = {k: v for k, v in form.multi_items() if not isinstance(v, UploadFile)}
        if not str(fields.get("result") or "").strip():
            fields["result"] = fields.get("common_result") or ""  # a common result picked, nothing written
        result, outcome, amount = resolution_of(fields)
        photos = [await f.read() for f in files if isinstance(f, UploadFile) and f.filename]
        photos = [p for p in photos if p]
        if len(photos) > MAX_PHOTOS:
            raise ActionRefused(f"最多上传 {MAX_PHOTOS} 张照片。")
        return Step(action, result=result, outcome=outcome, recovered_amount=amount, photos=tuple(photos))
    if action in ("return", "reassign"):
        reason = " ".join(str(form.get("reason") or "").split())
        if not reason:
            raise ActionRefused("请填写原因。")
        return Step(action, reason=reason)
    return Step(action)
