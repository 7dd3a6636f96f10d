"""GET /health: the same figures as `onequeue health --json` for operators (the health token, or a signed-in
administrator); anyone else gets the counts only — channel names, errors and file paths stay inside."""
from __future__ import annotations

import secrets
from typing import Optional

from fastapi import APIRouter, Request

from accounts import session_viewer
from tickets.health import collect
from web.page_auth import SESSION_COOKIE, units_of

COUNTS = ("tickets", "sms", "outbox")


def is_operator(ctx, request: Request) -> bool:
    """The request carries the configured health token, or comes from a signed-in administrator."""
    token: Optional[str] = ctx.config.web.health_token
    given = request.headers.get("authorization", "")
    if token and given.startswith("Bearer ") and secrets.compare_digest(given[7:].strip(), token):
        return True
    session = request.cookies.get(SESSION_COOKIE)
    if not session:
        return False
    with ctx.db.transaction() as s:
        viewer = session_viewer(s, session, units_of(ctx))
    return viewer is not None and viewer.has_role("admin")


def router(ctx) -> APIRouter:
    r = APIRouter()

    @r.get("/health")
    def health(request: Request) -> dict:
        figures = collect(ctx.config, ctx.db)
        if is_operator(ctx, request):
            return figures
        return {key: figures[key] for key in COUNTS} | {
            "channels_failing": sum(1 for ch in figures["channels"] if ch["error_count"]),
            "more": "send Authorization: Bearer <web.health_token>, or sign in as an administrator, for all figures"}

    return r
