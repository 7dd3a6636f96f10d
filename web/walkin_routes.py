"""/walkin: registering by hand (人工下单) a phone call or a visitor, with a warning when the same phone or business
already has an open ticket, and the upload of a station's visit register (.xlsx)."""
from __future__ import annotations

import tempfile
from pathlib import Path

from fastapi import APIRouter, Depends, Request
from fastapi.responses import RedirectResponse

from accounts import Viewer, can_see
from connectors.walk_in import (KINDS, Visit, check_phone, parse_amount, read_register, register_max_rows,
                                visit_ticket, walk_in_channel)
from tickets import store
from tickets.intake import register
from tickets.queries import open_tickets_like
from web import parts
from web.page_auth import PageForbidden, current_user, form_user
from web.templating import render

FIELDS = ("station", "name", "phone", "kind", "business", "address", "amount", "text")
MAX_UPLOAD = 10 * 1024 * 1024


def router(ctx) -> APIRouter:
    r = APIRouter()

    @r.get("/walkin")
    def walkin_page(request: Request, done: str = "", viewer: Viewer = Depends(current_user)):
        return render(request, "walkin.html", **_page(ctx, viewer, done=done))

    @r.post("/walkin")
    async def walkin_register(request: Request, viewer: Viewer = Depends(form_user)):
        form = {name: str((await request.form()).get(name) or "").strip() for name in FIELDS + ("anyway",)}
        channel = _channel(ctx)
        errors, visit = _visit(ctx, viewer, form)
        if errors:
            return render(request, "walkin.html", status_code=400, **_page(ctx, viewer, form=form, errors=errors))
        with ctx.db.transaction() as s:
            if not form["anyway"]:
                open_ones = [(t.number, t.title, t.status) for t in
                             open_tickets_like(s, phone=visit.phone, business=visit.business)]
                if open_ones:
                    return render(request, "walkin.html", status_code=409,
                                  **_page(ctx, viewer, form=form, similar=open_ones))
            got = register(s, channel, "walk_in", visit_ticket(visit))
            number, visible = got.ticket.number, can_see(viewer, got.ticket)
        if visible:
            return RedirectResponse(f"/tickets/{number}", status_code=303)
        return RedirectResponse(f"/walkin?done={number}", status_code=303)

    @r.post("/walkin/register-file")
    async def walkin_upload(request: Request, viewer: Viewer = Depends(form_user)):
        form = await request.form()
        upload = form.get("file")
        station = _station_of(ctx, viewer, str(form.get("station") or ""))
        page = dict(upload_station=str(form.get("station") or ""))
        if station is None:
            return render(request, "walkin.html", status_code=400,
                          **_page(ctx, viewer, upload_error="请选择登记簿所属的服务站。", **page))
        if upload is None or not getattr(upload, "filename", ""):
            return render(request, "walkin.html", status_code=400,
                          **_page(ctx, viewer, upload_error="请选择要上传的来访登记簿（.xlsx 文件）。", **page))
        data = await upload.read(MAX_UPLOAD + 1)
        if len(data) > MAX_UPLOAD:
            return render(request, "walkin.html", status_code=400,
                          **_page(ctx, viewer, upload_error="文件超过 10 MB，请拆分后上传。", **page))
        result = import_register(ctx, station, Path(upload.filename).name, data)
        status = 400 if result["error"] else 200
        return render(request, "walkin.html", status_code=status, **_page(ctx, viewer, upload=result, **page))

    return r


def _channel(ctx) -> str:
    try:
        return walk_in_channel(ctx.config.channels)
    except LookupError:
        raise PageForbidden("未配置「来人来访」渠道（walk_in），无法人工登记。请管理员在 config.yaml 中添加。", 503)


def stations_for(ctx, viewer: Viewer) -> list:
    """The stations a person may register visits at: their own if they work at one, else those in their scope."""
    units = parts.units_of(ctx)
    own = units.get(viewer.unit_id)
    if own is not None and own.kind == "station":
        return [own]
    return [u for u in units if u.kind == "station" and (viewer.sees_all or u.id in viewer.units)]


def _station_of(ctx, viewer: Viewer, station_id: str):
    stations = stations_for(ctx, viewer)
    if len(stations) == 1:
        return stations[0]
    return next((u for u in stations if u.id == station_id), None)


def _visit(ctx, viewer: Viewer, form: dict) -> tuple[dict, Visit | None]:
    """The form as a visit, or what is wrong with each field (in Chinese, beside it)."""
    errors: dict[str, str] = {}
    station = _station_of(ctx, viewer, form["station"])
    if station is None:
        errors["station"] = "请选择受理的服务站。"
    try:
        phone = check_phone(form["phone"])
    except ValueError:
        errors["phone"] = "请填写有效的联系电话：11 位手机号或带区号的固定电话（如 0757-22221234）。"
    if form["kind"] not in KINDS:
        errors["kind"] = "请选择诉求类型。"
    if not form["text"]:
        errors["text"] = "请填写诉求内容。"
    amount = None
    try:
        amount = parse_amount(form["amount"])
    except ValueError:
        errors["amount"] = "涉及金额请填写数字（元），例如 1200 或 35.5。"
    if errors:
        return errors, None
    return {}, Visit(station=station.id, name=form["name"] or None, phone=phone, text=form["text"],
                     kind=KINDS[form["kind"]], business=form["business"] or None, address=form["address"] or None,
                     amount=amount,
                     receptionist=viewer.login)


def import_register(ctx, station, file_name: str, data: bytes) -> dict:
    """A station's register stored: how many visits went in, how many were in already, each bad row's error."""
    channel = _channel(ctx)
    with tempfile.TemporaryDirectory() as folder:
        path = Path(folder) / (file_name if file_name.endswith(".xlsx") else "register.xlsx")
        path.write_bytes(data)
        try:
            records, errors = read_register(path, station.id, max_rows=register_max_rows(ctx.config.channels, channel))
        except ValueError as exc:
            return dict(error=f"{file_name}：{exc}", created=0, repeated=0, errors=[], file=file_name)
        except Exception:  # openpyxl raises many kinds for a file that is not a workbook
            return dict(error=f"{file_name} 不是可读取的 .xlsx 工作簿。", created=0, repeated=0, errors=[],
                        file=file_name)
    with ctx.db.transaction() as s:
        result = store.ingest(s, channel, "walk_in", records)
    return dict(error="", created=len(result.created), repeated=len(records) - len(result.created),
                errors=[(e.row, e.reason) for e in errors], file=file_name, station=station.name)


def _page(ctx, viewer: Viewer, form: dict | None = None, errors: dict | None = None, **extra) -> dict:
    stations = stations_for(ctx, viewer)
    empty = {name: "" for name in FIELDS} | {"kind": "投诉"}
    data = dict(form=form or empty, errors=errors or {}, stations=[(u.id, u.name) for u in stations],
                kinds=list(KINDS), similar=[], upload=None, upload_error="", upload_station="", done="")
    return data | extra
