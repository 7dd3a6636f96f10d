"""The one Jinja2 environment of the pages: autoescaped templates from web/templates, with filters for China
time and for masking personal data."""
from __future__ import annotations

from datetime import datetime, timezone
from pathlib import Path
from typing import Any, Optional

from fastapi import Request
from fastapi.responses import HTMLResponse
from jinja2 import Environment, FileSystemLoader, StrictUndefined, select_autoescape

from settings.masking import mask_name, mask_phone
from tickets.vocabulary import CHINA_TZ, kind_label, priority_label, status_label

TEMPLATES = Path(__file__).with_name("templates")
STATIC = Path(__file__).with_name("static")
PRODUCT_NAME = "一站式投诉工单"


def china_time(value: Optional[datetime], fmt: str = "%Y-%m-%d %H:%M") -> str:
    """A UTC (or aware) time as China time, `2026-11-30 14:05`; empty for None."""
    if value is None:
        return ""
    if value.tzinfo is None:
        value = value.replace(tzinfo=timezone.utc)
    return value.astimezone(CHINA_TZ).strftime(fmt)


def china_date(value: Optional[datetime]) -> str:
    return china_time(value, "%Y-%m-%d")


def _mask_phone(value: Optional[str]) -> str:
    return mask_phone(value) if value else ""


def _mask_name(value: Optional[str]) -> str:
    return mask_name(value) if value else ""


env = Environment(loader=FileSystemLoader(str(TEMPLATES)), autoescape=select_autoescape(["html"]),
                  undefined=StrictUndefined, trim_blocks=True, lstrip_blocks=True)
env.filters.update(china_time=china_time, china_date=china_date, mask_phone=_mask_phone, mask_name=_mask_name,
                   kind_label=kind_label, priority_label=priority_label, status_label=status_label)
env.globals.update(product_name=PRODUCT_NAME)


def render(request: Request, template: str, status_code: int = 200, **context: Any) -> HTMLResponse:
    """Render a page; the signed-in viewer (if any) and its CSRF token are available to every template."""
    viewer = getattr(request.state, "viewer", None)
    context.setdefault("viewer", viewer)
    context.setdefault("csrf_token", getattr(request.state, "csrf_token", "") or (viewer.csrf_token if viewer else ""))
    context.setdefault("path", request.url.path)
    html = env.get_template(template).render(**context)
    return HTMLResponse(html, status_code=status_code, headers={"Cache-Control": "no-store"})
