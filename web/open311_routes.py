"""Open311 GeoReport v2 at /open311/v2: services, requests (POST and GET) and requests/{id}, as JSON or XML."""
from __future__ import annotations

import json
from datetime import datetime, timedelta, timezone
from typing import Any, Optional
from urllib.parse import parse_qsl
from xml.etree import ElementTree as ET

from fastapi import APIRouter, Request
from fastapi.concurrency import run_in_threadpool
from fastapi.responses import Response

from connectors import build_enabled
from connectors.open311 import (
    CLOSED,
    UNWANTED,
    Open311Connector,
    Open311Error,
    parse_w3c,
    request_json,
    service_json,
)
from tickets.models import Ticket
from tickets.queries import find_in_channel, search_channel
from web.receive import receive

FORMATS = {"json": "application/json; charset=utf-8", "xml": "text/xml; charset=utf-8"}


def _xml_value(value: Any) -> str:
    if value is None:
        return ""
    if isinstance(value, bool):
        return "true" if value else "false"
    return UNWANTED.sub("", str(value))  # a character XML cannot hold would break the feed for every client


def render(fmt: str, data: Any, root: str, item: str, status: int = 200) -> Response:
    """`data` as Open311 JSON (a list of objects) or XML (<root><item>…</item></root>)."""
    if fmt == "json":
        return Response(json.dumps(data, ensure_ascii=False), status_code=status, media_type=FORMATS["json"])
    top = ET.Element(root)
    for obj in data:
        node = ET.SubElement(top, item)
        for key, value in obj.items():
            ET.SubElement(node, key).text = _xml_value(value)
    body = b'<?xml version="1.0" encoding="utf-8"?>' + ET.tostring(top, encoding="utf-8", xml_declaration=False)
    return Response(body, status_code=status, media_type=FORMATS["xml"])


async def read_form(request: Request) -> dict[str, str]:
    """The form's text fields; a URL-encoded body is read as UTF-8, raw or percent-encoded (not as Latin-1)."""
    if request.headers.get("content-type", "").split(";")[0].strip().lower() == "application/x-www-form-urlencoded":
        try:
            body = (await request.body()).decode("utf-8")
        except UnicodeDecodeError:
            raise Open311Error(400, "the form is not UTF-8") from None
        return dict(parse_qsl(body, keep_blank_values=True, encoding="utf-8", errors="replace"))
    return {k: v for k, v in (await request.form()).items() if isinstance(v, str)}


def error(fmt: str, status: int, description: str) -> Response:
    return render(fmt if fmt in FORMATS else "json", [{"code": status, "description": description}],
                  "errors", "error", status)


def router(ctx) -> APIRouter:
    r = APIRouter()
    channels: dict[str, Open311Connector] = build_enabled(ctx.config.channels, kinds={"open311"})

    def unit_name(unit_id: Optional[str]) -> str:
        unit = ctx.units().get(unit_id) if unit_id else None
        return unit.name if unit else (unit_id or "")

    def pick(fmt: str, jurisdiction: Optional[str]) -> tuple[str, Open311Connector]:
        if fmt not in FORMATS:
            raise Open311Error(404, "the format is json or xml")
        if not channels:
            raise Open311Error(404, "no Open311 channel is configured")
        for name, conn in channels.items():
            if jurisdiction is None or conn.config.jurisdiction_id in (None, jurisdiction):
                return name, conn
        raise Open311Error(404, f"jurisdiction_id {jurisdiction!r} is not served here")

    def notes(ticket: Ticket) -> str:
        if ticket.result_text:
            return ticket.result_text
        for ev in reversed(ticket.events):
            if ev.to_status in CLOSED and isinstance(ev.detail, dict) and ev.detail.get("reason"):
                return ev.detail["reason"]
        return ""

    def as_request(ticket: Ticket) -> dict:
        return request_json(ticket, unit_name(ticket.assigned_unit), notes(ticket))

    @r.get("/open311/v2/services.{fmt}")
    def services(fmt: str, jurisdiction_id: Optional[str] = None) -> Response:
        try:
            _, conn = pick(fmt, jurisdiction_id)
        except Open311Error as exc:
            return error(fmt, exc.status, exc.description)
        return render(fmt, [service_json(s) for s in conn.config.services], "services", "service")

    @r.post("/open311/v2/requests.{fmt}")
    async def create(fmt: str, request: Request) -> Response:
        try:
            form = await read_form(request)
            name, conn = pick(fmt, form.get("jurisdiction_id") or request.query_params.get("jurisdiction_id"))
            record = conn.accept(form)
        except Open311Error as exc:
            return error(fmt, exc.status, exc.description)
        got = await run_in_threadpool(receive, ctx.db, name, "open311", record)
        return render(fmt, [{"service_request_id": got.number, "service_notice": conn.config.service_notice,
                             "account_id": None}], "service_requests", "request", 201)

    @r.get("/open311/v2/requests.{fmt}")
    def search(fmt: str, service_request_id: Optional[str] = None, service_code: Optional[str] = None,
               start_date: Optional[str] = None, end_date: Optional[str] = None, status: Optional[str] = None,
               jurisdiction_id: Optional[str] = None) -> Response:
        try:
            name, conn = pick(fmt, jurisdiction_id)
            numbers, start, end = None, None, None
            if service_request_id:
                numbers = [i.strip() for i in service_request_id.split(",") if i.strip()]
            else:  # the spec's defaults: the last 90 days, at most 90 days at once
                end = parse_w3c(end_date, "end_date") if end_date else datetime.now(timezone.utc)
                start = parse_w3c(start_date, "start_date") if start_date else end - timedelta(days=90)
                if end - start > timedelta(days=90):
                    raise Open311Error(400, "start_date and end_date may not span more than 90 days")
            wanted = {s.strip() for s in (status or "").split(",") if s.strip()}
            if wanted - {"open", "closed"}:
                raise Open311Error(400, "status is open, closed or both")
            codes = {c.strip() for c in (service_code or "").split(",") if c.strip()}
        except Open311Error as exc:
            return error(fmt, exc.status, exc.description)
        with ctx.db.transaction() as s:
            tickets = search_channel(s, name, numbers=numbers, received_from=start, received_to=end,
                                     finished=wanted == {"closed"} if len(wanted) == 1 else None,
                                     finished_statuses=CLOSED, service_codes=codes, limit=conn.config.max_results)
            found = [as_request(ticket) for ticket in tickets]
        return render(fmt, found, "service_requests", "request")

    @r.get("/open311/v2/requests/{request_id}.{fmt}")
    def one(request_id: str, fmt: str, jurisdiction_id: Optional[str] = None) -> Response:
        try:
            name, _ = pick(fmt, jurisdiction_id)
        except Open311Error as exc:
            return error(fmt, exc.status, exc.description)
        with ctx.db.transaction() as s:
            ticket = find_in_channel(s, name, request_id)
            if ticket is None:
                return error(fmt, 404, f"no service request {request_id!r}")
            return render(fmt, [as_request(ticket)], "service_requests", "request")

    return r
